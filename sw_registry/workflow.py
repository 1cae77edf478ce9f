"""Names environments.py imports from here; the stage changes themselves live in sw_registry/ops/stages.py
(the Workflow mixin is gone: ModelRegistry is a facade over sw_registry/ops)."""

from __future__ import annotations

from .ops.moves import HISTORY_HEADER
from .ops.moves import cell as _cell

__all__ = ["HISTORY_HEADER", "_cell"]
