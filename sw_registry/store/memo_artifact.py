"""The read memo's check of ``registry-get`` (SPEC §7.13): a kept answer names a verified single-file artifact in the
work tree, and is given again only while that file still hashes to what its metadata recorded."""

from __future__ import annotations

import os

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import Any


def artifact_check(data: Any, root: str) -> tuple[str, str, int] | None:
    """(path, sha256, size) of a verified single-file artifact in the work tree; None for anything else."""
    if not isinstance(data, dict) or data.get("verified") is not True:
        return None
    art = data.get("artifact")
    path, sha256 = data.get("path"), data.get("sha256")
    if not isinstance(art, dict) or not isinstance(path, str) or not isinstance(sha256, str):
        return None
    size = art.get("size_bytes")
    store = art.get("store")
    if not isinstance(size, int) or (isinstance(store, str) and "://" in store):
        return None
    if not path.startswith(root + "/") or not os.path.isfile(path):
        return None
    return path, sha256, size


def still_verified(check: tuple[str, str, int]) -> bool:
    """registry-get: the artifact still hashes to what its metadata recorded (else the full path says why)."""
    path, sha256, size = check
    try:
        if os.path.getsize(path) != size or not os.path.isfile(path):
            return False
        import hashlib

        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
    except OSError:
        return False
    return bool(digest.hexdigest() == sha256)
