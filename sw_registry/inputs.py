"""Reading what a user hands us, safely (SPEC §9): every bad input is an error from the table, never a
traceback or a hang.

A side file (``--metadata``, ``--signature``, ``--features``, ``--requirements``, registry.yaml) must be a
regular file of at most 16 MiB holding UTF-8 text. It is opened with ``O_NONBLOCK`` and checked with
``fstat`` before a byte is read, so a FIFO or a device is refused instead of blocking for ever. YAML is
loaded only after its node graph is measured with aliases expanded (a "billion laughs" document is refused),
and parsed documents nested deeper than ``MAX_DEPTH`` are refused, so nothing later recurses without bound.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .errors import InvalidInput, RegistryError

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import Any

MAX_SIDE_FILE = 16 * 1024 * 1024
MAX_DEPTH = 64  # nesting of a metadata document, a signature or registry.yaml; real ones use 3-4
MAX_YAML_NODES = 200_000  # nodes of a YAML document with every alias expanded
MAX_PATH = 4096


def check_path_text(value: str | os.PathLike[str], what: str, error: type[RegistryError] = InvalidInput) -> Path:
    """A path the user typed: not empty, no NUL, not absurdly long."""
    text = os.fspath(value)
    if not text or not str(text).strip():
        raise error(f"{what} path is empty", hint=f"pass the path of the {what} file")
    if "\0" in str(text):
        raise error(f"{what} path {text!r} contains a NUL byte", hint="pass a real path")
    if len(os.fsencode(text)) > MAX_PATH or any(len(os.fsencode(p)) > 255 for p in Path(text).parts):
        raise error(f"{what} path is too long ({len(text)} characters)", hint="pass a shorter path")
    return Path(text)


def read_side_file(
    value: str | os.PathLike[str], what: str, error: type[RegistryError] = InvalidInput, limit: int = MAX_SIDE_FILE
) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; anything else is ``error`` naming the file."""
    path = check_path_text(value, what, error)
    shown = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise error(f"{what} file {shown!r} does not exist", hint=f"pass an existing {what} file") from None
    except IsADirectoryError:
        raise error(f"{what} file {shown!r} is a folder", hint=f"pass a {what} file, not a folder") from None
    except OSError as exc:
        raise error(
            f"cannot read {what} file {shown!r}: {exc.strerror}", hint="check the path and its permissions"
        ) from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise error(f"{what} file {shown!r} is a folder", hint=f"pass a {what} file, not a folder")
        if not stat.S_ISREG(st.st_mode):
            kind = (
                "a FIFO"
                if stat.S_ISFIFO(st.st_mode)
                else "a device"
                if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)
                else "a socket or special file"
            )
            raise error(f"{what} file {shown!r} is {kind}, not a regular file", hint=f"pass a regular {what} file")
        if st.st_size > limit:
            raise error(
                f"{what} file {shown!r} is {st.st_size} bytes, more than the {limit // (1024 * 1024)} MiB a {what} "
                "file may be",
                hint=f"pass the real {what} file",
            )
        chunks = []
        total = 0
        while True:
            try:
                chunk = os.read(fd, 1 << 20)
            except OSError as exc:
                raise error(f"cannot read {what} file {shown!r}: {exc.strerror}", hint="check the file") from None
            if not chunk:
                break
            total += len(chunk)
            if total > limit:
                raise error(
                    f"{what} file {shown!r} grew past {limit // (1024 * 1024)} MiB while read",
                    hint="pass the real file",
                )
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def decode_text(raw: bytes, what: str, where: str, error: type[RegistryError] = InvalidInput) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(
            f"{what} file {where!r} is not UTF-8 text (byte {exc.start})",
            hint="save it as UTF-8",
            details={"path": where},
        ) from None


