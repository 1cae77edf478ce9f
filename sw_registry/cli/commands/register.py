"""registry-register (SPEC §7.1)."""

from __future__ import annotations

import sys

from ..output import emit, json_mode
from .common import WriteOptions, writes

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
# Typer and the option aliases are only annotations here, imported for readers and mypy: the fast path
# (fastpath.py) calls the function without importing Typer, and app.resolved() evaluates the annotations in
# this module's globals plus options.ANNOTATIONS, which holds these same names (a test checks it).
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Annotated, Any

    import typer

    from ..options import IncrementOption


def _progress(as_json: bool, size_hint: Path) -> Any:
    """A rich progress bar on a TTY for artifacts over 64 MB; None otherwise."""
    if as_json or not sys.stderr.isatty():
        return None, None
    try:
        total = size_hint.stat().st_size if size_hint.is_file() else 0
    except OSError:
        return None, None
    if total < 64 * 1024 * 1024:
        return None, None
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    bar = Progress(
        "copying artifact",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        transient=True,
        console=__import__("rich.console").console.Console(stderr=True),
    )
    task = bar.add_task("copy", total=total)
    # total may grow: with an artifact_store the bar spans the local hash pass and the upload (2 x the size)
    return bar, (lambda done, total: bar.update(task, completed=done, total=total))


@writes
def register(
    name: Annotated[str, typer.Argument(help="Model name (lower-case, digits, . _ -).")],
    artifact: Annotated[Path, typer.Option("--artifact", help="The model file or folder to register.")],
    version: Annotated[str | None, typer.Option("--version", help="Version, e.g. v3.1.0 (default: a bump).")] = None,
    bump: Annotated[
        str | None, typer.Option("--bump", help="major, minor, patch or auto (from the signature).")
    ] = None,
    metadata: Annotated[
        Path | None, typer.Option("--metadata", help="Flat metadata as JSON or YAML (SPEC §4).")
    ] = None,
    metric: Annotated[list[str] | None, typer.Option("--metric", help="A metric K=V (repeatable).")] = None,
    param: Annotated[list[str] | None, typer.Option("--param", help="A hyperparameter K=V (repeatable).")] = None,
    feature: Annotated[
        list[str] | None, typer.Option("--feature", help="A signature input NAME:TYPE (repeatable).")
    ] = None,
    features: Annotated[
        Path | None, typer.Option("--features", help="features.yaml with features: [{name, type}].")
    ] = None,
    output: Annotated[
        list[str] | None, typer.Option("--output", help="A signature output NAME:TYPE (repeatable).")
    ] = None,
    signature: Annotated[
        Path | None, typer.Option("--signature", help="JSON/YAML with inputs and outputs maps.")
    ] = None,
    requirements: Annotated[Path | None, typer.Option("--requirements", help="requirements.txt to store.")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="A tag (repeatable).")] = None,
    description: Annotated[str | None, typer.Option("--description", help="Free text.")] = None,
    data_version: Annotated[str | None, typer.Option("--data-version", help="Training data version (lineage).")] = None,
    experiment: Annotated[str | None, typer.Option("--experiment", help="Experiment id (lineage).")] = None,
    parent: Annotated[str | None, typer.Option("--parent", help="Parent version NAME@V (lineage).")] = None,
    allow_breaking: Annotated[
        bool, typer.Option("--allow-breaking", help="Allow a breaking signature change without a major version.")
    ] = False,
    increment: IncrementOption = None,
    *,
    w: WriteOptions,
) -> None:
    """Register a trained model file or folder as a new version (starts in dev; one commit)."""
    from ...inputs import load_register_files
    from ...metadata import parse_key_values, parse_typed

    files = load_register_files(metadata, features, signature)
    reg = w.registry(increment=increment)
    as_json = json_mode(w.json)
    bar, progress = _progress(as_json, artifact)
    try:
        if bar is not None:
            bar.start()
        mv = reg.register_model(
            name,
            str(artifact),
            version=version,
            metadata=files["metadata"],
            tags=tag,
            signature=files["signature"],
            requirements=requirements,
            bump=bump,
            metrics=parse_key_values(metric, "metric"),
            params=parse_key_values(param, "param"),
            features=files["features"],
            inputs=parse_typed(feature, "feature"),
            outputs=parse_typed(output, "output"),
            description=description,
            data_version=data_version,
            experiment=experiment,
            parent=parent,
            allow_breaking=allow_breaking,
            progress=progress,
        )
    finally:
        if bar is not None:
            bar.stop()
    def human(out: Any) -> None:
        from ..render import esc, outcome, short, v  # human output only: --json does not import it

        done = (
            f"Registered [bold]{esc(mv.name)}[/bold] {v(mv.version)} in {esc(mv.metadata.get('increment'))} "
            f"(stage dev) by {esc(mv.metadata.get('created_by'))}, commit {short(mv.commit)}"
        )
        already = f"{esc(mv.name)} {v(mv.version)} is already registered with this artifact"
        outcome(out, mv.commit is not None, already, done, f"  artifact {esc(mv.path)}", f"  sha256   {mv.sha256}")

    emit(w.json, mv.to_dict(), human)
