"""Pure rules of boards: separation of duties."""

from __future__ import annotations

from boards import rules


def test_separation_of_duties_names_the_rule_broken_when_reviewer_is_involved():
    check = rules.separation_of_duties
    assert check(1, requester_id=1, owner_ids=[2], author_ids=[3]) == "sod_requester"
    assert check(2, requester_id=1, owner_ids=[2], author_ids=[3]) == "sod_owner"
    assert check(3, requester_id=1, owner_ids=[2], author_ids=[3]) == "sod_author"
    assert check(4, requester_id=1, owner_ids=[2], author_ids=[3]) is None


def test_board_name_is_lowercase_letters_digits_and_dashes_starting_with_a_letter():
    good = ("model-risk", "ab", "a" * 50, "x9-")
    bad = ("a", "a" * 51, "Legal", "9lives", "-ab", "a_b", "a b", "")
    assert all(rules.BOARD_NAME.match(name) for name in good)
    assert not any(rules.BOARD_NAME.match(name) for name in bad)


def test_parties_refuse_requesters_owners_and_authors_and_a_lift_by_the_suspender():
    parties = rules.Parties(
        requesters=frozenset({1}), owners=frozenset({2}), authors=frozenset({3})
    )
    assert [parties.violation(n) for n in (1, 2, 3, 4, None)] == [
        "sod_requester",
        "sod_owner",
        "sod_author",
        None,
        None,
    ]
    assert rules.lift_violation(4, parties, suspended_by=4) == "sod_suspender"
    assert rules.lift_violation(2, parties, suspended_by=4) == "sod_owner"
    assert rules.lift_violation(5, parties, suspended_by=4) is None
    assert rules.lift_violation(5, parties, suspended_by=None) is None


def test_user_id_of_reads_user_actors_only():
    assert rules.user_id_of("user:12") == 12
    assert [rules.user_id_of(r) for r in ("system:seed", "", None, "user:x")] == [None] * 4
