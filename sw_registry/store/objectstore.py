"""Artifacts in object storage through fsspec (SPEC §5 ``artifact_store``, §11).

Objects are content-addressed: a file's bytes live at ``<store>/sha256/<first two hex>/<sha256>``, so an object
is written once and never changes. A folder artifact is one object per file (each at its own content address, so
files shared between versions are stored once) plus a manifest object: the ``sha256sum``-style listing whose
sha256 is the folder's combined sha256 (``artifacts.combined_sha256``), stored at that hash's address. The
metadata's ``store`` is the URL of the file's object, or of the folder's manifest.

Upload: hash the local file first (a local read, about 1 s per GiB), look the object up, and send it only when
the store lacks it. The upload streams the file again in constant memory and hashes it as it goes; if those
bytes are not the ones hashed (the file changed meanwhile) the upload is abandoned before it becomes visible.
An object appears whole or not at all: on S3 a multipart upload becomes visible only when it completes (and is
aborted on any error); elsewhere the bytes go to a temporary name beside the object and are renamed into place.
Measured against a server-side copy from a temporary key (the way to upload first and name later), which costs
S3 a second transfer of the object and never lets a duplicate skip its upload: see bench/RESULTS.md.

fsspec (and s3fs) load only here, and only when a store is configured: list, info and ``--help`` never pay.

This module holds the operations the registry calls (upload, fetch, check) and picks the store; the store
client itself (``ObjectStore``, the atomic upload and the download) is object_fs.py.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from pathlib import Path

from ..errors import ConfigError, IntegrityError
from .artifacts import CHUNK, Progress, _folder_files, _hash_file, combined_sha256, is_store_artifact

# the store client and the configuration checks (object_fs.py); importable from here as before
from .object_fs import CONCURRENCY, MAX_PARTS, MIN_PART, ObjectStore, check_options, check_url, is_git, redact

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "CONCURRENCY",
    "MAX_PARTS",
    "MIN_PART",
    "ObjectStore",
    "check_artifact",
    "check_options",
    "check_url",
    "fetch_artifact",
    "from_policy",
    "is_git",
    "is_store_artifact",
    "manifest_text",
    "redact",
    "store_for",
    "upload_artifact",
]


def from_policy(policy: Any, override: str | None = None) -> ObjectStore | None:
    """The store registry.yaml (or ``CustomRegistry(storage_uri=…)``) configures, or None for git."""
    configured = policy.artifact_store
    if override is not None and not is_git(override):
        check_url(override, "storage_uri")
        if not is_git(configured) and configured.rstrip("/") != override.rstrip("/"):
            raise ConfigError(
                f"registry.yaml names artifact_store {redact(configured)}, but this registry writes to "
                f"{redact(override)}",
                hint="use one store per registry: change artifact_store or storage_uri so they agree",
            )
        return ObjectStore(override, dict(policy.data.get("artifact_store_options") or {}))
    if is_git(configured):
        return None
    return ObjectStore(configured, dict(policy.data.get("artifact_store_options") or {}))


def store_for(url: str, policy: Any, override: str | None = None) -> ObjectStore:
    """A store that can read ``url``: the configured one's options apply when the protocol matches."""
    base = url.rsplit("/sha256/", 1)[0]
    options: dict[str, Any] = {}
    configured = override if override is not None and not is_git(override) else policy.artifact_store
    if not is_git(configured) and configured.split("://", 1)[0] == base.split("://", 1)[0]:
        options = dict(policy.data.get("artifact_store_options") or {})
    return ObjectStore(base, options)


# -- the operations the registry calls --------------------------------------------------
def upload_artifact(store: ObjectStore, src: Path, progress: Progress | None = None) -> dict[str, Any]:
    """Put ``src`` (file or folder) in the store; returns the metadata ``artifact`` block (and ``uploaded``)."""
    buf = bytearray(CHUNK)
    if src.is_dir():
        paths = _folder_files(src)
        hashed: list[tuple[Path, str, int]] = []
        for p in paths:
            digest, size = _hash_file(p, buf)
            hashed.append((p, digest, size))
        total = sum(size for _, _, size in hashed)
        done = 0
        uploaded = 0
        for p, digest, size in hashed:
            tick = _offset(progress, done, total)
            uploaded += store.put_file(p, digest, size, tick)
            done += size
        files = [{"path": p.relative_to(src).as_posix(), "sha256": d, "size_bytes": n} for p, d, n in hashed]
        combined = combined_sha256(files)
        store.put_bytes(manifest_text(files), combined)
        return {
            "path": src.name,
            "sha256": combined,
            "size_bytes": total,
            "store": store.object_url(combined),
            "files": files,
            "uploaded": uploaded,
        }
    total = src.stat().st_size
    h = hashlib.sha256()
    view = memoryview(buf)
    size = 0
    with open(src, "rb") as fh:
        while n := fh.readinto(buf):
            h.update(view[:n])
            size += n
            if progress is not None:
                progress(size, 2 * total)
    digest = h.hexdigest()
    sent = store.put_file(src, digest, size, _offset(progress, size, 2 * size))
    if progress is not None:
        progress(2 * size, 2 * size)
    return {"path": src.name, "sha256": digest, "size_bytes": size, "store": store.object_url(digest), "uploaded": sent}


