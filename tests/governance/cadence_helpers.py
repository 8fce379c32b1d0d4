"""Helpers that bring a model version to an approved state through the commands."""

from __future__ import annotations

from approvals import commands as approvals
from approvals import streams as approval_streams
from eventstore import store
from tests.approvals.conftest import actor_of, approve, governed_version, unique_name

QUORUMS = {"low": {"model-risk": 1}, "medium": {"model-risk": 1}}


def approved_version(cast, evidence_store, tier: str = "high", *, before_request=None):
    """A model of `tier` whose version 1 holds a granted production approval;
    `before_request(model, version)` adds evidence before approval is asked for."""
    model, version = governed_version(cast, evidence_store, tier, unique_name(f"{tier}-model"))
    if before_request is not None:
        before_request(model, version)
    request = approvals.request_approval(actor=actor_of(cast.owner), model_id=model.id, number=1)
    boards = QUORUMS.get(tier, {"model-risk": 2, "legal": 1, "ethics": 1})
    if tier == "critical":
        boards = {"model-risk": 2, "legal": 1, "ethics": 2, "security": 1}
    for board, quorum in boards.items():
        for index in range(quorum):
            approve(cast, request.id, board, index)
    request = approval_streams.load_request(request.id)
    assert request.status == "approved"
    return model, version, request


def event_types(stream_id) -> list[str]:
    return [e.type.split(".")[1] for e in store.read_stream(stream_id)]
