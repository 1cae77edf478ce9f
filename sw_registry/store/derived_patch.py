"""A write's derived files patched from the previous render (issue 10): only the versions that changed are rendered.

model_catalog.yaml is one line per version, in (name, version key) order under one header line per model;
lineage_graph.json one line per node (sorted by id) and per edge (in the order the versions, in that same order,
first add them). So the previous render's lines are matched to the cached entries (store/derived_cache.py) by that
order alone, without parsing them: the versions' lines of the catalog in entry order, the nodes in sorted id order,
the edges in first-appearance order. A changed version's lines are rendered from its record, the others kept, and
the files are put together again exactly as ``derived.derived_files`` would render them from every version.
"""

from __future__ import annotations

from itertools import chain
from sys import intern

from .. import lineage
from . import derived as D

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import Any

    from .records import Record

    # fingerprint, name, version key, node ids, edges
    Entry = tuple[Any, str, Any, tuple[str, ...], tuple[tuple[str, str], ...]]


def version_graph(rec: Record, encode: Any) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...], dict[str, str]]:
    """One version's node ids and edges (in the order ``lineage.graph`` adds them), and its nodes' lines."""
    g = lineage.graph([rec])
    # interned: one string object per node id across versions, which marshal then stores once (a reference after)
    lines = {intern(n["id"]): f"    {encode(n)}" for n in g["nodes"]}
    return tuple(lines), tuple((intern(e["from"]), intern(e["to"])) for e in g["edges"]), lines


def entry(fp: Any, rec: Record, nodes: tuple[str, ...], edges: tuple[tuple[str, str], ...]) -> Entry:
    return (fp, intern(rec["name"]), rec["key"], nodes, edges)


def full(
    inc_rel: str, inc_id: str, fps: dict[str, Any], records: dict[str, Record]
) -> tuple[dict[str, bytes], dict[str, Entry], bool]:
    """Every version rendered: the files as ``derived_files`` gives them, the cache entries, and whether two versions
    label a node differently (then the files cannot be patched: the first version's label wins)."""
    ordered = [records[rel] for rel in sorted(records)]
    files = D.derived_files(inc_rel, inc_id, ordered)
    encode = D._encoder()
    entries: dict[str, Entry] = {}
    seen: dict[str, str] = {}
    conflict = False
    for rel in sorted(records):
        nodes, edges, lines = version_graph(records[rel], encode)
        for node_id, line in lines.items():
            conflict = conflict or seen.setdefault(node_id, line) != line
        entries[rel] = entry(fps[rel], records[rel], nodes, edges)
    return files, entries, conflict


def patch(
    inc_id: str,
    old: dict[str, Entry],
    catalog: bytes,
    graph: bytes,
    changed: dict[str, Record],
    fps: dict[str, Any],
    gone: set[str],
) -> tuple[bytes, bytes, dict[str, Entry]] | None:
    """The catalog and lineage bytes with ``changed`` versions' lines replaced or added and ``gone`` ones removed, and
    the new entries; None when the previous files do not line up with ``old`` (then the caller renders in full)."""
    old_order = sorted(old, key=lambda rel: (old[rel][1], old[rel][2], rel))
    version_lines = [line for line in catalog.decode("utf-8").split("\n") if line.startswith("  - ")]
    nodes_old, edges_old = _lineage_lines(graph.decode("utf-8"))
    node_ids = sorted(set().union(*(old[rel][3] for rel in old_order)))
    edge_keys = list(dict.fromkeys(chain.from_iterable(old[rel][4] for rel in old_order)))
    if len(version_lines) != len(old_order) or len(nodes_old) != len(node_ids) or len(edges_old) != len(edge_keys):
        return None
    cat_line = dict(zip(old_order, version_lines))
    node_line = dict(zip(node_ids, nodes_old))
    edge_line: dict[tuple[str, str], str] = dict(zip(edge_keys, edges_old))
    entries = {rel: e for rel, e in old.items() if rel not in gone and rel not in changed}
    encode = D._encoder()
    for rel, rec in changed.items():
        nodes, edges, lines = version_graph(rec, encode)
        for node_id, line in lines.items():
            if node_line.setdefault(node_id, line) != line:
                return None  # two versions label one node differently: the full render decides
        entries[rel] = entry(fps[rel], rec, nodes, edges)
        cat_line[rel] = D.catalog_line(rec)
    order = sorted(entries, key=lambda rel: (entries[rel][1], entries[rel][2], rel))
    items = [(entries[rel][1], entries[rel][2], cat_line[rel]) for rel in order]
    new_catalog = D._catalog_from_lines(inc_id, D._grouped(items))
    ids = sorted(set().union(*(entries[rel][3] for rel in order)))
    pairs = dict.fromkeys(chain.from_iterable(entries[rel][4] for rel in order))
    edge_lines = [edge_line.get(p) or f"    {encode({'from': p[0], 'to': p[1]})}" for p in pairs]
    new_graph = D._lineage_from_lines(inc_id, [node_line[i] for i in ids], edge_lines)
    return new_catalog, new_graph, entries


def _lineage_lines(text: str) -> tuple[list[str], list[str]]:
    """The node lines and the edge lines of a lineage_graph.json as ``derived._lineage_from_lines`` writes it: one
    item a line, ",\n" between them (a JSON line holds no raw line break)."""
    out: list[list[str]] = []
    for key in ('  "nodes": [\n', '  "edges": [\n'):
        start = text.find(key)
        if start < 0:
            out.append([])
            continue
        start += len(key)
        end = text.find("\n  ]", start)
        out.append(text[start:end].split(",\n") if end >= 0 else [])
    return out[0], out[1]
