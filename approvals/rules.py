"""Pure rules of approvals: the quorum tally (one person counts once) and the promotion
assessment that lists exactly what is missing; separation of duties is the boards' rule, applied
here as rules.separation_of_duties. Nothing here imports Django."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from approvals.state import CLOSED, Decision, RequestState
from boards.rules import separation_of_duties as separation_of_duties
from governance.policy import BOARDS
from governance.rules import BIAS_AUDIT


def latest_decisions(decisions: Iterable[Decision]) -> dict[tuple[str, int], Decision]:
    """Each reviewer's last word per board: a later decision replaces an earlier one."""
    latest: dict[tuple[str, int], Decision] = {}
    for decision in decisions:
        latest[(decision.board, decision.reviewer_id)] = decision
    return latest


def match_quorum(
    approvals: dict[str, Iterable[int]], boards: dict[str, int]
) -> dict[str, list[int]]:
    """Who counts for which board: a maximum bipartite matching of people to board seats.

    Each board has `quorum` seats; a person fills at most one seat, on a board they approved
    for. Augmenting paths (Kuhn's algorithm, seats as the right side) make the number of
    filled seats the largest possible, so a quorum fails only when no assignment of people to
    boards could meet it. People and boards are tried in a fixed order, so the answer is the
    same for the same input."""
    seats = {board: max(0, needed) for board, needed in boards.items()}
    order = sorted(seats, key=_board_rank)
    wants: dict[int, list[str]] = {}
    for board in order:
        for person in sorted(set(approvals.get(board, ()))):
            wants.setdefault(person, []).append(board)
    holders: dict[str, list[int]] = {board: [] for board in order}

    def seat(person: int, tried: set[str]) -> bool:
        for board in wants[person]:
            if board in tried or seats[board] == 0:
                continue
            tried.add(board)
            if len(holders[board]) < seats[board]:
                holders[board].append(person)
                return True
            for index, other in enumerate(holders[board]):
                if seat(other, tried):
                    holders[board][index] = person
                    return True
        return False

    for person in sorted(wants):
        seat(person, set())
    return {board: sorted(people) for board, people in holders.items()}


# Whether an approval for a board by a reviewer still counts (board, reviewer id): the
# reviewer sits on the board and is independent of the model, as of now.
Eligible = Callable[[str, int], bool]


def current_approvals(
    decisions: Iterable[Decision],
    boards: dict[str, int],
    evidence_version: int,
    eligible: Eligible | None = None,
) -> dict[str, set[int]]:
    """Per board, the people whose last word for it is an approval on the current evidence
    (and who are `eligible` still, when given)."""
    approving: dict[str, set[int]] = {board: set() for board in boards}
    for decision in latest_decisions(decisions).values():
        if (
            decision.decision == "approve"
            and decision.board in approving
            and decision.evidence_version == evidence_version
            and (eligible is None or eligible(decision.board, decision.reviewer_id))
        ):
            approving[decision.board].add(decision.reviewer_id)
    return approving


def not_counted(
    decisions: Iterable[Decision],
    boards: dict[str, int],
    evidence_version: int,
    eligible: Eligible,
) -> list[tuple[str, int]]:
    """(board, reviewer) of the approvals on the current evidence that no longer count: the
    reviewer left the board or is no longer independent of the model."""
    given = current_approvals(decisions, boards, evidence_version)
    return [
        (board, person)
        for board in sorted(given, key=_board_rank)
        for person in sorted(given[board])
        if not eligible(board, person)
    ]


def tally(
    decisions: Iterable[Decision],
    boards: dict[str, int],
    evidence_version: int,
    eligible: Eligible | None = None,
) -> dict[str, int]:
    """Approvals per board that count: given on the current evidence by a reviewer who is
    `eligible` still, each person counted once, on the board a maximum matching of people to
    board seats puts them (never more than the board's quorum)."""
    matched = match_quorum(current_approvals(decisions, boards, evidence_version, eligible), boards)
    return {board: len(matched.get(board, ())) for board in boards}


def decisions_to_void(request: RequestState, evidence_version: int) -> list[Decision]:
    """Decisions a change of the evidence to `evidence_version` voids: those given on older
    evidence and not voided already. None while the request is closed."""
    if request.status in CLOSED:
        return []
    return [
        d
        for d in request.decisions
        if request.voided_evidence_version <= d.evidence_version < evidence_version
    ]


def _board_rank(board: str) -> tuple[int, str]:
    """Boards in the policy's order (model-risk, legal, ethics, security), then by name."""
    return (BOARDS.index(board) if board in BOARDS else len(BOARDS), board)


