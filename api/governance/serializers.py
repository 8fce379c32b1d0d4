"""Serializers of the governance API: strict inputs, outputs shared by rows and folded state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers import JsonObject, Pattern, StrictInput
from api.shapes import input_field, input_of
from core import clock
from governance import art73, events, policy, rules

_TIER_SPEC = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "evidence": {
            "type": "array",
            "items": {"type": "string", "enum": list(policy.EVIDENCE_KINDS)},
            "uniqueItems": True,
        },
        "evidence_if_personal_data": {
            "type": "array",
            "items": {"type": "string", "enum": list(policy.EVIDENCE_KINDS)},
            "uniqueItems": True,
        },
        "boards": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": {"enum": list(policy.BOARDS)},
            "additionalProperties": {"type": "integer", "minimum": 1, "maximum": 20},
        },
        "approval_validity_days": {"type": "integer", "minimum": 1, "maximum": 36500},
        "review_cadence_days": {"type": "integer", "minimum": 1, "maximum": 36500},
        "bias_audit_cadence_days": {
            "type": ["integer", "null"],
            "minimum": 1,
            "maximum": 36500,
        },
        "retention_years": {"type": "integer", "minimum": 1, "maximum": 36500},
        "review_reminder_days": {"type": "integer", "minimum": 0, "maximum": 3650},
        "review_escalation_days": {"type": "integer", "minimum": 0, "maximum": 3650},
        "review_grace_days": {"type": "integer", "minimum": 0, "maximum": 3650},
        "overdue_action": {"type": "string", "enum": list(policy.OVERDUE_ACTIONS)},
        "suspend_approval_when_non_compliant": {"type": "boolean"},
        "bias_audit_on_new_version": {
            "type": "boolean",
            "description": "Audit each version as soon as evaluation data with an audit_spec"
            " is attached to it, whatever its status",
        },
        "incident_reporting_clock": {
            "type": "boolean",
            "description": "A serious incident on a model of this tier starts the EU AI Act"
            " Art. 73 reporting clock",
        },
        "incident_reminder_fractions": {
            "type": "array",
            "maxItems": policy.MAX_INCIDENT_REMINDERS,
            "items": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
            "description": "Reminders at these fractions of the reporting window",
        },
        "incident_reminder_hours_before": {
            "type": "array",
            "maxItems": policy.MAX_INCIDENT_REMINDERS,
            "items": {"type": "integer", "minimum": 1, "maximum": 8760},
            "description": "Reminders these many hours before the reporting deadline",
        },
        "fairness_thresholds": {
            "type": "object",
            "additionalProperties": False,
            "required": list(policy.FAIRNESS_THRESHOLDS),
            "properties": {
                "min_disparate_impact_ratio": {"type": "number"},
                "min_statistical_parity_difference": {"type": "number"},
                "max_equalized_odds_difference": {"type": "number"},
                "min_group_size": {"type": "integer", "minimum": 0},
                "significance_level": {
                    "type": "number",
                    "exclusiveMinimum": 0,
                    "exclusiveMaximum": 1,
                },
            },
        },
    },
}


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": False,
        "minProperties": 1,
        "properties": dict.fromkeys(policy.TIERS, _TIER_SPEC),
    }
)
class TierChanges(serializers.DictField):
    """Per tier, the policy fields to replace; the whole new policy is checked by the command."""


@extend_schema_field(
    {
        "type": "object",
        "properties": {
            tier: {**_TIER_SPEC, "required": list(_TIER_SPEC["properties"])}
            for tier in policy.TIERS
        },
        "required": list(policy.TIERS),
    }
)
class TiersField(serializers.DictField):
    pass


class PolicyCreateInput(StrictInput):
    changes = TierChanges()
    reason = input_field(rules.REASON)


class PolicyOutput(serializers.Serializer):
    number = serializers.IntegerField(help_text="The policy version; also its ETag")
    tiers = TiersField(source="document")
    reason = serializers.CharField()
    recorded_at = serializers.DateTimeField()
    recorded_by = serializers.CharField()


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": False,
        "required": list(policy.INTAKE_QUESTIONS),
        "properties": {
            "use_case": {"type": "string", "minLength": 1, "maxLength": 2000},
            "affected_people": {"type": "string", "enum": list(policy.AFFECTED)},
            "automated_decisions": {"type": "boolean"},
            "significant_effects": {"type": "boolean"},
            "personal_data": {"type": "boolean"},
            "special_category_data": {"type": "boolean"},
            "regulated_domain": {"type": "string", "enum": list(policy.DOMAINS)},
            "safety_component": {"type": "boolean"},
        },
    }
)
class IntakeAnswers(serializers.DictField):
    """The intake questionnaire; the command checks every answer."""


class IntakeInput(StrictInput):
    answers = IntakeAnswers()


class RiskTierInput(input_of(events.RiskTierAssigned)):
    pass


class SuspensionInput(input_of(events.ModelSuspended)):
    pass


class RiskOutput(serializers.Serializer):
    model_id = serializers.UUIDField()
    tier = serializers.CharField(help_text="Confirmed tier; empty until a risk officer confirms")
    proposed_tier = serializers.CharField()
    answers = serializers.DictField(help_text="The intake answers (empty before the intake)")
    overridden = serializers.BooleanField()
    reason = serializers.CharField()
    policy_version = serializers.IntegerField()
    suspended = serializers.BooleanField()
    suspension_reason = serializers.CharField()
    version = serializers.IntegerField(source="stream_version", help_text="ETag of this record")


class EvidenceUploadInput(StrictInput):
    kind = input_field(rules.EVIDENCE_KIND)
    filename = Pattern(rules.FILENAME.pattern, max_length=150)
    size = serializers.IntegerField(min_value=0, max_value=2**53 - 1)
    sha256 = input_field(rules.EVIDENCE_SHA256)


class EvidenceUploadOutput(serializers.Serializer):
    key = serializers.CharField()
    url = serializers.CharField()
    method = serializers.CharField()
    headers = serializers.DictField(child=serializers.CharField())
    expires_at = serializers.DateTimeField()


class EvidenceCreateInput(input_of(events.EvidenceAttached)):
    filename = Pattern(rules.FILENAME.pattern, max_length=150)
    size = serializers.IntegerField(min_value=0, max_value=2**53 - 1)


class EvidenceOutput(serializers.Serializer):
    kind = serializers.CharField()
    waived = serializers.BooleanField()
    uri = serializers.CharField()
    sha256 = serializers.CharField()
    size = serializers.IntegerField(allow_null=True)
    summary = serializers.DictField()
    reason = serializers.CharField()
    expires_at = serializers.DateTimeField(allow_null=True)
    recorded_at = serializers.DateTimeField()
    recorded_by = serializers.CharField()


class WaiverInput(input_of(events.EvidenceWaived)):
    pass


class ReviewCompleteInput(input_of(events.ReviewCompleted)):
    pass


class ReviewOutput(serializers.Serializer):
    id = serializers.UUIDField()
    model_id = serializers.UUIDField()
    version_id = serializers.UUIDField()
    version_number = serializers.IntegerField()
    sequence = serializers.IntegerField(help_text="1 for the version's first periodic review")
    tier = serializers.ChoiceField(choices=policy.TIERS)
    policy_version = serializers.IntegerField(help_text="The policy in force when opened")
    boards = serializers.ListField(child=serializers.CharField())
    anchor_at = serializers.DateTimeField(help_text="Last completed review, or the approval")
    remind_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField()
    escalate_at = serializers.DateTimeField()
    escalate_officer_at = serializers.DateTimeField()
    grace_ends_at = serializers.DateTimeField()
    overdue_action = serializers.ChoiceField(choices=policy.OVERDUE_ACTIONS)
    suspend_approval = serializers.BooleanField()
    status = serializers.ChoiceField(choices=("open", "completed"))
    escalation_level = serializers.IntegerField(
        help_text="0 none, 1 the boards' chairs, 2 the model-risk officers"
    )
    flagged = serializers.BooleanField()
    non_compliant = serializers.BooleanField()
    suspended_request_id = serializers.CharField()
    completed_at = serializers.DateTimeField(allow_null=True)
    completed_by = serializers.IntegerField(allow_null=True)
    board = serializers.CharField()
    outcome = serializers.CharField()
    rationale = serializers.CharField()
    late = serializers.BooleanField()
    opened_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    version = serializers.IntegerField(source="stream_version", help_text="ETag of this review")


class BiasAuditCreateInput(StrictInput):
    spec = JsonObject(help_text="The audit specification (columns, attributes, reference)")
    rows = serializers.ListField(
        child=JsonObject(),
        max_length=100_000,
        required=False,
        help_text="Evaluation rows; or name the attached evidence instead",
    )
    evidence = serializers.ChoiceField(
        choices=["evaluation_data"],
        required=False,
        help_text="Audit the evaluation data attached to the version as evidence",
    )


class BiasAuditOutput(serializers.Serializer):
    id = serializers.UUIDField()
    model_id = serializers.UUIDField()
    version_id = serializers.UUIDField()
    version_number = serializers.IntegerField()
    trigger = serializers.ChoiceField(choices=events.AUDIT_TRIGGERS)
    source = serializers.ChoiceField(
        choices=(rules.FROM_ROWS, rules.FROM_EVIDENCE),
        help_text="`evidence`: the evaluation data attached to the version, re-hashed as it was"
        " read; `rows`: rows a client posted",
    )
    source_label = serializers.SerializerMethodField(
        help_text="Where the audited rows came from, and whether the audit can count"
    )
    counts_for_gate = serializers.SerializerMethodField(
        help_text="Whether this audit can meet the policy's bias-audit requirement: only an"
        " audit of attached evaluation data can; an audit of posted rows never does"
    )
    evidence_sha256 = serializers.CharField()
    tier = serializers.ChoiceField(choices=policy.TIERS)
    policy_version = serializers.IntegerField(help_text="The policy whose thresholds applied")
    verdict = serializers.ChoiceField(choices=("pass", "fail", "not_judged"))
    rows = serializers.IntegerField()
    result = serializers.JSONField(
        help_text="Counts, metrics, reference group and verdict per slice and group"
    )
    recorded_at = serializers.DateTimeField()
    recorded_by = serializers.CharField()

    def get_source_label(self, audit: Any) -> str:
        return rules.AUDIT_SOURCE_LABELS[_audit_source(audit)]

    def get_counts_for_gate(self, audit: Any) -> bool:
        return rules.audit_counts(_audit_source(audit))


def _audit_source(audit: Any) -> str:
    """An audit's source, from its row or from its output already serialized."""
    return audit["source"] if isinstance(audit, dict) else audit.source


