"""The demo: a small credit team's models at every step of governance, recorded through the
real commands (`manage.py load_demo`, run by `./ledger serve --demo` on a database of its own).

- `churn-forecast` v1: a draft; its intake answered, the tier proposed and waiting for the
  risk officer.
- `credit-scoring` v1: in review (high tier): the model-risk board approved, legal and ethics
  have not decided; its bias audit failed and opened a finding.
- `fraud-detector` v1: approved (medium tier), the bias-audit report waived by the chair.
- `claims-triage` v1: deployed (high tier) and its periodic review overdue, escalated to the
  model-risk chair.
- `loan-pricing` v1: deployed, then suspended by the risk officer.

Nothing is written to a read table directly: every fact is an event appended by the command
that owns it. One thing needs the past: a review is overdue only once its cadence has run out,
so `claims-triage` was approved and deployed on a clock set back `OVERDUE_AGE` days (the
clock every command reads, core.clock): its events are recorded as of then. The demo
runs in one transaction and loads once: where its models exist it adds nothing and returns
the same handles.

The people (password `PASSWORD` for all; the superuser `demo` as ./ledger serve makes it):
mia-ml (the team's engineer, owner of every model), rosa-risk (model-risk chair), raj-risk
(model-risk), lena-legal (legal), eli-ethics (ethics), sam-security (security), otto-officer
(risk officer) and audrey-auditor (auditors)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from approvals import commands as approvals
from approvals.models import ApprovalRequest
from core import clock
from core.actors import Actor
from governance import commands as governance
from governance import queries as governance_queries
from governance.management.setup import apply, parse
from governance.models import Finding, PeriodicReview
from governance.policy import MODEL_CARD_FIELDS, required_evidence
from registry import artifacts
from registry import commands as registry
from registry.commands import VersionInput
from registry.models import RegisteredModel

PASSWORD = "demo-ledger-2026"  # noqa: S105 - the documented development logins
ADMIN = "demo"
TEAM = "credit-ml"
# How long ago the deployed model with the overdue review was approved: the high tier's
# 30-day cadence ran out three days ago (escalated to the chair, within the 7 days' grace).
OVERDUE_AGE = 33

# role -> user name; `DEMO_SETUP` is a setup file (governance/management/setup.py) as data.
ROLES = {
    "ml_engineer": "mia-ml",
    "chair": "rosa-risk",
    "model-risk": "raj-risk",
    "legal": "lena-legal",
    "ethics": "eli-ethics",
    "security": "sam-security",
    "risk_officer": "otto-officer",
    "auditor": "audrey-auditor",
}
NAMES = {
    "mia-ml": ("Mia", "Moreau"),
    "rosa-risk": ("Rosa", "Rinaldi"),
    "raj-risk": ("Raj", "Rao"),
    "lena-legal": ("Lena", "Lindqvist"),
    "eli-ethics": ("Eli", "Eriksen"),
    "sam-security": ("Sam", "Sato"),
    "otto-officer": ("Otto", "Olsen"),
    "audrey-auditor": ("Audrey", "Auber"),
}
DEMO_SETUP = {
    "teams": {TEAM: ["mia-ml"]},
    "users": {
        name: {
            "email": f"{name}@example.org",
            "password": PASSWORD,
            "first_name": first,
            "last_name": last,
            "staff": True,
            **({"default_team": TEAM} if name == "mia-ml" else {}),
        }
        for name, (first, last) in NAMES.items()
    },
    "boards": {
        "model-risk": {"members": ["rosa-risk", "raj-risk"], "chair": "rosa-risk"},
        "legal": {"members": ["lena-legal"]},
        "ethics": {"members": ["eli-ethics"]},
        "security": {"members": ["sam-security"]},
    },
    "risk_officers": ["otto-officer"],
    "auditors": ["audrey-auditor"],
}

INTAKE = {
    "low": {
        "use_case": "forecast which customers will close their account",
        "affected_people": "internal",
        "automated_decisions": False,
        "significant_effects": False,
        "personal_data": False,
        "special_category_data": False,
        "regulated_domain": "none",
        "safety_component": False,
    },
    "medium": {
        "use_case": "flag card transactions for a fraud analyst to check",
        "affected_people": "consumers",
        "automated_decisions": True,
        "significant_effects": False,
        "personal_data": True,
        "special_category_data": False,
        "regulated_domain": "marketing",
        "safety_component": False,
    },
    "high": {
        "use_case": "score applications for consumer credit",
        "affected_people": "consumers",
        "automated_decisions": True,
        "significant_effects": True,
        "personal_data": True,
        "special_category_data": False,
        "regulated_domain": "credit",
        "safety_component": False,
    },
}
MODELS = {  # name -> (tier, purpose, framework)
    "churn-forecast": ("low", "Monthly churn propensity per retail customer.", "xgboost"),
    "credit-scoring": (
        "high",
        "Probability of default for consumer credit applications.",
        "lightgbm",
    ),
    "fraud-detector": (
        "medium",
        "Scores card transactions for review by fraud analysts.",
        "sklearn",
    ),
    "claims-triage": (
        "high",
        "Routes payment-protection claims to automatic payment or to a handler.",
        "pytorch",
    ),
    "loan-pricing": ("medium", "Suggests the interest margin of a personal loan offer.", "sklearn"),
}
# A failing bias audit: approval rates of 60% and 30% by sex (disparate impact 0.5).
AUDIT_SPEC = {"attributes": ["sex"], "label": "label", "prediction": "prediction"}


@dataclass(frozen=True)
class Demo:
    """Handles on what the demo recorded, for people and for tests."""

    users: dict[str, Any]  # role (ROLES) -> user; "admin" -> the superuser
    models: dict[str, str]  # model name -> model id
    requests: dict[str, str]  # model name -> its approval request id
    finding_id: str  # the failed bias audit's finding on credit-scoring
    review_id: str  # the overdue periodic review of claims-triage
    created: bool  # whether this call recorded the demo (False: it was there)

    @property
    def password(self) -> str:
        return PASSWORD


def logins() -> list[tuple[str, str, str]]:
    """(role, user name, password) of every demo login, the superuser first."""
    return [("admin", ADMIN, PASSWORD)] + [(role, name, PASSWORD) for role, name in ROLES.items()]


def load_demo() -> Demo:
    """Record the demo, once; refused in production. Returns its handles either way."""
    if settings.PRODUCTION:
        raise RuntimeError("the demo is for development databases only")
    with transaction.atomic():
        created = not RegisteredModel.objects.filter(name__in=list(MODELS)).exists()
        if created:
            admin = _admin()
            apply(parse(DEMO_SETUP), admin=admin)
            _record(_users(), artifacts.get_store())
        return _handles(created)


def _admin() -> Any:
    users = get_user_model()
    admin, made = users.objects.get_or_create(
        username=ADMIN, defaults={"email": "demo@example.invalid"}
    )
    if made or not admin.is_superuser:
        admin.is_staff = admin.is_superuser = True
        admin.set_password(PASSWORD)
        admin.save()
    return admin


def _users() -> dict[str, Any]:
    by_name = get_user_model().objects.in_bulk(list(ROLES.values()), field_name="username")
    users = {role: by_name[name] for role, name in ROLES.items()}
    users["admin"] = get_user_model().objects.get(username=ADMIN)
    return users


def _handles(created: bool) -> Demo:
    models = dict(RegisteredModel.objects.filter(name__in=list(MODELS)).values_list("name", "id"))
    requests = {}
    for name, model_id in models.items():
        request = ApprovalRequest.objects.filter(model_id=model_id).order_by("-created_at").first()
        if request is not None:
            requests[name] = str(request.id)
    finding = Finding.objects.filter(model_id=models["credit-scoring"]).first()
    review = PeriodicReview.objects.filter(model_id=models["claims-triage"]).first()
    return Demo(
        users=_users(),
        models={name: str(model_id) for name, model_id in models.items()},
        requests=requests,
        finding_id=str(finding.id) if finding else "",
        review_id=str(review.id) if review else "",
        created=created,
    )


# -- the story -----------------------------------------------------------------------------


def _as(user: Any) -> Actor:
    return Actor.user(user, auth_method="session")


def model_card(name: str, tier: str, purpose: str) -> dict[str, Any]:
    card: dict[str, Any] = {
        "name": name,
        "version": "1",
        "owners": f"team {TEAM}",
        "contact": "mia-ml@example.org",
        "intended_use": purpose,
        "out_of_scope_uses": "people outside the retail book; any use without a review",
        "users_and_affected_people": INTAKE[tier]["affected_people"],
        "training_data": "24 months of retail accounts, pseudonymised, snapshot 2026-06",
        "evaluation_data": "a held-out quarter, stratified by region and product",
        "metrics": {"auc": 0.87, "brier": 0.11},
        "fairness_analysis": "selection rates by sex and age band; see the bias audit",
        "limitations": "drifts with interest rates; not validated for new products",
        "ethical_considerations": "no special-category data; adverse decisions are explained",
        "human_oversight": "an analyst reviews every refusal before it is sent",
        "monitoring_plan": "monthly drift and stability report to the model-risk board",
        "change_log": "v1: first release",
    }
    assert set(card) == set(MODEL_CARD_FIELDS)
    return card


def _version(store: Any, owner: Any, name: str) -> tuple[Any, Any]:
    _, purpose, framework = MODELS[name]
    actor = _as(owner)
    model = registry.register_model(
        actor=actor, name=name, team=TEAM, description=purpose, intended_use=purpose
    )
    version = registry.create_model_version(
        actor=actor,
        model_id=model.id,
        data=VersionInput(
            description="first release",
            framework=framework,
            metrics={"auc": 0.87},
            parameters={"max_depth": 6, "learning_rate": 0.05},
        ),
    )
    weights = f"weights of {name} v1".encode()
    registry.upload_artifact(
        actor=actor,
        version_id=version.id,
        filename="model.bin",
        size=len(weights),
        sha256=hashlib.sha256(weights).hexdigest(),
        data=weights,
    )
    return model, registry.load_version(version.id)


def _tiered(
    store: Any,
    users: dict[str, Any],
    name: str,
    *,
    skip: tuple[str, ...] = (),
    audit_rates: tuple[float, float] = (0.5, 0.5),
):
    """A model with version 1, its intake answered, its tier confirmed by the risk officer and
    the evidence its tier needs attached (but the kinds in `skip`). A bias audit is met as the
    gate requires it: evaluation data attached, and the audit the ledger computes on it (with
    the selection rates `audit_rates` of the two groups, so a demo can hold a failing one)."""
    owner = users["ml_engineer"]
    tier, purpose, _ = MODELS[name]
    model, version = _version(store, owner, name)
    governance.record_intake(actor=_as(owner), model_id=model.id, answers=INTAKE[tier])
    governance.assign_risk_tier(actor=_as(users["risk_officer"]), model_id=model.id)
    spec = governance_queries.current_policy().tiers[tier]
    for kind in required_evidence(spec, personal_data=INTAKE[tier]["personal_data"]):
        if kind in skip:
            continue
        if kind == "bias_audit":
            _audit_attached_data(store, owner, model, version, audit_rates)
            continue
        body = f"{kind.replace('_', ' ')} of {name} v1".encode()
        sha256 = hashlib.sha256(body).hexdigest()
        filename = f"{kind}.pdf"
        store.put(
            governance.evidence_key(version, kind, filename, sha256),
            body,
            size=len(body),
            sha256=sha256,
        )
        summary = model_card(name, tier, purpose) if kind == "model_card" else {"verdict": "pass"}
        governance.attach_evidence(
            actor=_as(owner),
            model_id=model.id,
            number=1,
            kind=kind,
            filename=filename,
            size=len(body),
            sha256=sha256,
            summary=summary,
        )
    return model, version


def _evaluation_csv(rates: tuple[float, float], n: int = 200) -> bytes:
    """n evaluation rows per value of `sex`; the first rate*n of each group are selected."""
    lines = ["sex,label,prediction"]
    for group, rate in zip(("f", "m"), rates, strict=True):
        lines += [f"{group},{i % 2},{1 if i < rate * n else 0}" for i in range(n)]
    return ("\n".join(lines) + "\n").encode()


def _audit_attached_data(store, owner, model, version, rates: tuple[float, float]) -> None:
    body = _evaluation_csv(rates)
    sha256 = hashlib.sha256(body).hexdigest()
    filename = "evaluation.csv"
    store.put(
        governance.evidence_key(version, "evaluation_data", filename, sha256),
        body,
        size=len(body),
        sha256=sha256,
    )
    governance.attach_evidence(
        actor=_as(owner),
        model_id=model.id,
        number=1,
        kind="evaluation_data",
        filename=filename,
        size=len(body),
        sha256=sha256,
        summary={"rows": len(body.splitlines()) - 1, "source": "held-out quarter"},
    )
    governance.run_bias_audit(
        actor=_as(owner), model_id=model.id, number=1, spec=AUDIT_SPEC, use_evidence=True
    )


def _decide(users: dict[str, Any], request_id: str, seats: list[tuple[str, str]]) -> None:
    for role, board in seats:
        approvals.record_decision(
            actor=_as(users[role]),
            request_id=request_id,
            board=board,
            decision="approve",
            rationale=f"{board}: the evidence supports the tier's requirements",
        )


HIGH_SEATS = [("chair", "model-risk"), ("model-risk", "model-risk")]
MEDIUM_SEATS = [("chair", "model-risk")]


def _approved(store, users, name, seats, *, deploy: bool, skip=()) -> Any:
    model, version = _tiered(store, users, name, skip=skip)
    owner = _as(users["ml_engineer"])
    request = approvals.request_approval(actor=owner, model_id=model.id, number=1)
    _decide(users, request.id, seats)
    if deploy:
        registry.transition_model_version(
            actor=owner,
            version_id=version.id,
            expected_version=None,
            to_status="deployed",
            reason="rolled out to production",
        )
    return model


def _record(users: dict[str, Any], store: Any) -> None:
    owner = users["ml_engineer"]
    # A draft, its tier proposed by the intake and waiting for the risk officer.
    model, _ = _version(store, owner, "churn-forecast")
    governance.record_intake(actor=_as(owner), model_id=model.id, answers=INTAKE["low"])

    # Approved and deployed a cadence ago: its periodic review is overdue today.
    real_now = clock.now()
    with clock.frozen(real_now - timedelta(days=OVERDUE_AGE)) as frozen:
        seats = [*HIGH_SEATS, ("legal", "legal"), ("ethics", "ethics")]
        _approved(store, users, "claims-triage", seats, deploy=True)
        frozen.advance(timedelta(hours=1))
    governance.scan_reviews(actor=Actor.system("governance.demo"), now=real_now)

    # In review: the model-risk board approved; legal and ethics have not decided.
    # Its audit of the attached evaluation data selects 30% of women and 60% of men.
    model, _ = _tiered(store, users, "credit-scoring", audit_rates=(0.3, 0.6))
    request = approvals.request_approval(actor=_as(owner), model_id=model.id, number=1)
    _decide(users, request.id, HIGH_SEATS)

    # Approved with the bias-audit report waived by the model-risk chair.
    model, _ = _tiered(store, users, "fraud-detector", skip=("bias_audit",))
    governance.grant_waiver(
        actor=_as(users["chair"]),
        model_id=model.id,
        number=1,
        kind="bias_audit",
        reason="the audit runs on the new evaluation quarter, due next month",
        expires_at=clock.now() + timedelta(days=45),
    )
    request = approvals.request_approval(actor=_as(owner), model_id=model.id, number=1)
    _decide(users, request.id, MEDIUM_SEATS)

    # Deployed, then suspended by the risk officer.
    model = _approved(store, users, "loan-pricing", MEDIUM_SEATS, deploy=True)
    governance.suspend_model(
        actor=_as(users["risk_officer"]),
        model_id=model.id,
        reason="margins drifted outside the validated range; under investigation",
    )
