"""Lineage as a graph of node ids (SPEC §7.11): pure functions over version summaries."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import Any

    from .store.records import Record

UPSTREAM = (("data", "data"), ("feature_engineering", "feature_engineering"), ("experiment", "experiment"))
DEPLOYED_STAGES = ("staging", "production")


def model_node(name: str, version: str) -> str:
    return f"model:{name}@{version}"


def graph(records: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Nodes and edges for the given versions: data -> feature engineering -> experiment -> model -> deployment."""
    nodes: dict[str, dict[str, str]] = {}
    edges: list[dict[str, str]] = []
    seen_edges: set[tuple[str, str]] = set()

    def node(node_id: str, kind: str, label: str) -> str:
        nodes.setdefault(node_id, {"id": node_id, "type": kind, "label": label})
        return node_id

    def edge(a: str, b: str) -> None:
        if (a, b) not in seen_edges:
            seen_edges.add((a, b))
            edges.append({"from": a, "to": b})

    for rec in sorted(records, key=lambda r: (r["name"], r["key"])):
        lineage = rec.get("lineage") or {}
        chain = []
        for key, kind in UPSTREAM:
            value = lineage.get(key)
            if value not in (None, ""):
                chain.append(node(f"{kind}:{value}", kind, str(value)))
        mid = node(model_node(rec["name"], rec["version"]), "model", f"{rec['name']} v{rec['version']}")
        chain.append(mid)
        if rec.get("stage") in DEPLOYED_STAGES:
            chain.append(
                node(f"deployment:{rec['name']}:{rec['stage']}", "deployment", f"{rec['name']} {rec['stage']}")
            )
        for a, b in zip(chain, chain[1:]):
            edge(a, b)
        parent = lineage.get("parent")
        if isinstance(parent, str) and "@" in parent:
            pname, _, pver = parent.rpartition("@")
            pid = node(model_node(pname, pver), "model", f"{pname} v{pver}")
            edge(pid, mid)
    return {"nodes": sorted(nodes.values(), key=lambda n: n["id"]), "edges": edges}


def chain_ids(rec: Mapping[str, Any]) -> set[str]:
    """Every node id a version's lineage touches: its upstream, its parent, itself, its deployment."""
    lineage = rec.get("lineage") or {}
    ids = {f"{kind}:{lineage[key]}" for key, kind in UPSTREAM if lineage.get(key) not in (None, "")}
    ids.add(model_node(rec["name"], rec["version"]))
    parent = lineage.get("parent")
    if isinstance(parent, str) and "@" in parent:
        ids.add(f"model:{parent}")
    if rec.get("stage") in DEPLOYED_STAGES:
        ids.add(f"deployment:{rec['name']}:{rec['stage']}")
    return ids


def select(
    records: list[Record],
    *,
    name: str | None = None,
    version: str | None = None,
    uses: str | None = None,
    feature: str | None = None,
) -> list[Record]:
    """The versions a lineage query is about.

    A model (all its versions); one version with its ancestors through ``parent``; the versions whose lineage
    uses a node (``data:v2024-01``, ``experiment:exp-003``, a parent ``model:NAME@V``, ``deployment:NAME:STAGE``);
    or the versions whose features include ``feature``.
    """
    by_ref = {(r["name"], r["version"]): r for r in records}
    if uses is not None:
        return [r for r in records if uses in chain_ids(r) and model_node(r["name"], r["version"]) != uses]
    if feature is not None:
        return [r for r in records if feature in (r.get("features") or [])]
    chosen = [r for r in records if name is None or r["name"] == name]
    if version is None:
        return chosen
    out: list[Record] = []
    current = by_ref.get((str(name), version))
    while current is not None and current not in out:
        out.append(current)
        parent = (current.get("lineage") or {}).get("parent")
        pname, _, pver = parent.rpartition("@") if isinstance(parent, str) else ("", "", "")
        current = by_ref.get((pname, pver))
    return out


def mermaid(g: dict[str, Any]) -> str:
    ids = {n["id"]: f"n{i}" for i, n in enumerate(g["nodes"])}
    lines = ["graph LR"]
    lines += [f'    {ids[n["id"]]}["{n["id"]}"]' for n in g["nodes"]]
    lines += [f"    {ids[e['from']]} --> {ids[e['to']]}" for e in g["edges"]]
    return "\n".join(lines) + "\n"


def chain(rec: Mapping[str, Any]) -> list[str]:
    """One version's path: data -> feature engineering -> experiment -> model -> deployment (what it has)."""
    lineage = rec.get("lineage") or {}
    ids = [f"{kind}:{lineage[key]}" for key, kind in UPSTREAM if lineage.get(key) not in (None, "")]
    ids.append(model_node(rec["name"], rec["version"]))
    if rec.get("stage") in DEPLOYED_STAGES:
        ids.append(f"deployment:{rec['name']}:{rec['stage']}")
    return ids


def tree(data: dict[str, Any]) -> str:
    """Each version's chain, indented like the seed's diagram, with its parent version."""
    lines: list[str] = []
    for ref, ids in data["chains"].items():
        lines.append(ref)
        for depth, node in enumerate(ids):
            lines.append("  " + ("      " * (depth - 1) + "  └─> " if depth else "") + node)
        parent = data["parents"].get(ref)
        if parent:
            lines.append(f"  (parent: {parent})")
    return "\n".join(lines) + "\n"
