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
from operator import itemgetter
from sys import intern

from .. import lineage
from . import derived as D

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import Any

    from .records import Record

    # fingerprint, (name, version key, rel), node ids, edge lines
    Entry = tuple[Any, tuple[str, Any, str], tuple[str, ...], tuple[str, ...]]


def version_graph(rec: Record, encode: Any) -> tuple[tuple[str, ...], tuple[str, ...], dict[str, str]]:
    """One version's node ids, its edges' lines (in the order ``lineage.graph`` adds them), and its nodes' lines.
    An edge's line is its identity (the same pair, the same line): the edges dedupe as strings, whose hash Python
    keeps, not as tuples, hashed again at every use."""
    g = lineage.graph([rec])
    # interned: one string object per node id or edge line across versions, which marshal stores once
    lines = {intern(n["id"]): f"    {encode(n)}" for n in g["nodes"]}
    return tuple(lines), tuple(intern(f"    {encode(e)}") for e in g["edges"]), lines


def entry(fp: Any, rel: str, rec: Record, nodes: tuple[str, ...], edges: tuple[str, ...]) -> Entry:
    """A version's cache entry; [1] is its place in the files, (name, version key, rel): compared in C."""
    return (fp, (intern(rec["name"]), rec["key"], rel), nodes, edges)


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
        entries[rel] = entry(fps[rel], rel, records[rel], nodes, edges)
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
    before = sorted(old.values(), key=itemgetter(1))
    version_lines = [line for line in catalog.decode("utf-8").split("\n") if line.startswith("  - ")]
    nodes_old = _node_lines(graph.decode("utf-8"))
    node_ids = sorted(set().union(*(e[2] for e in before)))
    if len(version_lines) != len(before) or len(nodes_old) != len(node_ids):
        return None
    node_line = dict(zip(node_ids, nodes_old))
    # the kept versions in order, each with its line; then the changed ones put in their place
    kept = [(e, line) for e, line in zip(before, version_lines) if e[1][2] not in gone and e[1][2] not in changed]
    order, lines = [e[1] for e, _ in kept], [line for _, line in kept]
    entries = {e[1][2]: e for e, _ in kept}
    encode = D._encoder()
    for rel, rec in changed.items():
        nodes, edges, node_lines = version_graph(rec, encode)
        for node_id, line in node_lines.items():
            if node_line.setdefault(node_id, line) != line:
                return None  # two versions label one node differently: the full render decides
        new = entries[rel] = entry(fps[rel], rel, rec, nodes, edges)
        at = _place(order, new[1])
        order.insert(at, new[1])
        lines.insert(at, D.catalog_line(rec))
    new_catalog = D._catalog_from_lines(inc_id, D.group_sorted([place[0] for place in order], lines))
    ordered = [entries[place[2]] for place in order]
    ids = sorted(set().union(*(e[2] for e in ordered)))
    edge_lines = list(dict.fromkeys(chain.from_iterable(e[3] for e in ordered)))
    new_graph = D._lineage_from_lines(inc_id, [node_line[i] for i in ids], edge_lines)
    return new_catalog, new_graph, entries


def _place(order: list[Any], item: Any) -> int:
    """Where ``item`` goes in the sorted ``order`` (bisect's right, without importing bisect for one call)."""
    lo, hi = 0, len(order)
    while lo < hi:
        mid = (lo + hi) // 2
        if item < order[mid]:
            hi = mid
        else:
            lo = mid + 1
    return lo


def _node_lines(text: str) -> list[str]:
    """The node lines of a lineage_graph.json as ``derived._lineage_from_lines`` writes it: one a line, ",\n" between
    them (a JSON line holds no raw line break)."""
    key = '  "nodes": [\n'
    start = text.find(key)
    end = text.find("\n  ]", start)
    return text[start + len(key) : end].split(",\n") if start >= 0 and end >= 0 else []
