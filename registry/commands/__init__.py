"""Registry commands: load -> decide -> append. The only writers of registry state.

Each command takes the actor first and keyword arguments only, checks input and permissions,
folds the aggregate from its events, and appends with the version it read, so a concurrent
change surfaces as ConcurrencyConflict (409) rather than a lost update.

One module per aggregate: models, versions (with their artifacts) and aliases, and datasets;
what they share is in common. Callers import this package: `commands.create_model_version`."""

from __future__ import annotations

from registry.commands.aliases import assign_alias, remove_alias
from registry.commands.artifacts import authorize_artifact_upload, upload_artifact, verify_artifact
from registry.commands.common import NUMBERING_ATTEMPTS
from registry.commands.datasets import DatasetVersionInput, create_dataset_version, register_dataset
from registry.commands.models import (
    MODEL_FIELDS,
    archive_model,
    change_model,
    register_model,
    rename_model,
    update_model,
)
from registry.commands.teams import choose_default_team, claim_dataset_prefix
from registry.commands.versions import (
    VersionInput,
    create_model_version,
    transition_model_version,
    update_model_version,
)

# Callers that act on a version through the commands also read it back from here.
from registry.streams import load_version

__all__ = [
    "MODEL_FIELDS",
    "NUMBERING_ATTEMPTS",
    "DatasetVersionInput",
    "VersionInput",
    "archive_model",
    "assign_alias",
    "authorize_artifact_upload",
    "change_model",
    "choose_default_team",
    "claim_dataset_prefix",
    "create_dataset_version",
    "create_model_version",
    "load_version",
    "register_dataset",
    "register_model",
    "remove_alias",
    "rename_model",
    "transition_model_version",
    "update_model",
    "update_model_version",
    "upload_artifact",
    "verify_artifact",
]
