"""CustomRegistry: the seed's "custom storage" — a ModelRegistry whose artifact store is ``storage_uri`` (SPEC §11)."""

from __future__ import annotations

import os
from typing import Any

from .registry import ModelRegistry


class CustomRegistry(ModelRegistry):
    """``CustomRegistry(storage_uri="s3://bucket/prefix", increment="0042")``: new artifacts go to ``storage_uri``
    as if registry.yaml's ``artifact_store`` said so (its ``artifact_store_options`` still apply). A registry.yaml
    that names a different store is a ``config_error`` at the first write, so two writers never put one model's
    versions in two places. ``storage_uri="git"`` keeps artifacts in git, as a plain ModelRegistry does."""

    def __init__(
        self,
        storage_uri: str,
        increment: str | None = None,
        root: str | os.PathLike[str] | None = None,
        **kwargs: Any,
    ) -> None:
        from .store.objectstore import check_url

        check_url(storage_uri, "storage_uri")
        super().__init__(increment=increment, root=root, **kwargs)
        self.storage_uri = storage_uri
