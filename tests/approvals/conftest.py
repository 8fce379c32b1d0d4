"""Personas and helpers for the governance workflow: boards with members, a risk officer,
evidence uploaded to a real artifact store, and API clients for each person."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from approvals import commands as approvals
from boards import commands as board_commands
from core.actors import Actor
from governance import commands as governance
from governance import queries as governance_queries
from governance.policy import MODEL_CARD_FIELDS
from registry import artifacts
from registry import commands as registry
from registry.commands import VersionInput
from tests.api.conftest import client_for
from tests.conftest import make_user, seed_ledger

MEMBERS = {
    "model-risk": ("rosa-risk", "raj-risk", "rin-risk"),
    "legal": ("lena-legal",),
    "ethics": ("eli-ethics", "emma-ethics"),
    "security": ("sam-security",),
}
INTAKE = {
    "low": {
        "use_case": "internal search ranking",
        "affected_people": "internal",
        "automated_decisions": False,
        "significant_effects": False,
        "personal_data": False,
        "special_category_data": False,
        "regulated_domain": "none",
        "safety_component": False,
    },
    "medium": {
        "use_case": "marketing targeting",
        "affected_people": "consumers",
        "automated_decisions": True,
        "significant_effects": False,
        "personal_data": True,
        "special_category_data": False,
        "regulated_domain": "marketing",
        "safety_component": False,
    },
    "high": {
        "use_case": "credit scoring",
        "affected_people": "consumers",
        "automated_decisions": True,
        "significant_effects": True,
        "personal_data": True,
        "special_category_data": False,
        "regulated_domain": "credit",
        "safety_component": False,
    },
    "critical": {
        "use_case": "triage of radiology images",
        "affected_people": "vulnerable_groups",
        "automated_decisions": True,
        "significant_effects": True,
        "personal_data": True,
        "special_category_data": True,
        "regulated_domain": "healthcare",
        "safety_component": True,
    },
}


def model_card(name: str, number: int) -> dict[str, Any]:
    card: dict[str, Any] = {field: f"{field} of {name}" for field in MODEL_CARD_FIELDS}
    card.update(name=name, version=str(number), metrics={"auc": 0.91, "slice": "all"})
    return card


@dataclass
class Cast:
    admin: Any
    owner: Any
    officer: Any
    members: dict[str, list[Any]]

    def reviewer(self, board: str, index: int = 0) -> Any:
        return self.members[board][index]


@pytest.fixture
def evidence_store(tmp_path, settings) -> artifacts.ArtifactStore:
    settings.S3_BUCKET = None
    settings.ARTIFACT_ROOT = tmp_path / "artifacts"
    return artifacts.get_store()


@pytest.fixture
def cast(owner, team) -> Cast:
    """Boards seeded as the migration does, each with members; rosa chairs model-risk and is
    the model-risk officer (governance.assign_risk_tier)."""
    admin = make_user("ada-admin", superuser=True)
    admin_actor = Actor.user(admin, auth_method="session")
    seed_ledger()  # a no-op unless the test emptied the log
    members: dict[str, list[Any]] = {}
    for board, names in MEMBERS.items():
        members[board] = []
        for name in names:
            perms = ("governance.assign_risk_tier",) if name == "rosa-risk" else ()
            user = make_user(name, perms=perms)
            user.email = f"{name}@example.org"
            user.save()
            board_commands.add_board_member(actor=admin_actor, board=board, user_id=user.pk)
            members[board].append(user)
    board_commands.appoint_chair(
        actor=admin_actor, board="model-risk", user_id=members["model-risk"][0].pk
    )
    owner.email = "olivia@example.org"
    owner.save()
    return Cast(admin=admin, owner=owner, officer=members["model-risk"][0], members=members)


def upload(store, version, kind: str, body: bytes, filename: str = "doc.pdf") -> dict[str, Any]:
    """Put a document in the artifact store where the evidence command expects it."""
    sha256 = hashlib.sha256(body).hexdigest()
    key = governance.evidence_key(version, kind, filename, sha256)
    store.put(key, body, size=len(body), sha256=sha256)
    return {"filename": filename, "size": len(body), "sha256": sha256}


def registered_version(owner, name: str, *, artifact: bool = True) -> tuple[Any, Any]:
    """A model and its version 1 with a verified artifact (an approval binds its digest);
    without one when not `artifact` (the test stores it itself)."""
    actor = Actor.user(owner, auth_method="token")
    model = registry.register_model(actor=actor, name=name, team="fraud-ml")
    version = registry.create_model_version(actor=actor, model_id=model.id, data=VersionInput())
    if artifact:
        version = with_artifact(owner, version, f"weights of {name}".encode())
    return model, version


def with_artifact(owner, version, body: bytes) -> Any:
    """The version's artifact stored and verified."""
    return registry.upload_artifact(
        actor=Actor.user(owner, auth_method="token"),
        version_id=version.id,
        filename="model.bin",
        size=len(body),
        sha256=hashlib.sha256(body).hexdigest(),
        data=body,
    )


