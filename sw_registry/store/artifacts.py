"""Artifacts: copy while hashing in one streaming pass (constant memory), and verify."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

from ..errors import IntegrityError, InvalidInput
from ..stop_points import stop_point

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import Any, Protocol
else:
    Protocol = object  # the interface is for mypy; at run time a plain base (no typing import)

CHUNK = 4 * 1024 * 1024
Progress = Callable[[int, int], None]  # (bytes done, bytes total)
# up to this size the interpreter's own sha256 is used: importing hashlib (OpenSSL's libcrypto) costs more than
# the builtin's slower hashing of a small file; bigger files are hashed by OpenSSL (~8x faster here)
SMALL_HASH = 256 * 1024


class Hasher(Protocol):
    def update(self, data: bytes | memoryview, /) -> None: ...

    def hexdigest(self) -> str: ...


def sha256(size: int) -> Hasher:
    """A sha256 hasher for ``size`` bytes: the builtin one for small data, hashlib's for the rest."""
    if size <= SMALL_HASH:
        for builtin in ("_sha256", "_sha2"):  # the interpreter's own module: _sha256 until Python 3.11, then _sha2
            try:
                made: Hasher = __import__(builtin).sha256()
                return made
            except (ImportError, AttributeError):
                continue
    import hashlib

    return hashlib.sha256()


def is_store_artifact(art: dict[str, Any]) -> bool:
    """Whether a metadata ``artifact`` block names an object store (SPEC §11) rather than a file kept in git; here,
    not in objectstore.py, so that a rollback's check of a file in git does not import hashlib (issue 10)."""
    store = art.get("store")
    return isinstance(store, str) and "://" in store


def _copy_file(
    src: Path, dest: Path, buf: bytearray, progress: Progress | None, done: int, total: int
) -> tuple[str, int]:
    view = memoryview(buf)
    size = 0
    with open(src, "rb") as fin, open(dest, "xb") as fout:
        h = sha256(os.fstat(fin.fileno()).st_size)
        while True:
            n = fin.readinto(buf)
            if not n:
                break
            chunk = view[:n]
            h.update(chunk)
            fout.write(chunk)
            if not size:
                stop_point("mid_copy")
            size += n
            if progress is not None:
                progress(done + size, total)
    # no fsync: the commit that follows stores a big file's blob fsync'd (gitops/direct.py; on git's way, in a
    # pack git fsyncs), and a torn work-tree copy is caught by its hash and restored from that object
    return h.hexdigest(), size


def _hash_file(path: Path, buf: bytearray) -> tuple[str, int]:
    view = memoryview(buf)
    size = 0
    with open(path, "rb") as fh:
        h = sha256(os.fstat(fh.fileno()).st_size)
        while True:
            n = fh.readinto(buf)
            if not n:
                break
            h.update(view[:n])
            size += n
    return h.hexdigest(), size


def _folder_files(folder: Path) -> list[Path]:
    files = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        for name in sorted(filenames):
            p = Path(dirpath) / name
            if p.is_symlink() or not p.is_file():
                raise InvalidInput(f"artifact folder holds a link or special file: {p}", hint="copy real files only")
            files.append(p)
    return files


def combined_sha256(files: list[dict[str, Any]]) -> str:
    """A folder's hash: sha256 over '<sha256>  <path>\\n' lines sorted by path (like sha256sum output)."""
    h = sha256(0)
    for entry in sorted(files, key=lambda f: f["path"]):
        h.update(f"{entry['sha256']}  {entry['path']}\n".encode())
    return h.hexdigest()


def source_size(src: Path) -> int:
    if src.is_dir():
        return sum(p.stat().st_size for p in _folder_files(src))
    return src.stat().st_size


def hash_artifact(src: Path) -> str:
    """The sha256 an artifact would be recorded with, without copying it."""
    st = src.stat()
    if not stat.S_ISDIR(st.st_mode):
        return _hash_file(src, bytearray(min(CHUNK, st.st_size + 1)))[0]  # a buffer no bigger than the file
    buf = bytearray(CHUNK)
    files = []
    for p in _folder_files(src):
        digest, size = _hash_file(p, buf)
        files.append({"path": p.relative_to(src).as_posix(), "sha256": digest, "size_bytes": size})
    return combined_sha256(files)


def copy_artifact(src: Path, dest: Path, progress: Progress | None = None) -> dict[str, Any]:
    """Copy ``src`` (file or folder) to ``dest`` hashing as it goes; returns the metadata ``artifact`` block."""
    st = src.stat()  # one stat says file or folder, and a file's size
    if not stat.S_ISDIR(st.st_mode):
        # a buffer no bigger than the file: zeroing 4 MiB cost more than copying and hashing a 4 KB file (issue 10)
        buf = bytearray(min(CHUNK, st.st_size + 1))
        digest, size = _copy_file(src, dest, buf, progress, 0, st.st_size)
        return {"path": dest.name, "sha256": digest, "size_bytes": size, "store": "git"}
    buf = bytearray(CHUNK)
    total = source_size(src)
    dest.mkdir()
    files, done = [], 0
    for p in _folder_files(src):
        rel = p.relative_to(src)
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        digest, size = _copy_file(p, dest / rel, buf, progress, done, total)
        done += size
        files.append({"path": rel.as_posix(), "sha256": digest, "size_bytes": size})
    return {"path": dest.name, "sha256": combined_sha256(files), "size_bytes": done, "store": "git", "files": files}


def verify_artifact(path: Path, artifact: dict[str, Any], where: str) -> None:
    """Raise ``integrity`` unless the artifact at ``path`` hashes to what metadata recorded."""
    if not path.exists():
        raise IntegrityError(
            f"artifact {path} ({where}) is missing",
            hint="restore it from git: git checkout -- <path>",
            details={"path": str(path)},
        )
    actual = hash_artifact(path)
    if actual != artifact.get("sha256"):
        culprit = _changed_file(path, artifact) if path.is_dir() else None
        inside = f": {culprit} changed" if culprit else ""
        raise IntegrityError(
            f"artifact {path} ({where}) does not match its recorded sha256{inside} "
            f"(expected {artifact.get('sha256')}, got {actual})",
            hint="restore it from git (git checkout -- <path>) or 'sw-registry registry-verify --repair'",
            details={
                "path": str(path / culprit) if culprit else str(path),
                "expected": artifact.get("sha256"),
                "actual": actual,
            },
        )


def _changed_file(folder: Path, artifact: dict[str, Any]) -> str | None:
    """The first file of a folder artifact that is missing, extra or different from what was recorded."""
    recorded = {f["path"]: f["sha256"] for f in artifact.get("files") or []}
    buf = bytearray(CHUNK)
    present = {p.relative_to(folder).as_posix(): p for p in _folder_files(folder)}
    for rel in sorted(set(recorded) | set(present)):
        if rel not in present or rel not in recorded or _hash_file(present[rel], buf)[0] != recorded[rel]:
            return rel
    return None
