"""/metrics: Prometheus text for operators and auditors, refused to everyone else."""

import pytest
from django.contrib.auth.models import Group
from prometheus_client.parser import text_string_to_metric_families

from tests.api.conftest import client_for

pytestmark = pytest.mark.django_db
SCRAPER_ACCEPT = (
    "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
)


def _samples(response) -> dict[tuple[str, tuple], float]:
    families = text_string_to_metric_families(response.content.decode())
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in families
        for sample in family.samples
    }


def test_metrics_report_the_log_outbox_and_governance_when_scraped_by_staff(
    owner_api, model, django_user_model
):
    owner_api.post("/api/v1/models/fraud-detector/versions/", {}, format="json")
    staff = django_user_model.objects.create_user("ops", is_staff=True)
    response = client_for(staff).get("/metrics", HTTP_ACCEPT=SCRAPER_ACCEPT)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    assert "no-store" in response["Cache-Control"]
    samples = _samples(response)
    assert samples[("ledger_log_position", ())] >= 3
    assert samples[("ledger_model_versions", (("status", "draft"),))] == 1
    assert samples[("ledger_events_not_sequenced", ())] >= 3
    assert ("ledger_outbox_pending", ()) in samples
    assert ("ledger_outbox_unfinished", ()) in samples
    assert samples[("ledger_periodic_reviews_open", (("timing", "overdue"),))] == 0
    assert ("process_resident_memory_bytes", ()) in samples


def test_auditors_read_metrics_when_in_the_auditors_group(django_user_model):
    auditor = django_user_model.objects.create_user("auditor-m")
    auditor.groups.add(Group.objects.get(name="auditors"))
    assert client_for(auditor).get("/metrics").status_code == 200


def test_metrics_are_refused_when_anonymous_or_not_an_operator(client, outsider_api):
    anonymous = client.get("/metrics")
    assert anonymous.status_code == 401
    assert anonymous["Content-Type"].startswith("application/problem+json")
    denied = outsider_api.get("/metrics")
    assert denied.status_code == 403
    assert denied.json()["code"] == "permission_denied"