class BiasAuditRunOutput(BiasAuditOutput):
    finding_id = serializers.UUIDField(allow_null=True, help_text="Opened when the audit fails")


class FindingCloseInput(input_of(events.FindingClosed)):
    pass


class FindingRiskAcceptInput(input_of(events.FindingRiskAccepted)):
    pass


class FindingRemediationInput(input_of(events.FindingRemediated)):
    pass


class FindingOutput(serializers.Serializer):
    id = serializers.UUIDField()
    model_id = serializers.UUIDField()
    version_id = serializers.UUIDField(
        allow_null=True, help_text="None when the finding concerns the model as a whole"
    )
    version_number = serializers.IntegerField(allow_null=True)
    source = serializers.CharField()
    source_id = serializers.CharField()
    title = serializers.CharField()
    severity = serializers.CharField(help_text="low, medium, high or critical, as the tier")
    owner_team = serializers.CharField()
    boards = serializers.ListField(child=serializers.CharField())
    due_at = serializers.DateTimeField()
    status = serializers.ChoiceField(choices=events.FINDING_STATUSES)
    opened_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)
    closed_by = serializers.IntegerField(allow_null=True)
    resolution = serializers.CharField()
    evidence = serializers.CharField()
    version = serializers.IntegerField(source="stream_version", help_text="ETag of this finding")


