"""The artifact and side files a register call is given: checked and read before any registry file is touched."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from ..errors import InvalidInput
from ..layout import SPECWEAVE

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import Any

    from ..layout import Layout

SIDE_FILES = ("metadata.json", "requirements.txt", "features.yaml")

def artifact_source(model: Any, scratch: Path) -> tuple[Path, str | None]:
    """A path to copy: the given file/folder, or a pickle of the model object written to scratch."""
    if isinstance(model, (str, os.PathLike)):
        from ..inputs import check_path_text

        src = check_path_text(model, "artifact")
        try:
            exists, is_file, is_dir = src.exists(), src.is_file(), src.is_dir()
        except OSError as exc:
            raise InvalidInput(f"artifact {str(src)!r} cannot be read: {exc.strerror}", hint="check the path") from None
        if not exists:
            raise InvalidInput(f"artifact {str(src)!r} does not exist", hint="pass the path of a model file or folder")
        if not (is_file or is_dir):
            raise InvalidInput(f"artifact {str(src)!r} is not a file or folder", hint="pass a regular file")
        return src, None
    import pickle

    from .reads import PICKLE_FORMAT  # here, not at the top: a register of a file does not import ops/reads.py

    dest = scratch / "model.pkl"
    try:
        with open(dest, "wb") as fh:
            pickle.dump(model, fh, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        raise InvalidInput(
            f"the model object cannot be pickled: {exc}", hint="save it to a file yourself and pass the path"
        ) from None
    return dest, PICKLE_FORMAT


def reading_artifact(src: Path, func: Callable[..., Any], *args: Any) -> Any:
    """Run ``func`` over the artifact; an OS error while reading it (EIO, a file that vanished) is
    ``invalid_input`` naming the artifact, and the transaction puts every file back."""
    try:
        return func(*args)
    except OSError as exc:
        raise InvalidInput(
            f"cannot read artifact {str(src)!r}: {exc.strerror or exc}", hint="pass a readable model file or folder"
        ) from None


def refuse_project_paths(src: Path, layout: Layout) -> None:
    """An artifact may not be the project (or hold it), nor lie inside .git or .specweave (SPEC §9)."""
    real = src.resolve()
    root = layout.root.resolve()
    if real == root or real in root.parents:
        raise InvalidInput(
            f"artifact {str(src)!r} is the project folder or holds it; registering it would copy the project "
            "(and its .git) into itself",
            hint="pass the model file or a folder holding only the model",
        )
    for inner in (root / ".git", root / SPECWEAVE):
        if real == inner or inner in real.parents:
            raise InvalidInput(
                f"artifact {str(src)!r} lies inside {inner.name}/, which the registry and git own",
                hint="copy the model out of it first, or pass the model's own file",
            )
    if real.is_dir():
        for _dirpath, dirnames, _files in os.walk(real):
            if ".git" in dirnames or SPECWEAVE in dirnames:
                raise InvalidInput(
                    f"artifact folder {str(src)!r} holds a .git or .specweave folder: it is a project, not a model",
                    hint="pass a folder holding only the model's files",
                )


def requirements_text(requirements: str | os.PathLike[str] | None, artifact: Path | None = None) -> str:
    if requirements is None:
        from ..store.requirements import detect

        found = detect(artifact) if artifact is not None else None
        return (
            found
            or "# sw-registry: no requirements were given or detected for this version (pass --requirements FILE)\n"
        )
    from ..inputs import decode_text, read_side_file

    return decode_text(read_side_file(requirements, "requirements"), "requirements", str(requirements))


