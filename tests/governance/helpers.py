"""Helpers of the governance tests (and of the approvals, API, lineage and browser tests that
drive governance): a version brought to an approved state through the commands, a model of a
tier, a reported incident, and evaluation rows and data for bias audits."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from approvals import commands as approvals
from approvals import streams as approval_streams
from eventstore import store
from governance import commands as governance
from governance.commands import incidents
from tests.approvals.conftest import (
    INTAKE,
    actor_of,
    approve,
    governed_version,
    registered_version,
    unique_name,
    upload,
)

QUORUMS = {"low": {"model-risk": 1}, "medium": {"model-risk": 1}}


def approved_version(
    cast,
    evidence_store,
    tier: str = "high",
    *,
    before_request=None,
    artifact: bool = True,
    audited: bool = True,
):
    """A model of `tier` whose version 1 holds a granted production approval;
    `before_request(model, version)` adds evidence (and, when not `artifact`, the version's
    artifact) before approval is asked for. Not `audited`: no evaluation data nor audit (the
    approval is granted all the same; the gate would refuse the promotion)."""
    model, version = governed_version(
        cast,
        evidence_store,
        tier,
        unique_name(f"{tier}-model"),
        artifact=artifact,
        audited=audited,
    )
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


# -- bias audits ---------------------------------------------------------------------------

SPEC = {"attributes": ["sex"], "label": "label", "prediction": "prediction"}


def rows(rate_a: float, rate_b: float, n: int = 100) -> list[dict]:
    """n rows per group; the first rate*n of each group are selected, labels alternate."""
    out = []
    for group, rate in (("a", rate_a), ("b", rate_b)):
        for i in range(n):
            out.append({"sex": group, "label": i % 2, "prediction": 1 if i < rate * n else 0})
    return out


def as_csv(data: list[dict]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["sex", "label", "prediction"])
    writer.writeheader()
    writer.writerows(data)
    return buffer.getvalue().encode()


def attach_evaluation_data(cast, evidence_store, model, version, data: list[dict]) -> None:
    document = upload(evidence_store, version, "evaluation_data", as_csv(data), "eval.csv")
    governance.attach_evidence(
        actor=actor_of(cast.owner),
        model_id=model.id,
        number=1,
        kind="evaluation_data",
        summary={"audit_spec": SPEC},
        **document,
    )


# -- incidents -------------------------------------------------------------------------------

# The moment the incident helpers report an incident become known, unless told otherwise.
INCIDENT_AWARE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def model_of_tier(cast, tier: str):
    """A model of `tier` (intake answered, tier confirmed by the risk officer), version 1."""
    model, _ = registered_version(cast.owner, unique_name(f"{tier}-model"))
    governance.record_intake(actor=actor_of(cast.owner), model_id=model.id, answers=INTAKE[tier])
    governance.assign_risk_tier(actor=actor_of(cast.officer), model_id=model.id)
    return model


def report(cast, model, *, actor=None, classes=("serious",), aware=INCIDENT_AWARE, **extra):
    return incidents.report_incident(
        actor=actor or actor_of(cast.owner),
        model_id=model.id,
        title=extra.pop("title", "credit limits set to zero"),
        description=extra.pop("description", "a feature pipeline fault zeroed limits"),
        occurred_at=extra.pop("occurred_at", aware - timedelta(hours=2)),
        became_aware_at=aware,
        classes=list(classes),
        **extra,
    )
