"""Serializers of the approvals API: strict inputs, outputs shared by rows and folded state."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers import Pattern, StrictInput, Text
from api.shapes import input_of
from approvals.models import ReviewDecision
from approvals.state import DECISIONS, REQUEST_STATUSES, TARGETS
from boards import events as board_events
from boards import rules as board_rules
from governance import policy
from registry import rules as registry_rules

BOARD_NAME = board_rules.BOARD_NAME.pattern


class BoardCreateInput(input_of(board_events.BoardCreated)):
    pass


class BoardMemberInput(StrictInput):
    user_id = serializers.IntegerField(min_value=1, max_value=2**31 - 1)


class BoardOutput(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    title = serializers.CharField()
    members = serializers.SerializerMethodField()
    chair_id = serializers.IntegerField(allow_null=True)
    version = serializers.IntegerField(source="stream_version", help_text="ETag of this board")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_members(self, obj: Any) -> list[int]:
        return sorted(obj.members)


class ApprovalCreateInput(StrictInput):
    model = Pattern(registry_rules.NAME_PATTERN.pattern, max_length=200)
    version = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    target = serializers.ChoiceField(choices=TARGETS, required=False)
    notes = Text(max_length=5000, allow_blank=True, required=False)


class DecisionInput(StrictInput):
    board = Pattern(BOARD_NAME, max_length=50)
    decision = serializers.ChoiceField(choices=DECISIONS)
    rationale = Text(max_length=5000, min_length=1)
    conditions = serializers.ListField(
        child=Text(max_length=1000, min_length=1), max_length=20, required=False
    )


class ApprovalReasonInput(StrictInput):
    reason = Text(max_length=5000, min_length=1)


class DecisionOutput(serializers.Serializer):
    seq = serializers.IntegerField()
    board = serializers.CharField()
    reviewer_id = serializers.IntegerField()
    decision = serializers.ChoiceField(choices=DECISIONS)
    rationale = serializers.CharField()
    conditions = serializers.ListField(child=serializers.CharField())
    evidence_version = serializers.IntegerField()
    recorded_at = serializers.DateTimeField()


class ApprovalOutput(serializers.Serializer):
    id = serializers.UUIDField()
    model_id = serializers.UUIDField()
    version_id = serializers.UUIDField()
    version_number = serializers.IntegerField()
    target = serializers.CharField()
    requester_id = serializers.IntegerField()
    tier = serializers.ChoiceField(choices=policy.TIERS)
    policy_version = serializers.IntegerField(help_text="The policy in force when requested")
    required_evidence = serializers.ListField(child=serializers.CharField())
    boards = serializers.DictField(child=serializers.IntegerField(), help_text="board: quorum")
    validity_days = serializers.IntegerField()
    notes = serializers.CharField()
    status = serializers.ChoiceField(choices=REQUEST_STATUSES)
    granted_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    conditions = serializers.ListField(child=serializers.CharField())
    suspended = serializers.BooleanField()
    suspension_reason = serializers.CharField()
    decisions = serializers.SerializerMethodField()
    version = serializers.IntegerField(source="stream_version", help_text="ETag of this request")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    @extend_schema_field(DecisionOutput(many=True))
    def get_decisions(self, obj: Any) -> list[dict[str, Any]]:
        decisions = getattr(obj, "decisions", None)
        if not isinstance(decisions, tuple):
            decisions = ReviewDecision.objects.filter(request_id=obj.id).order_by("seq")
        return DecisionOutput(decisions, many=True).data


class ReviewedOutput(serializers.Serializer):
    """The facts the request's decisions are given on, taken when it was made (the evidence
    again at each void)."""

    artifact_sha256 = serializers.CharField(help_text="The version's verified artifact")
    evidence = serializers.DictField(
        child=serializers.CharField(), help_text="kind: sha256 of each evidence document"
    )
    tier = serializers.ChoiceField(choices=policy.TIERS, help_text="The confirmed tier")
    answers = serializers.DictField(help_text="The intake answers the tier was confirmed on")
    policy_version = serializers.IntegerField()


class ApprovalDetailOutput(ApprovalOutput):
    reviewed = serializers.SerializerMethodField()
    void_reason = serializers.CharField(help_text="Why the request was last voided, if it was")

    @extend_schema_field(ReviewedOutput)
    def get_reviewed(self, obj: Any) -> dict[str, Any]:
        return ReviewedOutput(obj).data


class BoardCountOutput(serializers.Serializer):
    board = serializers.CharField()
    needed = serializers.IntegerField()
    have = serializers.IntegerField()


class QuorumOutput(serializers.Serializer):
    needed = serializers.IntegerField()
    have = serializers.IntegerField()


class PromotionOutput(serializers.Serializer):
    """What the promotion gate finds; the 409 promotion_blocked body carries the same fields."""

    target = serializers.CharField()
    allowed = serializers.BooleanField()
    tier = serializers.CharField()
    request_id = serializers.UUIDField(allow_null=True)
    request_status = serializers.CharField()
    reasons = serializers.ListField(child=serializers.CharField())
    missing_evidence = serializers.ListField(child=serializers.CharField())
    boards = BoardCountOutput(many=True)
    quorum = QuorumOutput()
    expired = serializers.BooleanField()
    expires_at = serializers.DateTimeField(allow_null=True)
    suspended = serializers.ListField(child=serializers.CharField())
    changed = serializers.ListField(
        child=serializers.CharField(),
        help_text="What differs from the facts the approval was given on: artifact, tier,"
        " evidence:<kind>",
    )