# -- serious incidents -------------------------------------------------------------------


class IncidentCreateInput(input_of(events.IncidentReported)):
    version = serializers.IntegerField(
        min_value=1,
        max_value=2147483647,
        required=False,
        help_text="The model version concerned; omit for the model as a whole",
    )


class AuthorityReportInput(input_of(events.IncidentReportedToAuthority)):
    pass


class IncidentCloseInput(input_of(events.IncidentClosed)):
    pass


class Moments(serializers.ListField):
    """Timestamps held as ISO text (read rows) or datetimes (folded state), shown alike."""

    child = serializers.DateTimeField()

    def to_representation(self, data):
        return [
            self.child.to_representation(
                datetime.fromisoformat(value) if isinstance(value, str) else value
            )
            for value in data
        ]


class IncidentOutput(serializers.Serializer):
    id = serializers.UUIDField()
    model_id = serializers.UUIDField()
    version_id = serializers.UUIDField(allow_null=True)
    version_number = serializers.IntegerField(allow_null=True)
    title = serializers.CharField()
    description = serializers.CharField()
    occurred_at = serializers.DateTimeField()
    became_aware_at = serializers.DateTimeField()
    classes = serializers.ListField(child=serializers.ChoiceField(choices=art73.CLASSES))
    tier = serializers.CharField(help_text="The model's tier when reported ('' if unassessed)")
    policy_version = serializers.IntegerField()
    clock_applies = serializers.BooleanField(
        help_text="Whether the EU AI Act Art. 73 reporting clock runs for this incident"
    )
    deadline_at = serializers.DateTimeField(allow_null=True)
    reminder_times = Moments()
    owner_team = serializers.CharField()
    reported_by = serializers.IntegerField()
    status = serializers.ChoiceField(choices=events.OPEN_CLOSED)
    reporting_status = serializers.SerializerMethodField()
    reminders_sent = serializers.IntegerField()
    overdue = serializers.BooleanField(help_text="Marked overdue by the scan (a finding opened)")
    finding_id = serializers.UUIDField(allow_null=True)
    authority_reported_at = serializers.DateTimeField(allow_null=True)
    authority_recorded_by = serializers.IntegerField(allow_null=True)
    authority = serializers.CharField()
    authority_reference = serializers.CharField()
    reported_late = serializers.BooleanField()
    closed_at = serializers.DateTimeField(allow_null=True)
    closed_by = serializers.IntegerField(allow_null=True)
    resolution = serializers.CharField()
    no_report_reason = serializers.CharField()
    opened_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    version = serializers.IntegerField(source="stream_version", help_text="ETag of this incident")

    @extend_schema_field({"type": "string", "enum": list(art73.REPORTING_STATUSES)})
    def get_reporting_status(self, incident) -> str:
        return art73.reporting_status(
            clock_applies=incident.clock_applies,
            deadline_at=incident.deadline_at,
            reported=incident.authority_reported_at is not None,
            closed=incident.status != "open",
            now=clock.now(),
        )
