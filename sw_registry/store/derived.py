"""Derived files of an increment: model_catalog.yaml and lineage_graph.json (rebuilt by registry-reindex)."""

from __future__ import annotations

from typing import Any

from .. import lineage
from . import yamlout
from .files import dump_json

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
    doc = {"schema_version": 1, "increment": increment, "models": models}
    return (CATALOG_HEADER + yamlout.dump(doc)).encode("utf-8")


def lineage_bytes(increment: str, records: list[dict[str, Any]]) -> bytes:
    g = lineage.graph(records)
    return dump_json({"schema_version": 1, "increment": increment, **g})


def derived_files(inc_rel: str, increment: str, records: list[dict[str, Any]]) -> dict[str, bytes]:
    """root-relative path -> content of every derived file of one increment."""
    return {
        f"{inc_rel}/registry/model_catalog.yaml": catalog_bytes(increment, records),
        f"{inc_rel}/registry/lineage_graph.json": lineage_bytes(increment, records),
    }
