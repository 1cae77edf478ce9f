"""sw-registry: a git-backed model registry for SpecWeave projects.

    from sw_registry import ModelRegistry
    registry = ModelRegistry(increment="0042")

Importing this package is cheap: names load on first use, and nothing here imports typer, rich or git.
"""

from __future__ import annotations

# no ``typing`` import: it costs a tenth of ``sw-registry --help``; mypy treats this name as typing's
TYPE_CHECKING = False

__version__ = "0.1.0"

_EXPORTS = {
    "ModelRegistry": "sw_registry.registry",
    "ModelVersion": "sw_registry.model",
    "ModelSummary": "sw_registry.model",
    "ModelInfo": "sw_registry.model",
    "PromoteResult": "sw_registry.results",
    "RollbackResult": "sw_registry.results",
    "ApproveResult": "sw_registry.results",
    "DeprecateResult": "sw_registry.results",
    "History": "sw_registry.results",
    "RegistryError": "sw_registry.errors",
    "ModelGovernance": "sw_registry.audit",
    "ModelMonitor": "sw_registry.monitor",
    "MonitorResult": "sw_registry.monitor",
    "track_experiment": "sw_registry.experiments",
    "Experiment": "sw_registry.experiments",
    "MLflowRegistry": "sw_registry.mlflow_mirror",
    "CustomRegistry": "sw_registry.custom",
    "StoreError": "sw_registry.errors",
}

__all__ = [
    "ApproveResult",
    "CustomRegistry",
    "DeprecateResult",
    "Experiment",
    "History",
    "MLflowRegistry",
    "ModelGovernance",
    "ModelInfo",
    "ModelMonitor",
    "ModelRegistry",
    "ModelSummary",
    "ModelVersion",
    "MonitorResult",
    "PromoteResult",
    "RegistryError",
    "RollbackResult",
    "StoreError",
    "track_experiment",
]

if TYPE_CHECKING:
    from typing import Any

    from .audit import ModelGovernance
    from .custom import CustomRegistry
    from .errors import RegistryError, StoreError
    from .experiments import Experiment, track_experiment
    from .mlflow_mirror import MLflowRegistry
    from .model import ModelInfo, ModelSummary, ModelVersion
    from .monitor import ModelMonitor, MonitorResult
    from .registry import ModelRegistry
    from .results import ApproveResult, DeprecateResult, History, PromoteResult, RollbackResult


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sw_registry' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
