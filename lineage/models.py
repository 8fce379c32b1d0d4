"""Read tables of lineage. Only lineage/projectors.py writes them.

Nodes are keyed by the id of the stream they stand for (model version, dataset, dataset version)
or by a name-derived id (runs), so a rename only changes `key`. Edges carry the log position
and time that recorded them: that is what `as_of` traversal filters on."""

from django.db import models


class LineageNode(models.Model):
    id = models.UUIDField(primary_key=True)
    key = models.CharField(max_length=600, unique=True)
    kind = models.CharField(max_length=20)
    owner_id = models.UUIDField(null=True)
    number = models.IntegerField(null=True)
    # Runs: the id of the team (group) that first reported the run and alone adds to it.
    team_id = models.IntegerField(null=True)
    position = models.BigIntegerField()
    recorded_at = models.DateTimeField()

    class Meta:
        db_table = "lineage_node"
        ordering = ["key"]
        indexes = [models.Index(fields=["owner_id"], name="lineage_node_owner")]

    def __str__(self) -> str:
        return self.key


class LineageEdge(models.Model):
    id = models.UUIDField(primary_key=True)
    source_id = models.UUIDField()
    target_id = models.UUIDField()
    edge_type = models.CharField(max_length=30)
    position = models.BigIntegerField()
    recorded_at = models.DateTimeField()
    stream_id = models.UUIDField()

    class Meta:
        db_table = "lineage_edge"
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(
                fields=["source_id", "target_id", "edge_type"], name="lineage_edge_unique"
            ),
        ]
        indexes = [
            # Covering indexes: a traversal step reads only the index.
            models.Index(
                fields=["source_id", "target_id", "edge_type", "position"],
                name="lineage_edge_down",
            ),
            models.Index(
                fields=["target_id", "source_id", "edge_type", "position"],
                name="lineage_edge_up",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source_id} -{self.edge_type}-> {self.target_id}"
