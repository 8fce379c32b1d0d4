"""Approval reads after changes through the commands: who sees a request, which requests wait
for a reviewer's decision, and a request read by someone who may not see it."""

from __future__ import annotations

import pytest

from approvals import queries
from approvals.errors import RequestNotFound
from tests.approvals.conftest import approve, governed_version, request_for, unique_name
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def ids(queryset) -> set[str]:
    return {str(pk) for pk in queryset.values_list("id", flat=True)}


def test_a_request_is_seen_by_its_boards_and_the_models_team_and_no_one_else(
    cast, evidence_store, outsider
):
    model, _ = governed_version(cast, evidence_store, "low", unique_name("seen"))
    request = request_for(cast, model)
    mine = {request.id}
    auditor = make_user("ava-auditor", perms=(queries.VIEW_PERM,))
    for user in (cast.owner, cast.reviewer("model-risk", 1), cast.admin, auditor):
        assert ids(queries.visible_requests(user)) == mine, user
        assert queries.get_request(request.id, user=user).id == request.id
    for user in (outsider, None):
        assert ids(queries.visible_requests(user)) == set(), user
    with pytest.raises(RequestNotFound):
        queries.get_request(request.id, user=outsider)


def test_a_request_waits_for_a_reviewer_until_they_decide_on_it(cast, evidence_store):
    model, _ = governed_version(cast, evidence_store, "high", unique_name("pending"))
    request = request_for(cast, model)
    first, second = cast.reviewer("model-risk", 1), cast.reviewer("model-risk", 2)
    assert ids(queries.pending_for(first)) == {request.id}
    assert ids(queries.pending_for(second)) == {request.id}
    assert ids(queries.pending_for(cast.owner)) == set()  # on no board
    approve(cast, request.id, "model-risk", 1)  # the first of the two model-risk needs
    assert ids(queries.pending_for(first)) == set()
    assert ids(queries.pending_for(second)) == {request.id}
    assert ids(queries.pending_for(cast.reviewer("legal"))) == {request.id}
