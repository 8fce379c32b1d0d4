"""Read table of boards. Only boards/projectors.py writes it."""

from django.db import models
from django.db.models.functions import Lower


class Board(models.Model):
    id = models.UUIDField(primary_key=True)
    name = models.CharField(max_length=50)
    title = models.CharField(max_length=200, blank=True)
    members = models.JSONField(default=list)
    chair_id = models.IntegerField(null=True)
    stream_version = models.BigIntegerField()
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        # The table and its constraint keep the names they had while boards were part of
        # approvals (the model moved; the table did not).
        db_table = "approvals_board"
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="approvals_board_name_ci")]

    def __str__(self) -> str:
        return self.name
