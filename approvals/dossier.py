"""The approval request as its reviewers read it (the admin's approval page): what is asked,
the promotion gate as a checklist, each board's quorum with who approved and who is still to
decide, the model card, the facts the request bound, every evidence document, and the
decisions by board with those a change of the evidence voided. Reads only; people by name and
times in the viewer's time zone (core.display)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse

from approvals import gate, rules
from approvals.models import ApprovalRequest
from approvals.state import ACTIVE, Decision, RequestState
from approvals.streams import load_request
from boards.queries import boards_of, members_by_board
from core.display import names_of, when
from eventstore import store
from eventstore.admin_views import event_in_words
from governance import documents
from governance.models import Evidence
from governance.policy import MODEL_CARD_FIELDS
from governance.rules import BIAS_AUDIT
from registry.models import RegisteredModel

DECISION_WORDS = {
    "approve": "Approved",
    "reject": "Rejected",
    "request_changes": "Changes requested",
}
REASON_WORDS = {
    "artifact_missing": "The version has no verified artifact",
    "no_request": "No approval request",
    "reviewed_facts_changed": "The facts reviewed changed since the request was made",
    "evidence_missing": "Required evidence is missing",
    "quorum_not_met": "A board's quorum is not met",
    "approvals_not_counted": "Some approvals no longer count (reviewer left the board or is"
    " no longer independent)",
    "approval_expired": "The approval expired",
    "suspended": "Suspended",
    "risk_tier_missing": "The model has no confirmed risk tier",
    "bias_audit_missing": "No passing bias audit by the ledger on the attached evaluation data",
    "bias_audit_failed": "The ledger's bias audit failed and its finding is still open",
    "request_open": "The boards' decisions are still awaited",
    "request_changes_requested": "Changes were requested",
    "request_rejected": "The request was rejected",
    "request_withdrawn": "The request was withdrawn",
    "request_voided": "The request was voided",
}
VOIDED = ("approvals.ApprovalVoided", "approvals.ApprovalRequestVoided")


def title_of(request: ApprovalRequest) -> str:
    """`<model name> v<number> — <target>`."""
    name = (
        RegisteredModel.objects.filter(id=request.model_id).values_list("name", flat=True).first()
    )
    return f"{name or 'unknown model'} v{request.version_number} — {request.target}"


def words(code: str) -> str:
    return code.replace("_", " ").capitalize()


@dataclass(frozen=True)
class Requirement:
    kind: str
    met: bool
    detail: str


@dataclass(frozen=True)
class DecisionRow:
    reviewer: str
    decision: str
    label: str
    rationale: str
    conditions: tuple[str, ...]
    at: str
    voided: bool
    void_reason: str
    counts: bool


@dataclass
class BoardPanel:
    board: str
    needed: int
    have: int
    approved_by: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    decisions: list[DecisionRow] = field(default_factory=list)

    @property
    def met(self) -> bool:
        return self.have >= self.needed


@dataclass(frozen=True)
class Document:
    kind: str
    filename: str
    sha256: str
    size: int | None
    recorded: str
    recorded_by: str
    show: str
    open_url: str
    preview_url: str
    intact: bool | None  # None: too large to re-hash for the page; checked when opened
    required: bool
    report_url: str


@dataclass(frozen=True)
class Waived:
    kind: str
    reason: str
    until: str


@dataclass(frozen=True)
class CardSection:
    title: str
    text: str = ""
    items: tuple[str, ...] = ()
    pairs: tuple[tuple[str, str], ...] = ()


@dataclass
class Dossier:
    title: str
    request: ApprovalRequest
    state: RequestState
    requester: str
    created: str
    expires: str
    allowed: bool
    reasons: list[str]
    requirements: list[Requirement]
    boards: list[BoardPanel]
    card: list[CardSection]
    card_sha256: str
    snapshot_evidence: list[tuple[str, str]]
    answers: list[tuple[str, str]]
    changed: list[str]
    voids: list[tuple[str, str, str]]
    documents: list[Document]
    waived: list[Waived]
    can_decide: bool
    my_boards: list[str]


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(_plain(v) for v in value) or "-"
    if isinstance(value, dict):
        return "; ".join(f"{words(str(k))}: {_plain(v)}" for k, v in value.items()) or "-"
    return "-" if value in (None, "") else str(value)


def card_sections(summary: dict[str, Any]) -> list[CardSection]:
    """The model card's fields as headed sections, in the policy's order, then any others."""
    order = [f for f in MODEL_CARD_FIELDS if f in summary]
    order += sorted(k for k in summary if k not in MODEL_CARD_FIELDS)
    sections = []
    for key in order:
        value = summary[key]
        if isinstance(value, dict):
            pairs = tuple((words(str(k)), _plain(v)) for k, v in value.items())
            sections.append(CardSection(words(key), pairs=pairs))
        elif isinstance(value, list | tuple):
            sections.append(CardSection(words(key), items=tuple(_plain(v) for v in value)))
        else:
            sections.append(CardSection(words(key), text=_plain(value)))
    return sections


def _voids(request_id: Any) -> list[tuple[int, str, str, str]]:
    """(evidence version, event type, reason, when) of each void of the request, oldest first."""
    return [
        (e.data.get("evidence_version", 0), e.type, e.data.get("reason", ""), when(e.recorded_at))
        for e in store.read_stream(request_id)
        if e.type in VOIDED
    ]


def _void_reason(decision: Decision, voids: list[tuple[int, str, str, str]]) -> str | None:
    """Why a decision no longer counts, or None: the first void after it was given."""
    for evidence_version, kind, reason, at in voids:
        if (
            kind == "approvals.ApprovalRequestVoided"
            or decision.evidence_version < evidence_version
        ):
            return f"{reason} ({at})" if reason else f"voided {at}"
    return None


def _board_panels(
    state: RequestState, assessment: rules.Assessment, voids: list, eligible: rules.Eligible
) -> list[BoardPanel]:
    members = members_by_board(state.boards)
    people = {d.reviewer_id for d in state.decisions}
    for ids in members.values():
        people |= ids
    names = names_of(people)
    latest = rules.latest_decisions(d for d in state.decisions if _void_reason(d, voids) is None)
    panels = []
    for count in assessment.boards:
        panel = BoardPanel(count.board, count.needed, count.have)
        decided = set()
        for (board, reviewer), decision in sorted(latest.items(), key=lambda i: i[1].seq):
            if board != count.board:
                continue
            decided.add(reviewer)
            if decision.decision == "approve" and eligible(board, reviewer):
                panel.approved_by.append(names[reviewer])
        panel.pending = sorted(
            names[m]
            for m in members.get(count.board, ())
            if m not in decided and eligible(count.board, m)
        )
        for decision in state.decisions:
            if decision.board != count.board:
                continue
            reason = _void_reason(decision, voids)
            current = latest.get((decision.board, decision.reviewer_id))
            panel.decisions.append(
                DecisionRow(
                    reviewer=names[decision.reviewer_id],
                    decision=decision.decision,
                    label=DECISION_WORDS.get(decision.decision, decision.decision),
                    rationale=decision.rationale,
                    conditions=decision.conditions,
                    at=when(decision.recorded_at),
                    voided=reason is not None,
                    void_reason=reason or "",
                    counts=reason is None
                    and current is decision
                    and eligible(decision.board, decision.reviewer_id),
                )
            )
        panels.append(panel)
    return panels


def _documents(request: ApprovalRequest) -> tuple[list[Document], list[Waived]]:
    rows = Evidence.objects.filter(version_id=request.version_id).order_by("kind")
    names = names_of(
        int(r.recorded_by.removeprefix("user:"))
        for r in rows
        if r.recorded_by.startswith("user:") and r.recorded_by[5:].isdigit()
    )
    shown, waived = [], []
    for row in rows:
        if row.waived:
            waived.append(Waived(row.kind, row.reason, when(row.expires_at)))
            continue
        shape = documents.shape_of(row)
        by = row.recorded_by
        if by.startswith("user:") and by[5:].isdigit():
            by = names[int(by[5:])]
        shown.append(
            Document(
                kind=row.kind,
                filename=shape.filename,
                sha256=row.sha256,
                size=row.size,
                recorded=when(row.recorded_at),
                recorded_by=by,
                show=shape.show,
                open_url=reverse("evidence-document", args=[row.id, row.sha256]),
                preview_url=reverse("evidence-preview", args=[row.id, row.sha256])
                if shape.show in ("markdown", "csv", "text")
                else "",
                intact=documents.intact(row),
                required=row.kind in request.required_evidence,
                report_url=reverse(
                    "admin:approvals_approvalrequest_mismatch", args=[request.id, row.id]
                ),
            )
        )
    return shown, waived


def _bias_audit_requirement(assessment: rules.Assessment, waiver: Waived | None) -> Requirement:
    """The bias-audit line of the checklist, as the gate judges it: met only by the audit the
    ledger computed on the attached evaluation data (or a chair's waiver), never by a
    document."""
    if "bias_audit_failed" in assessment.reasons:
        return Requirement(BIAS_AUDIT, False, "the ledger's audit failed; its finding is open")
    if "bias_audit_missing" in assessment.reasons or BIAS_AUDIT in assessment.missing_evidence:
        return Requirement(
            BIAS_AUDIT, False, "no passing audit by the ledger of the attached evaluation data"
        )
    if waiver is not None:
        return Requirement(BIAS_AUDIT, True, f"waived until {waiver.until}: {waiver.reason}")
    return Requirement(
        BIAS_AUDIT, True, "the ledger's audit of the attached evaluation data passed"
    )


def build(request: ApprovalRequest, user: Any) -> Dossier:
    state = load_request(request.id)
    assessment = gate.assess_promotion(
        model_id=str(request.model_id), number=request.version_number
    )
    if str(assessment.request_id) != str(request.id):
        # The gate judges the version's newest request; an older one is shown on its own terms.
        assessment = rules.Assessment(
            target=request.target,
            tier=request.tier,
            request_id=str(request.id),
            status=request.status,
            boards=[rules.BoardCount(b, n, 0) for b, n in sorted(request.boards.items())],
            reasons=[f"request_{request.status}"],
        )
    parties = gate.request_parties(state)
    eligible = gate.still_counts(state, parties)
    voids = _voids(request.id)
    shown, waived = _documents(request)
    attached = {d.kind: d for d in shown}
    waived_kinds = {w.kind: w for w in waived}
    requirements = []
    for kind in request.required_evidence:
        if kind == BIAS_AUDIT:
            requirements.append(_bias_audit_requirement(assessment, waived_kinds.get(kind)))
        elif kind in attached:
            intact = attached[kind].intact is not False
            detail = f"{attached[kind].filename}, attached {attached[kind].recorded}"
            if not intact:
                detail = f"does not match its record — {detail}"
            requirements.append(Requirement(kind, intact, detail))
        elif kind in waived_kinds:
            requirements.append(
                Requirement(
                    kind,
                    kind not in assessment.missing_evidence,
                    f"waived until {waived_kinds[kind].until}: {waived_kinds[kind].reason}",
                )
            )
        else:
            requirements.append(Requirement(kind, False, "missing"))
    card = Evidence.objects.filter(version_id=request.version_id, kind="model_card").first()
    mine = [b for b in boards_of(user) if b in request.boards] if user is not None else []
    can_decide = bool(
        mine and request.status in ACTIVE and not request.suspended and parties.independent(user.pk)
    )
    requester = names_of([request.requester_id])[request.requester_id]
    return Dossier(
        title=title_of(request),
        request=request,
        state=state,
        requester=requester,
        created=when(request.created_at),
        expires=when(request.expires_at),
        allowed=assessment.allowed,
        reasons=[REASON_WORDS.get(r, words(r)) for r in assessment.reasons],
        requirements=requirements,
        boards=_board_panels(state, assessment, voids, eligible),
        card=card_sections(card.summary) if card is not None else [],
        card_sha256=card.sha256 if card is not None else "",
        snapshot_evidence=sorted(state.evidence.items()),
        answers=[(words(k), _plain(v)) for k, v in sorted(state.answers.items())],
        changed=[words(c.replace("evidence:", "evidence: ")) for c in assessment.changed],
        voids=[(at, event_in_words(kind), reason) for _, kind, reason, at in voids],
        documents=shown,
        waived=waived,
        can_decide=can_decide,
        my_boards=mine,
    )