def quorum_met(have: dict[str, int], boards: dict[str, int]) -> bool:
    return all(have.get(board, 0) >= needed for board, needed in boards.items())


@dataclass(frozen=True)
class BoardCount:
    board: str
    needed: int
    have: int


@dataclass(frozen=True)
class Assessment:
    """What the gate found for one version and target; `allowed` only if nothing is missing."""

    target: str
    tier: str
    request_id: str | None
    status: str
    missing_evidence: list[str] = field(default_factory=list)
    boards: list[BoardCount] = field(default_factory=list)
    quorum_needed: int = 0
    quorum_have: int = 0
    expired: bool = False
    expires_at: datetime | None = None
    suspended: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    # What differs between the request's reviewed facts and the current ones: "artifact",
    # "tier", "evidence:<kind>".
    changed: list[str] = field(default_factory=list)

    @property
    def allowed(self) -> bool:
        return not self.reasons


def assess(
    request: RequestState | None,
    *,
    target: str,
    tier: str,
    required_evidence: Iterable[str],
    boards: dict[str, int],
    evidence_satisfied: Callable[[str], bool],
    evidence_version: int,
    now: datetime,
    model_suspended: bool,
    eligible: Eligible | None = None,
    facts: Facts | None = None,
    bias_audit: str,
) -> Assessment:
    """Everything a promotion needs, checked against the request (which carries the policy in
    force when it was made) or, without a request, against the current policy. `eligible`
    says whether an approval still counts (its reviewer on the board, independent of the
    model, as of now); an approval that no longer does is named in the reasons. `bias_audit`
    is why the policy's bias-audit requirement is not met by an audit the ledger computed
    ("" when it is): an attached `bias_audit` document never meets it."""
    current_tier = tier
    if request is not None:
        required_evidence, boards = request.required_evidence, request.boards
        tier = request.tier
    missing = [
        kind
        for kind in required_evidence
        if (bool(bias_audit) if kind == BIAS_AUDIT else not evidence_satisfied(kind))
    ]
    have = tally(request.decisions, boards, evidence_version, eligible) if request else {}
    discounted = (
        not_counted(request.decisions, boards, evidence_version, eligible)
        if request is not None and eligible is not None
        else []
    )
    ordered = sorted(boards.items(), key=lambda item: _board_rank(item[0]))
    counts = [BoardCount(b, n, have.get(b, 0)) for b, n in ordered]
    reasons: list[str] = []
    status = request.status if request else "none"
    changed: list[str] = []
    if facts is not None and not facts.artifact_sha256:
        reasons.append("artifact_missing")
    if request is None:
        reasons.append("no_request")
    elif status != "approved":
        reasons.append(f"request_{status}")
    if request is not None and facts is not None:
        changed = snapshot_changes(request, facts, current_tier)
        if changed:
            reasons.append("reviewed_facts_changed")
    if missing:
        reasons.append("evidence_missing")
    if BIAS_AUDIT in missing:
        reasons.append(bias_audit)
    if any(c.have < c.needed for c in counts):
        reasons.append("quorum_not_met")
        if discounted:
            reasons.append("approvals_not_counted")
    expired = bool(request and request.expires_at is not None and request.expires_at <= now)
    if expired:
        reasons.append("approval_expired")
    suspended = [
        what
        for what, flag in (
            ("model", model_suspended),
            ("approval", bool(request and request.suspended)),
        )
        if flag
    ]
    if suspended:
        reasons.append("suspended")
    return Assessment(
        target=target,
        tier=tier,
        request_id=request.id if request else None,
        status=status,
        missing_evidence=missing,
        boards=counts,
        quorum_needed=sum(boards.values()),
        quorum_have=sum(c.have for c in counts),
        expired=expired,
        expires_at=request.expires_at if request else None,
        suspended=suspended,
        reasons=reasons,
        changed=changed,
    )


@dataclass(frozen=True)
class Facts:
    """The version's facts as of now that an approval binds: the verified artifact's sha256
    ("" without one, or once found tampered with) and each evidence document's sha256."""

    artifact_sha256: str
    evidence: dict[str, str]


def snapshot_changes(request: RequestState, facts: Facts, tier: str) -> list[str]:
    """What differs between the facts the request's decisions were given on and the current
    ones: the artifact, the confirmed tier (none while a new intake awaits confirmation), each
    evidence document by kind."""
    changed: list[str] = []
    if facts.artifact_sha256 != request.artifact_sha256:
        changed.append("artifact")
    if tier != request.tier:
        changed.append("tier")
    for kind in sorted(set(request.evidence) | set(facts.evidence)):
        if request.evidence.get(kind) != facts.evidence.get(kind):
            changed.append(f"evidence:{kind}")
    return changed
