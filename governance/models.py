"""Read tables of governance, which only governance/projectors.py writes, and the delivery
log of notification e-mails, which only governance/delivery.py writes."""

from django.db import models

from governance.policy import upgrade_tiers


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

    @property
    def document(self) -> dict:
        """The tiers with fields the stored version predates read as their defaults."""
        return upgrade_tiers(self.tiers)


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


class ApprovalStanding(models.Model):
    """Governance's own view of each approval request: whether it stands (approved, since
    when) and is suspended. Projected from the approvals app's events by their stored names,
    so the review and audit schedules read it without importing the app above them."""

    id = models.UUIDField(primary_key=True)  # the approval request's stream id
    version_id = models.UUIDField(db_index=True)
    target = models.CharField(max_length=30)
    status = models.CharField(max_length=20)
    granted_at = models.DateTimeField(null=True)
    suspended = models.BooleanField(default=False)

    class Meta:
        verbose_name = "approval standing"

    def __str__(self) -> str:
        return f"{self.id} ({self.status}{', suspended' if self.suspended else ''})"


class PeriodicReview(models.Model):
    """A periodic review of a deployed or approved version: its schedule and where it stands."""

    id = models.UUIDField(primary_key=True)
    model_id = models.UUIDField(db_index=True)
    version_id = models.UUIDField()
    version_number = models.IntegerField()
    sequence = models.IntegerField()
    tier = models.CharField(max_length=20, db_index=True)
    policy_version = models.IntegerField()
    boards = models.JSONField(default=list)
    anchor_at = models.DateTimeField()
    remind_at = models.DateTimeField()
    due_at = models.DateTimeField(db_index=True)
    escalate_at = models.DateTimeField()
    escalate_officer_at = models.DateTimeField()
    grace_ends_at = models.DateTimeField()
    overdue_action = models.CharField(max_length=20)
    suspend_approval = models.BooleanField(default=False)
    status = models.CharField(max_length=20, db_index=True)
    reminded = models.BooleanField(default=False)
    escalation_level = models.IntegerField(default=0)
    flagged = models.BooleanField(default=False)
    non_compliant = models.BooleanField(default=False)
    suspended_request_id = models.CharField(max_length=36, blank=True)
    completed_at = models.DateTimeField(null=True)
    completed_by = models.IntegerField(null=True)
    board = models.CharField(max_length=50, blank=True)
    outcome = models.CharField(max_length=30, blank=True)
    rationale = models.TextField(blank=True)
    late = models.BooleanField(default=False)
    opened_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    stream_version = models.BigIntegerField()

    class Meta:
        ordering = ["due_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["version_id", "sequence"], name="governance_review_sequence"
            ),
            # One open review per version, even when two scans race.
            models.UniqueConstraint(
                fields=["version_id"],
                condition=models.Q(status="open"),
                name="governance_one_open_review",
            ),
        ]
        permissions = [("complete_periodicreview", "Can complete periodic reviews")]

    def __str__(self) -> str:
        return f"review {self.sequence} of version {self.version_number} ({self.status})"


class BiasAudit(models.Model):
    """A completed bias audit of a model version: verdict, counts and metrics per group."""

    id = models.UUIDField(primary_key=True)
    model_id = models.UUIDField(db_index=True)
    version_id = models.UUIDField(db_index=True)
    version_number = models.IntegerField()
    trigger = models.CharField(max_length=20)
    source = models.CharField(max_length=20)
    evidence_sha256 = models.CharField(max_length=64, blank=True)
    tier = models.CharField(max_length=20)
    policy_version = models.IntegerField()
    verdict = models.CharField(max_length=20, db_index=True)
    rows = models.BigIntegerField()
    result = models.JSONField(default=dict)
    recorded_at = models.DateTimeField(db_index=True)
    recorded_by = models.CharField(max_length=200)

    class Meta:
        ordering = ["-recorded_at"]

    def __str__(self) -> str:
        return f"bias audit of version {self.version_number}: {self.verdict}"


class Finding(models.Model):
    """A failed check (a bias audit, an overdue incident report) with a severity, an owner and
    a due date; no version when it concerns the model as a whole."""

    id = models.UUIDField(primary_key=True)
    model_id = models.UUIDField(db_index=True)
    version_id = models.UUIDField(null=True)
    version_number = models.IntegerField(null=True)
    source = models.CharField(max_length=30)
    source_id = models.CharField(max_length=36)
    title = models.TextField()
    severity = models.CharField(max_length=20, db_index=True)
    owner_team = models.CharField(max_length=150)
    boards = models.JSONField(default=list)
    due_at = models.DateTimeField()
    status = models.CharField(max_length=20, db_index=True)
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True)
    closed_by = models.IntegerField(null=True)
    resolution = models.TextField(blank=True)
    evidence = models.TextField(blank=True)
    stream_version = models.BigIntegerField()

    class Meta:
        ordering = ["-opened_at"]

    def __str__(self) -> str:
        return f"{self.severity} finding: {self.title}"


class DeliveredNotification(models.Model):
    """One e-mail handed to the mail server: a notification task's message id (the outbox row
    id) and the recipient (`user:<id>`, no address). The unique pair is the claim that makes a
    redelivered task, in any worker process, send nothing twice."""

    message_id = models.CharField(max_length=255)
    recipient = models.CharField(max_length=100)
    delivered_at = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "governance_delivery"
        ordering = ["-delivered_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["message_id", "recipient"], name="governance_delivered_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.message_id} to {self.recipient}"


class Incident(models.Model):
    """A serious incident and its EU AI Act Art. 73 reporting clock (none below the tiers whose
    policy starts one): the deadline, reminders sent, the report to the authority, closure."""

    id = models.UUIDField(primary_key=True)
    model_id = models.UUIDField(db_index=True)
    version_id = models.UUIDField(null=True)
    version_number = models.IntegerField(null=True)
    title = models.CharField(max_length=200)
    description = models.TextField()
    occurred_at = models.DateTimeField()
    became_aware_at = models.DateTimeField()
    classes = models.JSONField(default=list)
    tier = models.CharField(max_length=20, blank=True)
    policy_version = models.IntegerField()
    clock_applies = models.BooleanField()
    deadline_at = models.DateTimeField(null=True)
    reminder_times = models.JSONField(default=list)
    owner_team = models.CharField(max_length=150)
    reported_by = models.IntegerField()
    status = models.CharField(max_length=20, db_index=True)
    reminders_sent = models.IntegerField(default=0)
    overdue = models.BooleanField(default=False)
    finding_id = models.UUIDField(null=True)
    authority_reported_at = models.DateTimeField(null=True)
    authority_recorded_by = models.IntegerField(null=True)
    authority = models.CharField(max_length=200, blank=True)
    authority_reference = models.CharField(max_length=200, blank=True)
    reported_late = models.BooleanField(default=False)
    closed_at = models.DateTimeField(null=True)
    closed_by = models.IntegerField(null=True)
    resolution = models.TextField(blank=True)
    no_report_reason = models.TextField(blank=True)
    opened_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    stream_version = models.BigIntegerField()

    class Meta:
        ordering = ["-became_aware_at"]
        indexes = [
            # The scan's and the legal team's question: which running clocks end first.
            models.Index(
                fields=["deadline_at"],
                condition=models.Q(
                    status="open", clock_applies=True, authority_reported_at__isnull=True
                ),
                name="governance_incident_open_clock",
            ),
        ]

    def __str__(self) -> str:
        return f"incident: {self.title}"
