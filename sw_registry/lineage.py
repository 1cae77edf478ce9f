"""Lineage as a graph of node ids (SPEC §7.11): pure functions over version summaries."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

UPSTREAM = (("data", "data"), ("feature_engineering", "feature_engineering"), ("experiment", "experiment"))
DEPLOYED_STAGES = ("staging", "production")


def model_node(name: str, version: str) -> str:
    return f"model:{name}@{version}"


def graph(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
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
