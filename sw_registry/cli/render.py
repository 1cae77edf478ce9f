"""Human renderings: rich tables and lines, built per call (no module-level Console)."""

from __future__ import annotations

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import Any

    from rich.console import Console

STAGE_STYLE = {"dev": "cyan", "staging": "yellow", "production": "bold green", "archived": "dim"}


def v(version: str | None) -> str:
    return f"v{version}" if version else "-"


def stage(name: str | None) -> str:
    if not name:
        return "-"
    style = STAGE_STYLE.get(name, "")
    return f"[{style}]{name}[/{style}]" if style else name


def short(commit: str | None) -> str:
    return commit[:8] if commit else "no commit (nothing changed)"


def outcome(out: Console, changed: bool, unchanged: str, *done: str) -> None:
    """A write's human lines: the lines of ``done`` that are not empty, or when nothing ``changed`` (no commit),
    ``unchanged`` and "; nothing changed"."""
    if not changed:
        out.print(f"{unchanged}; nothing changed")
        return
    for line in done:
        if line:
            out.print(line)


def metric(pm: dict[str, Any] | None) -> str:
    if not pm or pm.get("value") is None:
        return "-"
    value = pm["value"]
    return f"{pm['name']}={value:g}" if isinstance(value, float) else f"{pm['name']}={value}"


def esc(text: Any) -> str:
    """``text`` safe inside rich markup. rich's ``escape`` changes only a ``[`` or a trailing backslash; text
    without either is returned as it is, without importing rich (~20 ms: writes build their lines before they
    know whether --json will print them)."""
    plain = str(text)
    if "[" not in plain and not plain.endswith("\\"):
        return plain
    from rich.markup import escape

    return escape(plain)


def table(*columns: str) -> Any:
    """A table of these columns, printed as rich prints ``Table(box=SIMPLE_HEAD, show_edge=False, pad_edge=False)``
    (cli/tables.py lays the usual ones out itself: thousands of rows in a fraction of rich's time)."""
    from .tables import Table

    return Table(*columns)


def models_table(out: Console, models: list[dict[str, Any]]) -> None:
    if not models:
        out.print("No models registered yet. Register one with: sw-registry registry-register NAME --artifact PATH")
        return
    t = table("Model", "Production", "Staging", "Latest", "Versions", "Primary metric", "Updated")
    for m in models:
        t.add_row(
            esc(m["name"]),
            f"[bold green]{v(m['production'])}[/]" if m["production"] else "-",
            f"[yellow]{v(m['staging'])}[/]" if m["staging"] else "-",
            v(m["latest"]),
            str(m["version_count"]),
            esc(metric(m["primary_metric"])),
            esc(m["updated_at"] or "-"),
        )
    out.print(t)


def versions_table(out: Console, versions: list[dict[str, Any]]) -> None:
    if not versions:
        out.print("No versions match.")
        return
    t = table("Model", "Version", "Stage", "Increment", "Created", "Metrics")
    for m in versions:
        metrics = ", ".join(f"{k}={val}" for k, val in list((m.get("metrics") or {}).items())[:3])
        t.add_row(
            esc(m["name"]),
            v(m["version"]),
            stage(m.get("stage")),
            esc(m.get("increment") or "-"),
            esc(m.get("created_at") or "-"),
            esc(metrics or "-"),
        )
    out.print(t)


def info_view(out: Console, info: dict[str, Any]) -> None:
    out.print(f"[bold]{esc(info['name'])}[/bold]" + (f"  owner: {esc(info['owner'])}" if info.get("owner") else ""))
    stages = info["stages"]
    out.print(f"production: [bold green]{v(stages['production'])}[/]    staging: [yellow]{v(stages['staging'])}[/]")
    approval = (info.get("policy") or {}).get("approval") or {}
    for st, rule in approval.items():
        who = ", ".join(rule["approvers"]) or "anyone"
        out.print(
            f"approval for {st}: {rule['min_approvals']} of {esc(who)}"
            + ("" if rule["allow_self_approval"] else " (no self-approval)")
            + (" (signed)" if rule.get("signed") else "")
        )
    t = table("Version", "Stage", "Created", "Increment", "Primary metric", "Deprecated")
    for row in reversed(info["versions"]):
        t.add_row(
            v(row["version"]),
            stage(row["stage"]),
            esc(row["created_at"] or "-"),
            esc(row["increment"]),
            esc(metric(row.get("primary_metric"))),
            "yes" if row["deprecated"] else "",
        )
    out.print(t)


def version_view(out: Console, meta: dict[str, Any]) -> None:
    out.print(
        f"[bold]{esc(meta['name'])}[/bold] {v(meta['version'])}  {stage(meta.get('stage'))}  "
        f"increment {esc(meta.get('increment'))}"
    )
    art = meta.get("artifact") or {}
    rows = [
        ("created", f"{meta.get('created_at')} by {meta.get('created_by')}"),
        ("description", meta.get("description") or "-"),
        ("tags", ", ".join(meta.get("tags") or []) or "-"),
        ("metrics", ", ".join(f"{k}={val}" for k, val in (meta.get("metrics") or {}).items()) or "-"),
        ("hyperparameters", ", ".join(f"{k}={val}" for k, val in (meta.get("hyperparameters") or {}).items()) or "-"),
        ("lineage", ", ".join(f"{k}={val}" for k, val in (meta.get("lineage") or {}).items()) or "-"),
        ("artifact", f"{art.get('path')} ({art.get('size_bytes')} bytes, sha256 {str(art.get('sha256'))[:16]}…)"),
        ("path", meta.get("path") or "-"),
    ]
    if meta.get("deprecation"):
        dep = meta["deprecation"]
        rows.append(("deprecated", f"{dep.get('reason')} (end of life {dep.get('end_of_life') or '-'})"))
    for key, value in rows:
        out.print(f"  [dim]{key:<16}[/dim]", end="")
        out.print(str(value), markup=False, highlight=False)
