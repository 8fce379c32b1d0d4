"""Tables of the event store. The log tables are created by hand-written SQL in migrations
(identity, xid8, append-only triggers) and are unmanaged here; StreamIndex is a projection."""

from django.db import models


class Event(models.Model):
    """One immutable fact. PostgreSQL triggers reject UPDATE, DELETE and TRUNCATE."""

    position = models.BigIntegerField(primary_key=True)
    stream_id = models.UUIDField()
    stream_type = models.CharField(max_length=100)
    version = models.BigIntegerField()
    type = models.CharField(max_length=200)
    schema_version = models.IntegerField()
    data = models.JSONField()
    metadata = models.JSONField()
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField()
    prev_hash = models.BinaryField()
    hash = models.BinaryField()

    class Meta:
        managed = False
        db_table = "eventstore_event"
        ordering = ["position"]

    def __str__(self) -> str:
        return f"#{self.position} {self.type} ({self.stream_type} v{self.version})"


class IdempotencyKey(models.Model):
    """The first result of a request made with an Idempotency-Key, per actor."""

    id = models.BigAutoField(primary_key=True)
    actor = models.CharField(max_length=200)
    key = models.CharField(max_length=200)
    fingerprint = models.BinaryField()
    stream_id = models.UUIDField()
    first_version = models.BigIntegerField(null=True)
    last_version = models.BigIntegerField(null=True)
    positions = models.JSONField(null=True)
    created_at = models.DateTimeField()

    class Meta:
        managed = False
        db_table = "eventstore_idempotency"

    def __str__(self) -> str:
        return f"{self.actor}:{self.key}"


class OutboxMessage(models.Model):
    """A side effect recorded with its events, delivered after commit until it succeeds."""

    id = models.UUIDField(primary_key=True)
    position = models.BigIntegerField(null=True)
    task = models.CharField(max_length=200)
    kwargs = models.JSONField()
    created_at = models.DateTimeField()
    attempts = models.IntegerField()
    next_attempt_at = models.DateTimeField()
    dispatched_at = models.DateTimeField(null=True)
    completed_at = models.DateTimeField(null=True)
    last_error = models.TextField()

    class Meta:
        managed = False
        db_table = "eventstore_outbox"
        ordering = ["created_at"]

    def __str__(self) -> str:
        if self.completed_at:
            return f"{self.task} (done)"
        return f"{self.task} ({'sent' if self.dispatched_at else 'pending'})"


class LedgerLeaf(models.Model):
    """The Merkle tree order of the log: leaf numbers assigned by one sequencer."""

    leaf_index = models.BigIntegerField(primary_key=True)
    position = models.BigIntegerField(unique=True)
    stream_id = models.UUIDField()
    version = models.BigIntegerField()
    leaf_hash = models.BinaryField()

    class Meta:
        managed = False
        db_table = "eventstore_leaf"
        ordering = ["leaf_index"]

    def __str__(self) -> str:
        return f"leaf {self.leaf_index} (event #{self.position})"


class Checkpoint(models.Model):
    """A signed statement of the log's Merkle tree size and root."""

    id = models.BigAutoField(primary_key=True)
    tree_size = models.BigIntegerField()
    root_hash = models.BinaryField()
    frontier = models.JSONField()
    origin = models.CharField(max_length=200)
    key_id = models.CharField(max_length=64)
    signature = models.BinaryField()
    note = models.TextField()
    created_at = models.DateTimeField()
    # The extension lines of the signed note (NULL on checkpoints signed before them).
    heads_root = models.BinaryField(null=True)
    heads_count = models.BigIntegerField(null=True)
    previous_size = models.BigIntegerField(null=True)
    previous_root = models.BinaryField(null=True)

    class Meta:
        managed = False
        db_table = "eventstore_checkpoint"
        ordering = ["tree_size"]

    def __str__(self) -> str:
        return f"checkpoint {self.tree_size} {bytes(self.root_hash).hex()[:16]}"


class StreamIndex(models.Model):
    """Projection: the catalogue of streams, one row written when a stream starts."""

    stream_id = models.UUIDField(primary_key=True)
    stream_type = models.CharField(max_length=100, db_index=True)
    first_event_type = models.CharField(max_length=200)
    first_position = models.BigIntegerField()
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=200)

    class Meta:
        verbose_name_plural = "stream index"
        ordering = ["-first_position"]

    def __str__(self) -> str:
        return f"{self.stream_type}/{self.stream_id}"
