"""Nothing reached from a GET appends (README, Layers): on an empty log (a deployment whose
seeding did not run), reads answer from what is there and record no event, not even the default
policy, which only the migrations and `manage.py seed_governance` record."""

from __future__ import annotations

import pytest

from eventstore.models import Event
from governance.errors import PolicyMissing
from governance.queries import current_policy
from tests.api.conftest import client_for
from tests.conftest import make_user

EXPORT_RECORDS = ("lineage.ExportStarted", "lineage.ExportCompleted")


@pytest.fixture
def admin_api(pristine_ledger):
    return client_for(make_user("ada-admin", superuser=True))


def test_policy_list_is_empty_and_appends_nothing_when_no_policy_is_recorded(admin_api):
    response = admin_api.get("/api/v1/policies/")
    assert response.status_code == 200, response.content
    assert response.json()["results"] == []
    assert admin_api.get("/api/v1/policies/1/").status_code == 404
    assert not Event.objects.exists()


def test_current_policy_is_an_error_not_an_append_when_no_policy_is_recorded(pristine_ledger):
    with pytest.raises(PolicyMissing, match="seed_governance"):
        current_policy()
    assert not Event.objects.exists()


def test_every_get_without_path_parameters_appends_nothing_when_the_log_is_empty(admin_api):
    schema = admin_api.get("/api/schema/?format=json").json()
    reads = [path for path, ops in schema["paths"].items() if "{" not in path and "get" in ops]
    assert "/api/v1/policies/" in reads
    for path in reads:
        response = admin_api.get(path)
        assert response.status_code < 500, (path, response.content)
        # Exports record who exported what (README, "Exports"): an access record by design,
        # the one kind of event a GET writes.
        appended = Event.objects.exclude(type__in=EXPORT_RECORDS)
        assert not appended.exists(), (path, [event.type for event in appended])
