"""Pure rules of approvals: the quorum tally and the assessment."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from approvals import rules
from approvals.state import Decision, RequestState
from governance import rules as governance_rules
from governance.rules import ComputedAudit

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def decision(seq, board, reviewer, kind="approve", evidence=3) -> Decision:
    return Decision(seq, board, reviewer, kind, "why", (), evidence, NOW)


def test_one_person_counts_once_when_sitting_on_several_boards():
    boards = {"model-risk": 1, "legal": 1}
    decisions = [decision(1, "model-risk", 7), decision(2, "legal", 7)]
    assert rules.tally(decisions, boards, 3) == {"model-risk": 1, "legal": 0}
    assert not rules.quorum_met(rules.tally(decisions, boards, 3), boards)


def test_approvals_on_older_evidence_do_not_count_when_evidence_changed():
    boards = {"model-risk": 2}
    decisions = [decision(1, "model-risk", 7, evidence=2), decision(2, "model-risk", 8)]
    assert rules.tally(decisions, boards, 3) == {"model-risk": 1}


def test_later_decision_replaces_earlier_when_reviewer_changes_their_mind():
    boards = {"model-risk": 1}
    decisions = [decision(1, "model-risk", 7), decision(2, "model-risk", 7, "request_changes")]
    assert rules.tally(decisions, boards, 3) == {"model-risk": 0}


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["model-risk", "legal", "ethics"]),
            st.integers(1, 6),
            st.sampled_from(["approve", "reject", "request_changes"]),
        ),
        max_size=30,
    )
)
def test_tally_never_exceeds_distinct_approvers_when_decisions_vary(raw):
    decisions = [decision(i, b, r, k) for i, (b, r, k) in enumerate(raw, start=1)]
    boards = {"model-risk": 2, "legal": 1, "ethics": 1}
    have = rules.tally(decisions, boards, 3)
    approvers = {
        d.reviewer_id for d in rules.latest_decisions(decisions).values() if d.decision == "approve"
    }
    assert sum(have.values()) <= len(approvers)


def test_quorum_is_met_when_an_assignment_of_people_to_boards_meets_it():
    # X sits on both boards and approves both; Y sits on model-risk only. Counting X for
    # model-risk (the first board decided) would leave legal empty; X -> legal, Y -> model-risk
    # meets both quorums.
    boards = {"model-risk": 1, "legal": 1}
    x, y = 7, 8
    decisions = [
        decision(1, "model-risk", x),
        decision(2, "legal", x),
        decision(3, "model-risk", y),
    ]
    have = rules.tally(decisions, boards, 3)
    assert have == {"model-risk": 1, "legal": 1}
    assert rules.quorum_met(have, boards)
    assert rules.match_quorum({"model-risk": {x, y}, "legal": {x}}, boards) == {
        "model-risk": [y],
        "legal": [x],
    }


def brute_force_best(approvals: dict[str, set[int]], boards: dict[str, int]) -> int:
    """The most seats any assignment fills: each person to one board they approved for, or
    none, each board counting at most its quorum."""
    people = sorted({p for members in approvals.values() for p in members})
    options = [[None, *[b for b in boards if p in approvals.get(b, ())]] for p in people]
    best = 0
    for choice in itertools.product(*options):
        filled = sum(min(choice.count(board), needed) for board, needed in boards.items())
        best = max(best, filled)
    return best


BOARD_NAMES = ["model-risk", "legal", "ethics", "security"]


@given(
    st.dictionaries(st.sampled_from(BOARD_NAMES), st.integers(0, 3), min_size=1),
    st.dictionaries(
        st.sampled_from(BOARD_NAMES), st.sets(st.integers(1, 6), max_size=6), max_size=4
    ),
)
def test_matching_fills_as_many_seats_as_the_best_assignment_when_compared_by_brute_force(
    boards, approvals
):
    matched = rules.match_quorum(approvals, boards)
    assert set(matched) == set(boards)
    seated = [p for people in matched.values() for p in people]
    assert len(seated) == len(set(seated)), "one person counts once"
    for board, people in matched.items():
        assert len(people) <= boards[board]
        assert set(people) <= set(approvals.get(board, ()))
    best = brute_force_best(approvals, boards)
    assert len(seated) == best
    met = all(len(matched[b]) >= n for b, n in boards.items())
    assert met == (best == sum(boards.values()))
    assert rules.match_quorum(approvals, boards) == matched


def test_assessment_lists_expiry_and_suspension_when_approval_is_stale():
    request = RequestState(
        id="r",
        version_id="v",
        tier="low",
        required_evidence=("model_card",),
        boards={"model-risk": 1},
        status="approved",
        decisions=(decision(2, "model-risk", 7),),
        expires_at=NOW - timedelta(seconds=1),
        suspended=True,
    )
    found = rules.assess(
        request,
        target="production",
        tier="low",
        required_evidence=(),
        boards={},
        evidence_satisfied=lambda kind: True,
        evidence_version=3,
        now=NOW,
        model_suspended=True,
        bias_audit="",
    )
    assert found.expired and found.suspended == ["model", "approval"]
    assert found.reasons == ["approval_expired", "suspended"]
    assert not found.allowed


def test_bias_audit_requirement_is_met_only_by_a_computed_audit_of_the_bound_data():
    bound, other = "a" * 64, "b" * 64

    def audit(source="evidence", sha=bound, verdict="pass", finding_open=False):
        return ComputedAudit("x", source, sha, verdict, finding_open)

    shortfall = governance_rules.bias_audit_shortfall
    assert shortfall([], bound, waived=False) == "bias_audit_missing"
    assert shortfall([audit()], bound, waived=False) == ""
    # Posted rows, other bytes, no bound evaluation data, a verdict the audit could not reach.
    for audits, sha in (
        ([audit(source="rows", sha="")], bound),
        ([audit(sha=other)], bound),
        ([audit(sha="")], ""),
        ([audit(verdict="not_judged")], bound),
    ):
        assert shortfall(audits, sha, waived=False) == "bias_audit_missing", audits
    failing = audit(verdict="fail", finding_open=True)
    assert shortfall([audit(), failing], bound, waived=False) == "bias_audit_failed"
    assert shortfall([failing], bound, waived=True) == ""
    assert shortfall([audit(verdict="fail", finding_open=False)], bound, waived=False) == ""
    # A failing audit of posted rows neither blocks nor counts.
    rows_failing = audit(source="rows", sha="", verdict="fail", finding_open=True)
    assert shortfall([rows_failing, audit()], bound, waived=False) == ""


def test_assessment_names_the_bias_audit_shortfall_among_missing_evidence():
    found = rules.assess(
        None,
        target="production",
        tier="medium",
        required_evidence=("model_card", "bias_audit"),
        boards={},
        evidence_satisfied=lambda kind: True,  # a bias_audit document is attached
        evidence_version=1,
        now=NOW,
        model_suspended=False,
        bias_audit="bias_audit_failed",
    )
    assert found.missing_evidence == ["bias_audit"]
    assert found.reasons == ["no_request", "evidence_missing", "bias_audit_failed"]
