"""The one vocabulary of failure: every refusal is a RegistryError (SPEC §9)."""

from __future__ import annotations

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import Any

# code -> process exit code (SPEC §9)
EXIT_CODES: dict[str, int] = {
    "invalid_transition": 1,
    "approval_required": 1,
    "not_an_approver": 1,
    "breaking_change": 1,
    "deprecated": 1,
    "stale_docs": 1,
    "threshold_breached": 1,
    "usage": 2,
    "invalid_name": 2,
    "invalid_version": 2,
    "invalid_input": 2,
    "config_error": 2,
    "not_found": 3,
    "integrity": 4,
    "dirty_registry": 4,
    "already_exists": 5,
    "locked": 5,
    "conflict": 5,
    "git_error": 6,
    "not_a_git_repo": 6,
    "store_error": 7,
    "internal": 70,
}


class RegistryError(Exception):
    """A refusal the user can act on: a stable ``code``, an exit code and a hint."""

    code = "internal"

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        details: dict[str, Any] | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        if code is not None:
            if code not in EXIT_CODES:
                raise ValueError(f"unknown error code {code!r}")
            self.code = code
        self.message = message
        self.hint = hint
        self.details = details

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.code]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message, "hint": self.hint}
        if self.details is not None:
            out["details"] = self.details
        return out


def _subclass(name: str, code: str, doc: str) -> type[RegistryError]:
    return type(name, (RegistryError,), {"code": code, "__doc__": doc})


InvalidTransition = _subclass("InvalidTransition", "invalid_transition", "A stage change the lifecycle forbids.")
ApprovalRequired = _subclass("ApprovalRequired", "approval_required", "Promotion lacks approvals.")
NotAnApprover = _subclass("NotAnApprover", "not_an_approver", "The actor may not approve this version.")
BreakingChange = _subclass("BreakingChange", "breaking_change", "A signature change needs a major version.")
Deprecated = _subclass("Deprecated", "deprecated", "The target version is deprecated.")
StaleDocs = _subclass("StaleDocs", "stale_docs", "The living doc is out of date.")
ThresholdBreached = _subclass("ThresholdBreached", "threshold_breached", "A monitor threshold breached.")
UsageError = _subclass("UsageError", "usage", "The command line is wrong.")
InvalidName = _subclass("InvalidName", "invalid_name", "A model name breaks SPEC §3.")
InvalidVersion = _subclass("InvalidVersion", "invalid_version", "A version breaks SPEC §3.")
InvalidInput = _subclass("InvalidInput", "invalid_input", "An input value or file is wrong.")
ConfigError = _subclass("ConfigError", "config_error", "registry.yaml is invalid.")
NotFound = _subclass("NotFound", "not_found", "No such model, version, increment or holder.")
IntegrityError = _subclass("IntegrityError", "integrity", "Stored data is damaged or unexpected.")
DirtyRegistry = _subclass("DirtyRegistry", "dirty_registry", "Registry files have uncommitted changes.")
AlreadyExists = _subclass("AlreadyExists", "already_exists", "The version exists already.")
Locked = _subclass("Locked", "locked", "Another writer holds the lock.")
Conflict = _subclass("Conflict", "conflict", "Concurrent remote change could not be reconciled.")
GitError = _subclass("GitError", "git_error", "git refused.")
NotAGitRepo = _subclass("NotAGitRepo", "not_a_git_repo", "No git work tree here.")
StoreError = _subclass(
    "StoreError", "store_error", "An artifact store, MLflow server or other registry could not be reached or refused."
)
