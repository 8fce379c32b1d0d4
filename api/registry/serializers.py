"""Serializers of the registry API: strict inputs, outputs shared by rows and folded state."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import serializers

from api.serializers import Integer, JsonObject, LeanFields, Pattern, StrictInput, Tags, Text
from governance.queries import tier_of, tiers_of
from registry import rules
from registry.state import STATUSES

TEXT = 10_000
DATASET_NAME = rules.DATASET_NAME.pattern
DATASET_REF = rules.DATASET_REF_PATTERN


MODEL_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$"


class ModelCreateInput(StrictInput):
    name = Pattern(MODEL_NAME, max_length=200)
    team = Text(max_length=150)
    description = Text(max_length=TEXT, allow_blank=True, required=False)
    intended_use = Text(max_length=TEXT, allow_blank=True, required=False)
    limitations = Text(max_length=TEXT, allow_blank=True, required=False)
    tags = Tags(required=False)


class ModelUpdateInput(StrictInput):
    name = Pattern(MODEL_NAME, max_length=200, required=False)
    team = Text(max_length=150, required=False)
    description = Text(max_length=TEXT, allow_blank=True, required=False)
    intended_use = Text(max_length=TEXT, allow_blank=True, required=False)
    limitations = Text(max_length=TEXT, allow_blank=True, required=False)
    tags = Tags(required=False)
    archived = serializers.BooleanField(
        required=False, help_text="true archives the model; an archived model stays archived"
    )
    reason = Text(max_length=2000, allow_blank=True, required=False)


class _ModelListOutput(serializers.ListSerializer):
    """Looks up the risk tiers of a whole page at once instead of one query per model."""

    def to_representation(self, data: Any) -> Any:
        items = list(data.all() if hasattr(data, "all") else data)
        self._context = {**self._context, "risk_tiers": tiers_of([o.id for o in items])}
        return super().to_representation(items)


class ModelOutput(LeanFields):
    id = serializers.UUIDField()
    name = serializers.CharField()
    team = serializers.CharField()
    description = serializers.CharField()
    intended_use = serializers.CharField()
    limitations = serializers.CharField()
    tags = serializers.DictField(child=serializers.CharField())
    archived = serializers.BooleanField()
    latest_version = serializers.IntegerField()
    aliases = serializers.SerializerMethodField()
    risk_tier = serializers.SerializerMethodField(
        help_text="Confirmed risk tier (low, medium, high, critical); empty until confirmed"
    )
    version = serializers.IntegerField(source="stream_version", help_text="ETag of this object")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    class Meta:
        list_serializer_class = _ModelListOutput

    def get_risk_tier(self, obj: Any) -> str:
        tiers = self.context.get("risk_tiers")
        if tiers is not None:
            return tiers.get(str(obj.id), "")
        return tier_of(obj.id)

    def get_aliases(self, obj: Any) -> dict[str, int]:
        return dict(
            getattr(obj, "aliases", None) or self.context.get("aliases", {}).get(obj.id, {})
        )


class VersionCreateInput(StrictInput):
    description = Text(max_length=TEXT, allow_blank=True, required=False)
    artifact_uri = Text(max_length=2000, allow_blank=True, required=False)
    artifact_sha256 = Pattern(r"^[0-9a-f]{64}$", required=False, allow_blank=True)
    artifact_size = Integer(min_value=0, max_value=2**53 - 1, required=False)
    framework = Text(max_length=100, allow_blank=True, required=False)
    parameters = JsonObject(required=False)
    metrics = JsonObject(required=False)
    signature = JsonObject(required=False)
    code_repo = Text(max_length=500, allow_blank=True, required=False)
    code_commit = Pattern(r"^[0-9a-f]{7,64}$", required=False, allow_blank=True)
    run_id = Text(max_length=200, allow_blank=True, required=False)
    training_datasets = serializers.ListField(
        child=Pattern(DATASET_REF, max_length=520), max_length=100, required=False
    )
    evaluation_datasets = serializers.ListField(
        child=Pattern(DATASET_REF, max_length=520), max_length=100, required=False
    )
    tags = Tags(required=False)


class VersionUpdateInput(StrictInput):
    description = Text(max_length=TEXT, allow_blank=True, required=False)
    tags = Tags(required=False)
    status = serializers.ChoiceField(choices=STATUSES, required=False)
    reason = Text(max_length=2000, allow_blank=True, required=False)


class VersionOutput(LeanFields):
    id = serializers.UUIDField()
    model_id = serializers.UUIDField()
    number = serializers.IntegerField()
    status = serializers.CharField()
    description = serializers.CharField()
    artifact_uri = serializers.CharField()
    artifact_sha256 = serializers.CharField()
    artifact_size = serializers.IntegerField(allow_null=True)
    artifact_verified = serializers.BooleanField()
    framework = serializers.CharField()
    parameters = serializers.DictField()
    metrics = serializers.DictField()
    signature = serializers.DictField()
    code_repo = serializers.CharField()
    code_commit = serializers.CharField()
    run_id = serializers.CharField()
    training_datasets = serializers.ListField(child=serializers.CharField())
    evaluation_datasets = serializers.ListField(child=serializers.CharField())
    tags = serializers.DictField(child=serializers.CharField())
    created_by = serializers.CharField()
    version = serializers.IntegerField(source="stream_version", help_text="ETag of this object")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class AliasInput(StrictInput):
    version = Integer(min_value=1, max_value=2**31 - 1)


class AliasOutput(serializers.Serializer):
    alias = serializers.CharField()
    version = serializers.IntegerField()


class DatasetCreateInput(StrictInput):
    name = Pattern(DATASET_NAME, max_length=500)
    team = Text(max_length=150)
    description = Text(max_length=TEXT, allow_blank=True, required=False)
    tags = Tags(required=False)


class DatasetOutput(LeanFields):
    id = serializers.UUIDField()
    name = serializers.CharField()
    team = serializers.CharField()
    description = serializers.CharField()
    tags = serializers.DictField(child=serializers.CharField())
    latest_version = serializers.IntegerField()
    version = serializers.IntegerField(source="stream_version", help_text="ETag of this object")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class DatasetVersionCreateInput(StrictInput):
    uri = Text(max_length=2000)
    checksum = Text(max_length=200, allow_blank=True, required=False)
    schema = JsonObject(required=False)
    row_count = Integer(min_value=0, max_value=2**53 - 1, required=False)
    pii_categories = serializers.ListField(
        child=Text(max_length=100), max_length=50, required=False
    )
    legal_basis = Text(max_length=100, allow_blank=True, required=False)
    owner = Text(max_length=150, allow_blank=True, required=False)
    retention_days = Integer(min_value=0, max_value=100_000, required=False)
    description = Text(max_length=TEXT, allow_blank=True, required=False)
    tags = Tags(required=False)


class DatasetVersionOutput(LeanFields):
    id = serializers.UUIDField()
    dataset_id = serializers.UUIDField()
    number = serializers.IntegerField()
    uri = serializers.CharField()
    checksum = serializers.CharField()
    schema = serializers.DictField()
    row_count = serializers.IntegerField(allow_null=True)
    pii_categories = serializers.ListField(child=serializers.CharField())
    legal_basis = serializers.CharField()
    owner = serializers.CharField()
    retention_days = serializers.IntegerField(allow_null=True)
    description = serializers.CharField()
    tags = serializers.DictField(child=serializers.CharField())
    version = serializers.IntegerField(source="stream_version", help_text="ETag of this object")
    created_at = serializers.DateTimeField()


SHA256_HEX = r"^[0-9a-fA-F]{64}$"
# Plain names only (model.pkl, weights-v2.safetensors): no path, no leading dot or dash.
ARTIFACT_FILENAME = r"^[A-Za-z0-9_][A-Za-z0-9._+=@,-]{0,199}$"


class ArtifactUploadInput(StrictInput):
    filename = Pattern(
        ARTIFACT_FILENAME,
        max_length=200,
        help_text="The file's name inside the version's artifact folder.",
    )
    size = Integer(
        min_value=0,
        max_value=settings.ARTIFACT_MAX_UPLOAD,
        help_text="Bytes (at most ARTIFACT_MAX_UPLOAD, 5 GiB by default)",
    )
    sha256 = Pattern(SHA256_HEX, help_text="SHA-256 of the bytes, hexadecimal")
    expires_in = Integer(
        min_value=1, max_value=7 * 24 * 3600, required=False, help_text="URL lifetime, seconds"
    )


class PendingArtifactOutput(serializers.Serializer):
    key = serializers.CharField()
    uri = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    method = serializers.ChoiceField(choices=["presigned", "direct"])


class ArtifactOutput(serializers.Serializer):
    uri = serializers.CharField(source="artifact_uri")
    sha256 = serializers.CharField(source="artifact_sha256")
    size = serializers.IntegerField(source="artifact_size", allow_null=True)
    verified = serializers.BooleanField(
        source="artifact_verified", help_text="true once the server checked size and sha256"
    )
    pending = PendingArtifactOutput(source="pending_artifact", allow_null=True)
    version = serializers.IntegerField(source="stream_version", help_text="ETag of the version")


class ArtifactUploadOutput(serializers.Serializer):
    url = serializers.URLField(help_text="Send the bytes here, with the method and headers given")
    method = serializers.CharField()
    headers = serializers.DictField(child=serializers.CharField())
    expires_at = serializers.DateTimeField()
    artifact = ArtifactOutput()
