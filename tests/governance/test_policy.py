"""The policy as data: the shipped defaults match docs/governance-policy.md, changes are
checked whole, and the intake proposes the tier its answers point to."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import InvalidInput
from governance import policy


def test_defaults_follow_the_governance_table():
    tiers = policy.check_tiers(policy.default_tiers())
    assert tiers["low"]["boards"] == {"model-risk": 1}
    assert tiers["high"]["boards"] == {"model-risk": 2, "legal": 1, "ethics": 1}
    assert tiers["critical"]["boards"] == {
        "model-risk": 2,
        "legal": 1,
        "ethics": 2,
        "security": 1,
    }
    assert [tiers[t]["approval_validity_days"] for t in policy.TIERS] == [365, 182, 91, 91]
    assert policy.required_evidence(tiers["high"], personal_data=False) == [
        "model_card",
        "bias_audit",
        "explainability_report",
        "validation_report",
    ]
    assert "dpia" in policy.required_evidence(tiers["high"], personal_data=True)
    assert {"human_oversight_plan", "monitoring_plan", "regulatory_signoff"} <= set(
        tiers["critical"]["evidence"]
    )


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"extreme": {"boards": {"model-risk": 1}}},
        {"low": {"boards": {}}},
        {"low": {"boards": {"finance": 1}}},
        {"low": {"boards": {"model-risk": 0}}},
        {"low": {"evidence": ["horoscope"]}},
        {"low": {"approval_validity_days": True}},
        {"low": {"colour": "blue"}},
        {"critical": {"bias_audit_on_new_version": "yes"}},
        {"high": {"bias_audit_on_new_version": None}},
    ],
)
def test_policy_change_is_refused_when_it_breaks_the_policy(changes):
    with pytest.raises(InvalidInput):
        policy.merge_tiers(policy.default_tiers(), changes)


def test_only_the_critical_tier_audits_every_new_version_by_default():
    tiers = policy.check_tiers(policy.default_tiers())
    assert {t: tiers[t]["bias_audit_on_new_version"] for t in policy.TIERS} == {
        "low": False,
        "medium": False,
        "high": False,
        "critical": True,
    }


def test_policy_without_the_new_version_audit_field_is_refused_when_checked_whole():
    tiers = policy.default_tiers()
    del tiers["critical"]["bias_audit_on_new_version"]
    with pytest.raises(InvalidInput):
        policy.check_tiers(tiers)
    assert policy.check_tiers(policy.upgrade_tiers(tiers)) == policy.DEFAULT_TIERS


def test_new_version_audits_are_switched_on_for_a_tier_when_the_policy_says_so():
    merged = policy.merge_tiers(
        policy.default_tiers(), {"high": {"bias_audit_on_new_version": True}}
    )
    assert merged["high"]["bias_audit_on_new_version"] is True
    assert merged["critical"] == policy.default_tiers()["critical"]


def test_policy_change_replaces_only_the_fields_it_names():
    merged = policy.merge_tiers(policy.default_tiers(), {"medium": {"approval_validity_days": 90}})
    assert merged["medium"]["approval_validity_days"] == 90
    assert merged["medium"]["boards"] == {"model-risk": 1}
    assert merged["high"] == policy.default_tiers()["high"]


BASE = {
    "use_case": "ranking",
    "affected_people": "internal",
    "automated_decisions": False,
    "significant_effects": False,
    "personal_data": False,
    "special_category_data": False,
    "regulated_domain": "none",
    "safety_component": False,
}


@pytest.mark.parametrize(
    ("changes", "tier"),
    [
        ({}, "low"),
        ({"personal_data": True}, "medium"),
        ({"affected_people": "consumers"}, "medium"),
        ({"regulated_domain": "credit"}, "high"),
        ({"automated_decisions": True, "significant_effects": True}, "high"),
        ({"special_category_data": True}, "high"),
        ({"regulated_domain": "healthcare", "automated_decisions": True}, "critical"),
        ({"safety_component": True}, "critical"),
    ],
)
def test_intake_proposes_the_tier_its_answers_point_to(changes, tier):
    assert policy.propose_tier(policy.check_answers({**BASE, **changes})) == tier


@given(
    st.fixed_dictionaries(
        {
            "use_case": st.text(min_size=1, max_size=20),
            "affected_people": st.sampled_from(policy.AFFECTED),
            "automated_decisions": st.booleans(),
            "significant_effects": st.booleans(),
            "personal_data": st.booleans(),
            "special_category_data": st.booleans(),
            "regulated_domain": st.sampled_from(policy.DOMAINS),
            "safety_component": st.booleans(),
        }
    )
)
def test_more_risk_never_lowers_the_proposed_tier_when_answers_vary(answers):
    tier = policy.TIERS.index(policy.propose_tier(answers))
    riskier = {**answers, "safety_component": True}
    assert policy.TIERS.index(policy.propose_tier(riskier)) >= tier


def test_intake_is_refused_when_an_answer_is_missing_or_of_the_wrong_kind():
    with pytest.raises(InvalidInput):
        policy.check_answers({k: v for k, v in BASE.items() if k != "personal_data"})
    with pytest.raises(InvalidInput):
        policy.check_answers({**BASE, "personal_data": "yes"})
    with pytest.raises(InvalidInput):
        policy.check_answers({**BASE, "regulated_domain": "astrology"})