def unique_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


PROBLEM = "application/problem+json"


def problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    body = response.json()
    assert body["code"] == code, body
    return body


def api(user):
    return client_for(user)


def actor_of(user) -> Actor:
    return Actor.user(user, auth_method="token")


def governed_version(
    cast,
    store,
    tier: str,
    name: str,
    *,
    skip: tuple[str, ...] = (),
    artifact: bool = True,
    audited: bool = True,
):
    """Through the commands: a model of `tier` with version 1 and the evidence it needs; the
    bias audit a tier requires is the ledger's own, on attached evaluation data, unless not
    `audited` (no evaluation data then, for the tests of audits themselves)."""
    from governance.policy import required_evidence

    owner = actor_of(cast.owner)
    model, version = registered_version(cast.owner, name, artifact=artifact)
    governance.record_intake(actor=owner, model_id=model.id, answers=INTAKE[tier])
    governance.assign_risk_tier(actor=actor_of(cast.officer), model_id=model.id)
    spec = governance_queries.current_policy().tiers[tier]
    for kind in required_evidence(spec, personal_data=INTAKE[tier]["personal_data"]):
        if kind in skip:
            continue
        if kind == "bias_audit":
            # The requirement is met by the ledger's own audit of attached evaluation data.
            if audited:
                audit_attached_data(cast, store, model, version)
            continue
        document = upload(store, version, kind, f"{kind} of {name}".encode())
        governance.attach_evidence(
            actor=owner,
            model_id=model.id,
            number=1,
            kind=kind,
            summary=model_card(name, 1) if kind == "model_card" else {"verdict": "pass"},
            **document,
        )
    return model, version


AUDIT_SPEC = {"attributes": ["sex"], "label": "label", "prediction": "prediction"}


def evaluation_csv(rate_a: float = 0.5, rate_b: float = 0.5, n: int = 40) -> bytes:
    """n evaluation rows per group of `sex` (enough to be judged); the first rate*n of each
    group are selected, labels alternate."""
    lines = ["sex,label,prediction"]
    for group, rate in (("a", rate_a), ("b", rate_b)):
        lines += [f"{group},{i % 2},{1 if i < rate * n else 0}" for i in range(n)]
    return ("\n".join(lines) + "\n").encode()


def audit_attached_data(cast, store, model, version, body: bytes | None = None, *, actor=None):
    """Evaluation data (`body`, passing rows by default) attached to version 1 and the audit
    the ledger computes on it (governance.AuditOutcome)."""
    document = upload(store, version, "evaluation_data", body or evaluation_csv(), "eval.csv")
    governance.attach_evidence(
        actor=actor_of(cast.owner),
        model_id=model.id,
        number=1,
        kind="evaluation_data",
        summary={},
        **document,
    )
    return governance.run_bias_audit(
        actor=actor or actor_of(cast.owner),
        model_id=model.id,
        number=1,
        spec=AUDIT_SPEC,
        use_evidence=True,
    )


def approve(cast, request_id: str, board: str, index: int = 0, **kwargs):
    return approvals.record_decision(
        actor=actor_of(cast.reviewer(board, index)),
        request_id=request_id,
        board=board,
        decision=kwargs.pop("decision", "approve"),
        rationale=kwargs.pop("rationale", "reviewed the evidence"),
        **kwargs,
    )


def request_for(cast, model):
    return approvals.request_approval(actor=actor_of(cast.owner), model_id=model.id, number=1)


def approve_high(cast, request_id):
    state = None
    for board, index in (("model-risk", 0), ("model-risk", 1), ("legal", 0), ("ethics", 0)):
        state = approve(cast, request_id, board, index)
    return state


def revise_model_card(cast, store, version, body: bytes, name: str) -> None:
    """The owner attaches a new model card document to version 1 (the evidence changes)."""
    document = upload(store, version, "model_card", body)
    governance.attach_evidence(
        actor=actor_of(cast.owner),
        model_id=version.model_id,
        number=1,
        kind="model_card",
        summary=model_card(name, 1),
        **document,
    )
