"""mlflow-sync: mirror the registry into an MLflow tracking server (SPEC §11)."""

from __future__ import annotations

from ..output import emit
from ..render import esc

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
# Typer and the option aliases are only annotations here, imported for readers and mypy: the fast path
# (fastpath.py) calls the function without importing Typer, and app.resolved() evaluates the annotations in
# this module's globals plus options.ANNOTATIONS, which holds these same names (a test checks it).
if TYPE_CHECKING:
    from typing import Annotated, Any

    import typer

    from ..options import JsonOption, RootOption


def mlflow_sync(
    tracking_uri: Annotated[
        str | None,
        typer.Option(
            "--tracking-uri",
            help="MLflow tracking server URL. Default: $SW_REGISTRY_MLFLOW_URI, then registry.yaml "
            "mlflow_tracking_uri.",
            show_default=False,
        ),
    ] = None,
    model: Annotated[str | None, typer.Option("--model", help="Sync only this model.", show_default=False)] = None,
    root: RootOption = None,
    json: JsonOption = False,
) -> None:
    """Mirror models, versions, tags and stage aliases into an MLflow server (idempotent)."""
    from ...mlflow_mirror import MLflowRegistry

    report = MLflowRegistry(tracking_uri=tracking_uri, root=root).sync(model=model)

    def render(out: Any) -> None:
        for bucket in ("created", "updated"):
            for item in report[bucket]:
                version = f" v{esc(item['version'])}" if item["version"] else ""
                out.print(f"{bucket}: {esc(item['model'])}{version}: {esc(item['what'])}")
        if not report["created"] and not report["updated"]:
            out.print(f"MLflow at {esc(report['tracking_uri'])} is up to date; nothing to do")
        else:
            out.print(f"{len(report['unchanged'])} item(s) unchanged at {esc(report['tracking_uri'])}")

    emit(json, report, render)