def _offset(progress: Progress | None, base: int, total: int) -> Callable[[int], None] | None:
    """A per-object progress callback (bytes of this object) reporting into the whole artifact's progress."""
    if progress is None:
        return None
    report = progress
    return lambda n: report(base + n, total)


def manifest_text(files: list[dict[str, Any]]) -> bytes:
    """The folder manifest: sha256sum lines sorted by path, whose own sha256 is the folder's combined sha256."""
    return "".join(f"{e['sha256']}  {e['path']}\n" for e in sorted(files, key=lambda f: f["path"])).encode()


def fetch_artifact(store: ObjectStore, art: dict[str, Any], cache: Path, where: str) -> Path:
    """A verified local copy of a stored artifact under ``cache/<sha256>/<name>``: reused when it still
    hashes right, else downloaded (into a temporary name, verified, then renamed into place)."""
    import shutil
    import tempfile

    from .artifacts import verify_artifact
    from .index import ensure_ignored

    name = str(art.get("path") or "")
    sha = str(art.get("sha256") or "")
    if not name or "/" in name or name in (".", "..") or not re.fullmatch(r"[0-9a-f]{64}", sha):
        raise IntegrityError(
            f"{where}: metadata names an invalid artifact {name!r} / {sha!r}", hint="restore it from git"
        )
    dest = cache / sha / name
    if dest.exists():
        try:
            verify_artifact(dest, art, where)
            return dest
        except IntegrityError:
            shutil.rmtree(dest) if dest.is_dir() else dest.unlink()  # a damaged cached copy: fetch it again
    cache.mkdir(parents=True, exist_ok=True)
    ensure_ignored(cache)
    tmp = Path(tempfile.mkdtemp(dir=cache, prefix=".fetch-"))
    try:
        got = tmp / name
        files = art.get("files")
        if isinstance(files, list):
            for e in files:
                rel = str(e.get("path") or "")
                if not rel or rel.startswith("/") or ".." in rel.split("/"):
                    raise IntegrityError(f"{where}: metadata names an invalid file {rel!r}", hint="restore it from git")
                (got / rel).parent.mkdir(parents=True, exist_ok=True)
                store.get_file(store.object_url(str(e.get("sha256"))), got / rel)
            got.mkdir(exist_ok=True)
        else:
            store.get_file(str(art["store"]), got)
        try:
            verify_artifact(got, art, where)
        except IntegrityError as exc:
            raise IntegrityError(
                f"{where}: the stored object {redact(str(art.get('store')))} does not match its recorded sha256",
                hint="the object in the store was changed or damaged; restore it, or register the file again",
                details={**(exc.details or {}), "url": redact(str(art.get("store")))},
            ) from None
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(got, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


def check_artifact(store: ObjectStore, art: dict[str, Any], where: str, *, deep: bool, scratch: Path) -> str | None:
    """What is wrong with a stored artifact (None when nothing): existence and size, or with ``deep`` its hash."""
    import shutil
    import tempfile

    files = art.get("files")
    objects: list[tuple[str, int | None, str]] = []
    if isinstance(files, list):
        objects = [(store.object_url(str(e.get("sha256"))), e.get("size_bytes"), str(e.get("sha256"))) for e in files]
        objects.append((str(art.get("store")), len(manifest_text(files)), str(art.get("sha256"))))
    else:
        objects = [(str(art.get("store")), art.get("size_bytes"), str(art.get("sha256")))]
    for url, size, sha in objects:
        have = store.size_of(url)
        if have is None:
            return f"{where}: stored object {redact(url)} is missing"
        if size is not None and have != size:
            return f"{where}: stored object {redact(url)} has {have} bytes, metadata says {size}"
        if deep:
            scratch.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(dir=scratch, prefix=".verify-"))
            try:
                store.get_file(url, tmp / "object")
                digest, _ = _hash_file(tmp / "object", bytearray(CHUNK))
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            if digest != sha:
                return f"{where}: stored object {redact(url)} does not match its recorded sha256 (got {digest})"
    return None
