"""Read tables of the registry. Only registry/projectors.py writes them."""

from django.db import models
from django.db.models.functions import Lower


class RegisteredModel(models.Model):
    id = models.UUIDField(primary_key=True)
    name = models.CharField(max_length=200)
    team = models.CharField(max_length=150, db_index=True)
    description = models.TextField(blank=True)
    intended_use = models.TextField(blank=True)
    limitations = models.TextField(blank=True)
    tags = models.JSONField(default=dict)
    archived = models.BooleanField(default=False)
    latest_version = models.IntegerField(default=0)
    stream_version = models.BigIntegerField()
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    created_by = models.CharField(max_length=200)

    class Meta:
        ordering = ["name"]
        constraints = [
            # The one place that makes names unique, case-insensitively, even under races.
            models.UniqueConstraint(Lower("name"), name="registry_model_name_ci"),
        ]
        permissions = [("review_modelversion", "Can accept or reject a model version review")]

    def __str__(self) -> str:
        return self.name


class ModelVersion(models.Model):
    id = models.UUIDField(primary_key=True)
    model_id = models.UUIDField(db_index=True)
    number = models.IntegerField()
    status = models.CharField(max_length=20, db_index=True)
    description = models.TextField(blank=True)
    artifact_uri = models.TextField(blank=True)
    artifact_sha256 = models.CharField(max_length=64, blank=True)
    artifact_size = models.BigIntegerField(null=True)
    artifact_verified = models.BooleanField(default=False)
    framework = models.CharField(max_length=100, blank=True)
    parameters = models.JSONField(default=dict)
    metrics = models.JSONField(default=dict)
    signature = models.JSONField(default=dict)
    code_repo = models.CharField(max_length=500, blank=True)
    code_commit = models.CharField(max_length=64, blank=True)
    run_id = models.CharField(max_length=200, blank=True)
    training_datasets = models.JSONField(default=list)
    evaluation_datasets = models.JSONField(default=list)
    tags = models.JSONField(default=dict)
    stream_version = models.BigIntegerField()
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    created_by = models.CharField(max_length=200)

    class Meta:
        ordering = ["model_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["model_id", "number"], name="registry_version_number"),
        ]

    def __str__(self) -> str:
        return f"version {self.number}"


class ModelAlias(models.Model):
    model_id = models.UUIDField()
    alias = models.CharField(max_length=63)
    version = models.IntegerField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["model_id", "alias"]
        constraints = [
            models.UniqueConstraint(fields=["model_id", "alias"], name="registry_alias_unique"),
        ]
        verbose_name_plural = "model aliases"

    def __str__(self) -> str:
        return f"{self.alias} -> {self.version}"


class Dataset(models.Model):
    id = models.UUIDField(primary_key=True)
    name = models.CharField(max_length=500)
    team = models.CharField(max_length=150, db_index=True)
    description = models.TextField(blank=True)
    tags = models.JSONField(default=dict)
    latest_version = models.IntegerField(default=0)
    stream_version = models.BigIntegerField()
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    created_by = models.CharField(max_length=200)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="registry_dataset_name_ci"),
        ]

    def __str__(self) -> str:
        return self.name


class DatasetVersion(models.Model):
    id = models.UUIDField(primary_key=True)
    dataset_id = models.UUIDField(db_index=True)
    number = models.IntegerField()
    uri = models.TextField()
    checksum = models.CharField(max_length=200, blank=True)
    schema = models.JSONField(default=dict)
    row_count = models.BigIntegerField(null=True)
    pii_categories = models.JSONField(default=list)
    legal_basis = models.CharField(max_length=100, blank=True)
    owner = models.CharField(max_length=150, blank=True)
    retention_days = models.IntegerField(null=True)
    description = models.TextField(blank=True)
    tags = models.JSONField(default=dict)
    stream_version = models.BigIntegerField()
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=200)

    class Meta:
        ordering = ["dataset_id", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["dataset_id", "number"], name="registry_dataset_version_number"
            ),
        ]

    def __str__(self) -> str:
        return f"dataset version {self.number}"


class DefaultTeam(models.Model):
    """The team a user's machine clients act for where a request names none (OpenLineage
    datasets first seen, MLflow): a group id, checked again against memberships when used."""

    user_id = models.IntegerField(primary_key=True)
    team_id = models.IntegerField()
    team = models.CharField(max_length=150)
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"user {self.user_id}: {self.team}"


class UserPreferences(models.Model):
    """How the admin shows things to one user: a configuration row the user edits in the admin
    (no event: it changes no governed fact). Beside DefaultTeam, the other per-user setting.
    Without a row, times are shown in the server's TIME_ZONE."""

    user_id = models.IntegerField(primary_key=True)
    time_zone = models.CharField(max_length=64)

    class Meta:
        verbose_name = "display preference"
        verbose_name_plural = "display preferences"

    def __str__(self) -> str:
        return f"user {self.user_id}: {self.time_zone}"


class DatasetPrefix(models.Model):
    """A dataset name prefix claimed for a team: only that team registers datasets under it."""

    id = models.UUIDField(primary_key=True)
    prefix = models.CharField(max_length=500)
    team_id = models.IntegerField()
    team = models.CharField(max_length=150)
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=200)

    class Meta:
        ordering = ["prefix"]
        verbose_name_plural = "dataset prefixes"
        constraints = [
            models.UniqueConstraint(Lower("prefix"), name="registry_dataset_prefix_ci"),
        ]

    def __str__(self) -> str:
        return f"{self.prefix} ({self.team})"
