"""Serializers of the registry API: strict inputs, outputs shared by rows and folded state."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import serializers

from api.serializers import Integer, Pattern, StrictInput, Text
from api.shapes import input_field, input_of, output_of
from approvals import queries as approval_queries
from governance.queries import tier_of, tiers_of
from registry import events as ev
from registry import rules
from registry.state import STATUSES


class ModelCreateInput(input_of(ev.ModelRegistered)):
    pass


class ModelUpdateInput(input_of(ev.ModelRegistered, partial=True)):
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


class ModelOutput(output_of(ev.ModelRegistered)):
    id = serializers.UUIDField()
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


class VersionCreateInput(input_of(ev.ModelVersionCreated, exclude=("model_id", "number"))):
    pass


class VersionUpdateInput(StrictInput):
    description = input_field(rules.LONG_TEXT, partial=True)
    tags = input_field(rules.TAG_MAP)
    status = serializers.ChoiceField(choices=STATUSES, required=False)
    reason = Text(max_length=2000, allow_blank=True, required=False)


class VersionOutput(output_of(ev.ModelVersionCreated)):
    id = serializers.UUIDField()
    status = serializers.CharField()
    artifact_verified = serializers.BooleanField()
    created_by = serializers.CharField()
    version = serializers.IntegerField(source="stream_version", help_text="ETag of this object")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def to_representation(self, instance: Any) -> Any:
        """The artifact's storage path only for those party to the model (owners, its boards,
        officers, auditors); everyone else reads the version without it."""
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is not None:
            parties = self.context.setdefault("_parties", {})
            model_id = str(instance.model_id)
            if model_id not in parties:
                parties[model_id] = approval_queries.party_to(request.user, model_id)
            if not parties[model_id]:
                data["artifact_uri"] = ""
        return data


class AliasInput(StrictInput):
    version = Integer(min_value=1, max_value=2**31 - 1)


class AliasOutput(serializers.Serializer):
    alias = serializers.CharField()
    version = serializers.IntegerField()


class DatasetCreateInput(input_of(ev.DatasetRegistered)):
    pass


class DatasetOutput(output_of(ev.DatasetRegistered)):
    id = serializers.UUIDField()
    latest_version = serializers.IntegerField()
    version = serializers.IntegerField(source="stream_version", help_text="ETag of this object")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class DatasetVersionCreateInput(
    input_of(ev.DatasetVersionCreated, exclude=("dataset_id", "number"))
):
    pass


class DatasetVersionOutput(output_of(ev.DatasetVersionCreated)):
    id = serializers.UUIDField()
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
