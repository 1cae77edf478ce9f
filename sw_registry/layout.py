"""Paths: root discovery, increments, version folders. The only place that knows the tree (SPEC §2)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from .errors import InvalidInput, NotFound
from .plain import Plain

SPECWEAVE = ".specweave"
INCREMENTS = "increments"
HIDDEN_GROUPS = ("_archive", "_abandoned", "_paused")
_KEBAB = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
DEFAULT_DOCS_PATH = ".specweave/docs/internal/architecture/model-registry.md"
# parts of an increment folder that the registry owns (SPEC §8)
REGISTRY_PARTS = ("models", "registry", "experiments")
POLICY_REL = f"{SPECWEAVE}/registry.yaml"  # the policy file, relative to the root
HISTORY_FILE = "deployment_history.md"  # in each increment's registry/ folder
CATALOG_FILE = "model_catalog.yaml"  # derived, in each increment's registry/ folder
LINEAGE_FILE = "lineage_graph.json"  # derived, in each increment's registry/ folder


def is_increment_id(name: str) -> bool:
    """Whether ``name`` is an increment folder's id, ``####-kebab-name`` ([0-9]{4}-[a-z0-9]+(-[a-z0-9]+)*), checked
    without a regex: compiling one cost more than every check a write makes (issue 10)."""
    if len(name) < 6 or not (name[:4].isascii() and name[:4].isdigit()) or name[4] != "-":
        return False
    return all(part and _KEBAB.issuperset(part) for part in name[5:].split("-"))


def find_root(root: str | os.PathLike[str] | None = None, cwd: str | None = None) -> Path:
    """--root, else $SW_REGISTRY_ROOT, else the nearest folder with .specweave/ up to the git top level,
    else that top level, else the current folder."""
    if root is not None and str(root) != "":
        p = Path(root)
        try:
            p = p.expanduser()
            found = p.is_dir()
        except (OSError, ValueError, RuntimeError):  # a name too long, a NUL byte, an unknown ~user
            raise InvalidInput(
                f"root folder {str(root)[:200]!r} is not a usable path", hint="pass an existing folder to --root"
            ) from None
        if not found:
            what = "is not a folder" if os.path.lexists(p) else "does not exist"
            raise NotFound(f"root folder {str(p)!r} {what}", hint="pass an existing folder to --root")
        return p.resolve()
    env = os.environ.get("SW_REGISTRY_ROOT")
    if env:
        return find_root(env)
    start = Path(cwd or os.getcwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / SPECWEAVE).is_dir():
            return folder
        if (folder / ".git").exists():
            return folder  # the git top level: a stray .specweave/ above the repository is not ours
    return start


class Increment(Plain):
    """One increment folder: its id and its path relative to the root (posix)."""

    __slots__ = ("id", "rel")

    def __init__(self, id: str, rel: str) -> None:
        self.id = id
        self.rel = rel

    @property
    def number(self) -> int:
        return int(self.id[:4])


class Layout:
    """Knows where everything lives under one project root."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.specweave = root / SPECWEAVE
        self.increments_dir = self.specweave / INCREMENTS
        self.cache_dir = self.specweave / "cache" / "sw-registry"

    # -- increments ---------------------------------------------------------------
    def increments(self) -> list[Increment]:
        out: list[Increment] = []
        base = self.increments_dir
        for group in ("", *HIDDEN_GROUPS):
            folder = base / group if group else base
            try:
                entries = os.scandir(folder)
            except (FileNotFoundError, NotADirectoryError):
                continue
            with entries:
                for e in entries:
                    if is_increment_id(e.name) and e.is_dir():
                        rel = f"{SPECWEAVE}/{INCREMENTS}/{group + '/' if group else ''}{e.name}"
                        out.append(Increment(e.name, rel))
        out.sort(key=lambda i: (i.id, i.rel))
        return out

    def resolve_increment(self, ref: str, *, create: bool = False) -> Increment:
        """'42', '0042' or '0042-name'; a full id that does not exist is created when ``create``."""
        ref = str(ref).strip()
        known = self.increments()
        if is_increment_id(ref):
            for inc in known:
                if inc.id == ref:
                    return inc
            if create:
                return Increment(ref, f"{SPECWEAVE}/{INCREMENTS}/{ref}")
            raise NotFound(f"increment {ref!r} not found", hint=_candidates(known))
        if ref.isascii() and ref.isdigit() and len(ref) <= 4:
            matches = [inc for inc in known if inc.number == int(ref)]
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                raise InvalidInput(
                    f"increment number {ref} is ambiguous: {', '.join(m.id for m in matches)}",
                    hint="pass the full increment id",
                )
            raise NotFound(f"no increment numbered {ref}", hint=_candidates(known))
        raise InvalidInput(
            f"invalid increment id {ref!r}",
            hint="use a number (42, 0042) or a full id like 0042-fraud-detection",
        )

    def active_increment(self) -> Increment:
        """state/active-increment.json ids[0], else the one increment whose status is active."""
        known = self.increments()
        state = self.specweave / "state" / "active-increment.json"
        try:
            ids = json.loads(state.read_text(encoding="utf-8")).get("ids") or []
        except (OSError, ValueError, AttributeError):
            ids = []
        if ids and isinstance(ids[0], str):
            return self.resolve_increment(ids[0], create=True)
        active = []
        for inc in known:
            try:
                meta = json.loads((self.root / inc.rel / "metadata.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(meta, dict) and meta.get("status") in ("active", "in-progress"):
                active.append(inc)
        if len(active) == 1:
            return active[0]
        if active:
            raise InvalidInput(
                "more than one increment is active: " + ", ".join(i.id for i in active),
                hint="pass --increment with one of them",
                details={"candidates": [i.id for i in active]},
            )
        raise InvalidInput(
            "no active increment",
            hint="pass --increment ID (a new full id such as 0001-my-model creates it); " + _candidates(known),
            details={"candidates": [i.id for i in known]},
        )

    # -- version folders ----------------------------------------------------------
    @staticmethod
    def version_dirname(name: str, version: str) -> str:
        return f"{name}-v{version}"

    def version_rel(self, inc: Increment, name: str, version: str) -> str:
        return f"{self.models_rel(inc.rel)}/{self.version_dirname(name, version)}"

    @staticmethod
    def models_rel(inc_rel: str) -> str:
        """An increment's folder of version folders."""
        return f"{inc_rel}/models"

    @staticmethod
    def registry_rel(inc_rel: str, file: str | None = None) -> str:
        """An increment's folder of derived files and ``deployment_history.md``, or ``file`` in it."""
        return f"{inc_rel}/registry/{file}" if file else f"{inc_rel}/registry"

    @staticmethod
    def metadata_rel(version_dir: str) -> str:
        return f"{version_dir}/metadata.json"

    @staticmethod
    def is_version_metadata(rel: str) -> bool:
        """Whether a root-relative path is a version's metadata.json (in an increment's ``models/`` folder)."""
        return rel.endswith("/metadata.json") and "/models/" in rel

    def history_rel(self, version_dir: str) -> str:
        """The deployment_history.md of the increment a version folder lies in (prose for people)."""
        return self.registry_rel(version_dir.rsplit("/models/", 1)[0], HISTORY_FILE)

    @staticmethod
    def is_model_version_path(rel: str, name: str) -> bool:
        """Whether ``rel`` lies in a version folder of model ``name`` (or is registry.yaml, every model's policy)."""
        return f"/models/{Layout.version_dirname(name, '')}" in rel or rel == POLICY_REL

    def abs(self, rel: str) -> Path:
        return self.root / rel

    def docs_rel(self, docs_path: str | None) -> str:
        return docs_path or DEFAULT_DOCS_PATH

    @staticmethod
    def increment_of(rel: str) -> str | None:
        """The increment id a root-relative path lies in (None outside increments or in ignored folders)."""
        parts = rel.split("/")
        if len(parts) < 3 or parts[0] != SPECWEAVE or parts[1] != INCREMENTS:
            return None
        i = 3 if parts[2] in HIDDEN_GROUPS else 2
        return parts[i] if len(parts) > i and is_increment_id(parts[i]) else None

    def is_registry_path(self, rel: str, docs_path: str | None = None) -> bool:
        """Whether a root-relative posix path is one the registry owns and commits (SPEC §8)."""
        if rel == POLICY_REL or rel == self.docs_rel(docs_path):
            return True
        parts = rel.split("/")
        if len(parts) < 4 or parts[0] != SPECWEAVE or parts[1] != INCREMENTS:
            return False
        i = 3 if parts[2] in HIDDEN_GROUPS else 2
        return len(parts) > i + 1 and is_increment_id(parts[i]) and parts[i + 1] in REGISTRY_PARTS


def _candidates(known: list[Increment]) -> str:
    if not known:
        return "no increments exist yet; pass a full id such as 0001-my-model to create one"
    return "known increments: " + ", ".join(i.id for i in known[-10:])
