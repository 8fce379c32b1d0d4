"""Registry errors: each a DomainError with a stable code and HTTP status."""

from core.errors import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied


class ModelNotFound(NotFound):
    code = "model_not_found"
    title = "No such model"


class ModelVersionNotFound(NotFound):
    code = "model_version_not_found"
    title = "No such model version"


class DatasetNotFound(NotFound):
    code = "dataset_not_found"
    title = "No such dataset"


class DatasetVersionNotFound(NotFound):
    code = "dataset_version_not_found"
    title = "No such dataset version"


class NameTaken(Conflict):
    code = "name_taken"
    title = "The name is already in use"


class ModelIsArchived(Conflict):
    code = "model_archived"
    title = "The model is archived"


class InvalidTransition(Conflict):
    code = "invalid_transition"
    title = "That lifecycle transition is not allowed"


class ArtifactAlreadyStored(Conflict):
    code = "artifact_already_stored"
    title = "The version's artifact is already stored"


class ArtifactTampered(Conflict):
    code = "artifact_tampered"
    title = "The stored artifact is not the one that was verified"


class AliasReserved(PermissionDenied):
    code = "alias_reserved"
    title = "The alias is reserved for the promotion gate"


class AliasNotFound(NotFound):
    code = "alias_not_found"
    title = "No such alias"


class NotOwner(PermissionDenied):
    code = "not_owner"
    title = "Only the owning team may change this"


class SeparationOfDutiesViolation(PermissionDenied):
    code = "sod_violation"
    title = "Separation of duties forbids this"


class UnknownTeam(InvalidInput):
    code = "unknown_team"
    status = 422
    title = "No such team"


class InvalidName(InvalidInput):
    code = "invalid_name"
    title = "The name is not valid"


class UnknownDatasetVersion(InvalidInput):
    code = "unknown_dataset_version"
    status = 422
    title = "A referenced dataset version does not exist"


__all__ = [name for name in dir() if not name.startswith("_")] + ["DomainError"]
