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


class NotATeam(InvalidInput):
    code = "not_a_team"
    status = 422
    title = "The group holds a role, not models and datasets"


class NotAMember(InvalidInput):
    code = "not_a_member"
    status = 422
    title = "The user is not a member of that team"


class NotUserAdmin(PermissionDenied):
    code = "not_user_admin"
    title = "Only the user themselves or an administrator may choose their default team"


class NotPrefixAdmin(PermissionDenied):
    code = "not_prefix_admin"
    title = "Only administrators claim dataset name prefixes for teams"


class PrefixClaimed(PermissionDenied):
    code = "prefix_claimed"
    title = "The dataset name falls under a prefix another team has claimed"


class PrefixConflict(Conflict):
    code = "prefix_conflict"
    title = "The prefix overlaps another team's claim or datasets"


__all__ = [name for name in dir() if not name.startswith("_")] + ["DomainError"]
