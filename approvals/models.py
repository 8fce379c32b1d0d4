"""Read tables of approvals, written only by approvals/projectors.py, and the proxy through
which the admin shows the boards app's table."""

from django.db import models

from boards import models as boards_models


class Board(boards_models.Board):
    """The review boards as the approvals admin shows them, at /admin/approvals/board/: a proxy
    of boards.Board, the read table. Boards were part of approvals once; the proxy keeps their
    content type (approvals, board), so the admin URLs, the permission strings
    `approvals.view_board` and `approvals.manage_board`, and every grant of them made before the
    move, stay as they were. Code outside the admin reads boards.models.Board."""

    class Meta:
        proxy = True
        # Declared here rather than on boards.Board: a permission belongs to its model's content
        # type, and existing grants of `approvals.manage_board` point at this one.
        permissions = [("manage_board", "Can create boards and change their members")]


class ApprovalRequest(models.Model):
    id = models.UUIDField(primary_key=True)
    model_id = models.UUIDField(db_index=True)
    version_id = models.UUIDField(db_index=True)
    version_number = models.IntegerField()
    target = models.CharField(max_length=30)
    requester_id = models.IntegerField()
    tier = models.CharField(max_length=20)
    policy_version = models.IntegerField()
    required_evidence = models.JSONField(default=list)
    boards = models.JSONField(default=dict)
    validity_days = models.IntegerField()
    notes = models.TextField(blank=True)
    status = models.CharField(max_length=20, db_index=True)
    granted_at = models.DateTimeField(null=True)
    expires_at = models.DateTimeField(null=True)
    conditions = models.JSONField(default=list)
    suspended = models.BooleanField(default=False)
    suspension_reason = models.TextField(blank=True)
    stream_version = models.BigIntegerField()
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # At most one active request per version and target, even under races.
            models.UniqueConstraint(
                fields=["version_id", "target"],
                condition=models.Q(status__in=["open", "changes_requested"]),
                name="approvals_one_active_request",
            ),
        ]
        permissions = [("decide_approvalrequest", "Can record review decisions")]

    def __str__(self) -> str:
        return f"approval {self.id} ({self.status})"


class ReviewDecision(models.Model):
    # Derived from (request, seq) by the projector, so a replay rebuilds identical rows.
    id = models.UUIDField(primary_key=True)
    request_id = models.UUIDField(db_index=True)
    seq = models.BigIntegerField()
    board = models.CharField(max_length=50)
    reviewer_id = models.IntegerField(db_index=True)
    decision = models.CharField(max_length=20)
    rationale = models.TextField()
    conditions = models.JSONField(default=list)
    evidence_version = models.BigIntegerField()
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["request_id", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["request_id", "seq"], name="approvals_decision_seq"),
        ]

    def __str__(self) -> str:
        return f"{self.decision} by user {self.reviewer_id} for {self.board}"
