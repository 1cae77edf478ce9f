"""Derived files of an increment: model_catalog.yaml and lineage_graph.json (rebuilt by registry-reindex)."""

from __future__ import annotations

import json
from typing import Any

from .. import lineage
from . import yamlout

CATALOG_HEADER = (
    "# Derived by sw-registry from models/*/metadata.json. Do not edit by hand;\n"
    "# after a merge conflict here run: sw-registry registry-reindex\n"
)


def catalog_bytes(increment: str, records: list[dict[str, Any]]) -> bytes:
    models: dict[str, list[dict[str, Any]]] = {}
    for rec in sorted(records, key=lambda r: (r["name"], r["key"])):
        art = rec.get("artifact") or {}
        models.setdefault(rec["name"], []).append(
            {
                "version": rec["version"],
                "stage": rec["stage"],
                "created_at": rec.get("created_at"),
                "created_by": rec.get("created_by"),
                "path": "models/" + rec["dir"].rsplit("/", 1)[-1],
                "artifact": art.get("path"),
                "sha256": art.get("sha256"),
                "size_bytes": art.get("size_bytes"),
                "deprecated": bool(rec.get("deprecated")),
                "tags": list(rec.get("tags") or []),
            }
        )
    # one flow mapping per version: a stage change is a one-line diff, and it writes at C speed
    lines = [CATALOG_HEADER + yamlout.dump({"schema_version": 1, "increment": increment}).rstrip("\n")]
    if not models:
        lines.append("models: {}")
    else:
        lines.append("models:")
        for name, entries in models.items():
            lines.append(f"  {yamlout.key(name)}:")
            lines += [f"  - {yamlout.flow(entry)}" for entry in entries]
    return ("\n".join(lines) + "\n").encode("utf-8")


def lineage_bytes(increment: str, records: list[dict[str, Any]]) -> bytes:
    """JSON with one node or edge per line (readable diffs; json's C encoder, unlike indent=2)."""
    g = lineage.graph(records)
    encode = json.JSONEncoder(
        ensure_ascii=False
    ).encode  # one encoder: json.dumps(..., ensure_ascii=False) builds one per call
    parts = [f'{{\n  "schema_version": 1,\n  "increment": {json.dumps(increment)},']
    for key in ("nodes", "edges"):
        items = ",\n".join(f"    {encode(item)}" for item in g[key])
        parts.append(f'  "{key}": [\n{items}\n  ]' if items else f'  "{key}": []')
    return (parts[0] + "\n" + ",\n".join(parts[1:]) + "\n}\n").encode("utf-8")


def derived_files(inc_rel: str, increment: str, records: list[dict[str, Any]]) -> dict[str, bytes]:
    """root-relative path -> content of every derived file of one increment."""
    return {
        f"{inc_rel}/registry/model_catalog.yaml": catalog_bytes(increment, records),
        f"{inc_rel}/registry/lineage_graph.json": lineage_bytes(increment, records),
    }
