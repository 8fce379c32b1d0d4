"""Read tables of governance. Only governance/projectors.py writes them."""

from django.db import models


class PolicyVersion(models.Model):
    number = models.IntegerField(primary_key=True)
    stream_id = models.UUIDField()
    tiers = models.JSONField()
    reason = models.TextField(blank=True)
    recorded_at = models.DateTimeField()
    recorded_by = models.CharField(max_length=200)

    class Meta:
        ordering = ["-number"]
        permissions = [("record_policy", "Can record a new risk-tier policy version")]

    def __str__(self) -> str:
        return f"policy v{self.number}"


class ModelRisk(models.Model):
    model_id = models.UUIDField(primary_key=True)
    tier = models.CharField(max_length=20, blank=True, db_index=True)
    proposed_tier = models.CharField(max_length=20, blank=True)
    answers = models.JSONField(default=dict)
    overridden = models.BooleanField(default=False)
    reason = models.TextField(blank=True)
    policy_version = models.IntegerField(default=0)
    suspended = models.BooleanField(default=False)
    suspension_reason = models.TextField(blank=True)
    stream_version = models.BigIntegerField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["model_id"]
        verbose_name = "model risk record"
        permissions = [("assign_risk_tier", "Can confirm or override a model's risk tier")]

    def __str__(self) -> str:
        return f"{self.model_id}: {self.tier or 'unassessed'}"


class Evidence(models.Model):
    # Derived from (version, kind) by the projector, so a replay rebuilds identical rows.
    id = models.UUIDField(primary_key=True)
    version_id = models.UUIDField()
    model_id = models.UUIDField(db_index=True)
    version_number = models.IntegerField()
    kind = models.CharField(max_length=40)
    waived = models.BooleanField(default=False)
    artifact_key = models.TextField(blank=True)
    uri = models.TextField(blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.BigIntegerField(null=True)
    summary = models.JSONField(default=dict)
    reason = models.TextField(blank=True)
    expires_at = models.DateTimeField(null=True)
    recorded_at = models.DateTimeField()
    recorded_by = models.CharField(max_length=200)
    stream_version = models.BigIntegerField()

    class Meta:
        ordering = ["version_id", "kind"]
        verbose_name_plural = "evidence"
        constraints = [
            models.UniqueConstraint(fields=["version_id", "kind"], name="governance_evidence_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} ({'waived' if self.waived else self.sha256[:12]})"