def check_depth(
    data: Any, what: str, where: str, error: type[RegistryError] = InvalidInput, limit: int = MAX_DEPTH
) -> Any:
    """Refuse a parsed document nested deeper than ``limit`` (iteratively: no recursion to exhaust)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    seen = 0
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            raise error(
                f"{what} {where!r} is nested more than {limit} levels deep", hint="flatten it", details={"path": where}
            )
        seen += len(children)
        if seen > MAX_YAML_NODES:
            raise error(
                f"{what} {where!r} is too large ({seen}+ values)", hint="pass a smaller file", details={"path": where}
            )
        stack.extend((c, depth + 1) for c in children)
    return data


def load_json(text: str | bytes, what: str, where: str, error: type[RegistryError] = InvalidInput) -> Any:
    import json

    try:
        data = json.loads(text)
    except RecursionError:
        raise error(
            f"{what} {where!r} is nested too deeply to read", hint="flatten it", details={"path": where}
        ) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise error(
            f"{what} {where!r} is not valid JSON: {exc}", hint="fix the file", details={"path": where}
        ) from None
    return check_depth(data, what, where, error)


def load_yaml(text: str, what: str, where: str, error: type[RegistryError] = InvalidInput) -> Any:
    """``yaml.safe_load`` after measuring the document with its aliases expanded (no billion laughs)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        node = yaml.compose(text, Loader=loader)
        if node is not None and _expanded_size(node) > MAX_YAML_NODES:
            raise error(
                f"{what} {where!r} expands to more than {MAX_YAML_NODES} values through YAML aliases",
                hint="write the values out instead of nesting aliases",
                details={"path": where},
            )
        data = yaml.load(text, Loader=loader)
    except RecursionError:
        raise error(
            f"{what} {where!r} is nested too deeply to read", hint="flatten it", details={"path": where}
        ) from None
    except yaml.YAMLError as exc:
        raise error(
            f"{what} {where!r} does not parse as YAML: {exc}", hint="fix the file", details={"path": where}
        ) from None
    except (ValueError, TypeError, OverflowError) as exc:  # e.g. a timestamp out of range
        raise error(
            f"{what} {where!r} holds a value that cannot be read: {exc}", hint="fix the file", details={"path": where}
        ) from None
    return check_depth(data, what, where, error)


def _expanded_size(root: Any) -> int:
    """Nodes of a composed YAML graph counting every alias expansion (iterative, memoised per node)."""
    size: dict[int, int] = {}
    stack: list[tuple[Any, bool]] = [(root, False)]
    on_path: set[int] = set()
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            total = 1
            for child in _children(node):
                total += size.get(id(child), 1)
                if total > MAX_YAML_NODES:
                    break
            size[key] = total
            continue
        if key in size:
            continue
        if key in on_path:  # a recursive alias: infinite when expanded
            return MAX_YAML_NODES + 1
        on_path.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in _children(node) if id(c) not in size)
    return size.get(id(root), 1)


def _children(node: Any) -> list[Any]:
    value = getattr(node, "value", None)
    if isinstance(value, list):
        out: list[Any] = []
        for item in value:
            if isinstance(item, tuple):
                out.extend(item)
            else:
                out.append(item)
        return out
    return []


def load_structured(value: str | os.PathLike[str], what: str) -> Any:
    """A JSON (by extension) or YAML side file the user passed, read and parsed safely."""
    path = check_path_text(value, what)
    raw = read_side_file(path, what)
    text = decode_text(raw, what, str(path))
    if path.suffix.lower() == ".json":
        return load_json(text, f"{what} file", str(path))
    return load_yaml(text, f"{what} file", str(path))


def load_register_files(
    metadata: str | os.PathLike[str] | None = None,
    features: str | os.PathLike[str] | None = None,
    signature: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """registry-register's side files, read and checked: ``{"metadata", "features", "signature"}`` as
    ``ModelRegistry.register_model`` takes them (None for a file not given).

    ``metadata`` is flat metadata (SPEC §4); ``features`` is a features.yaml (``features: [{name, type}]``, or the
    list itself); ``signature`` holds ``inputs`` and ``outputs`` maps. JSON by extension, YAML otherwise.
    """
    from .metadata import normalize_features

    flat = load_structured(metadata, "metadata") if metadata else None
    feats = None
    if features is not None:
        doc = load_structured(features, "features")
        feats = normalize_features(doc.get("features") if isinstance(doc, dict) else doc)
    sig = load_structured(signature, "signature") if signature else None
    return {"metadata": flat, "features": feats, "signature": sig}
