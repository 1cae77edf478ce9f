"""A write's light view of one model (issue 10): per version only what its decisions need (version, sort key, stage,
seq, deprecation, the production events rollback walks), kept in one small summary file beside the model's full
per-(model, increment) cache files (record_cache.py). Each summary entry names the stat of the cache file it was
taken from: a cache file that changed (rewritten by a read, removed, new) is loaded in full and its entry taken
again, and every version is still checked against its metadata.json's fingerprint. Full records are loaded only
for the increments a write needs them from (``ModelView.full``). The records a write wrote are laid over the cache
files once it committed (record_layer.py), so the next write parses and rewrites nothing."""

from __future__ import annotations

import os
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from pathlib import Path

from .record_cache import _load_marshal, _parse, _records_dir, _shard, _store_marshal, _store_records
from .record_layer import LIMIT, over, settled
from .record_layer import file_stat as _stat
from .record_layer import load as load_layer
from .record_layer import store as store_layer
from .records import Record, _sorted
from .sources import Source

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import Any

    from .record_layer import Layer

SUMMARY = "summary.light"  # not ``*.marshal``: the full cache files' readers skip it


def light(rec: Record) -> tuple[Any, ...]:
    """What the summary keeps of a record (tens of bytes): the production events only, for rollback."""
    prod = [e for e in rec["stage_events"] if e[3] == "production"]
    return (rec["version"], rec["key"], rec["stage"], rec["max_seq"], rec["deprecated"], prod)


def _light_record(name: str, rel: str, increment: str, kept: tuple[Any, ...]) -> dict[str, Any]:
    version, key, stage, max_seq, deprecated, prod = kept
    return {
        "name": name, "version": version, "key": key, "stage": stage, "increment": increment,
        "dir": rel[: -len("/metadata.json")], "max_seq": max_seq, "deprecated": deprecated, "stage_events": prod,
    }


def _full_shard(path: Path) -> dict[str, tuple[Any, Record]]:
    """A full cache file's records: rel -> (fingerprint, record); {} when unreadable (then it is rebuilt)."""
    data = _load_marshal(path)
    got, fps = data.get("records"), data.get("fps")
    if not isinstance(got, list) or not isinstance(fps, dict) or len(got) != len(fps):
        return {}
    return {rel: (fp, rec) for (rel, fp), rec in zip(fps.items(), got)}


class ModelView:
    """One model's light records, checked (``guard``) and brought up to date, with its full records on demand."""

    def __init__(self, source: Source, name: str, cache_dir: Path | None) -> None:
        self.source, self.name, self.cache_dir = source, name, cache_dir
        self.folder = _records_dir(cache_dir, source, name) if cache_dir is not None else None
        self.fps: dict[str, Any] = {}  # the model's metadata rels -> fingerprint the check found
        self.fresh: dict[str, Record] = {}  # every record read again (another model's folder among them)
        self._full: dict[str, Record] = {}  # full records known: loaded from a cache file, read again, or put
        self._loaded: set[str] = set()  # shards loaded in full
        self._summary: dict[str, Any] = {}  # shard -> [its cache file's stat, {rel: (fingerprint, light)}]
        self._layer: Layer = {}  # the parts of the layer (record_layer.py) still lying over their cache file
        self._layer_void = False  # the layer file holds parts that no longer do
        self.now: dict[str, set[str]] = {}  # shard -> the model's metadata rels in its increment

    def check(self, guard: Callable[[str, set[str]], dict[str, Any]]) -> list[dict[str, Any]]:
        """The model's light records in version order, after ``guard`` checked its folders; cache files, the
        layer and the summary are written again where they changed."""
        kept, summary, changed = self._read_summary()
        entries: dict[str, Any] = {}
        for _, rels in summary.values():
            entries.update(rels)
        layered = {rel: got for _, part in self._layer.values() for rel, got in part.items()}
        entries.update({rel: (fp, light(rec)) for rel, (fp, rec) in layered.items()})  # newer than the file
        marker = f"/models/{self.name}-v"  # the check finds folders named so itself: it is told the others
        fps = guard(self.name, {rel for rel in entries if marker not in rel})
        known = {rel: got[0] for rel, got in entries.items()}
        if known == fps:  # every version as cached (the usual case): one comparison made in C
            valid: AbstractSet[str] = fps.keys()
            self.fresh = {}
        else:
            valid = {rel for rel, fp in fps.items() if known.get(rel) == fp}
            self.fresh = {rel: _parse(self.source, rel) for rel in fps if rel not in valid}
        mine_fresh = [rel for rel, rec in self.fresh.items() if rec["name"] == self.name]
        self.fps = fps if not self.fresh else {rel: fps[rel] for rel in (*valid, *mine_fresh)}
        self._full.update({rel: got[1] for rel, got in layered.items() if rel in valid})
        self._full.update({rel: self.fresh[rel] for rel in mine_fresh})
        now = {s: have for s, (_, rels) in summary.items() if (have := rels.keys() & valid)}  # by shard, no parsing
        for s, (_, part) in self._layer.items():
            now.setdefault(s, set()).update(part.keys() & valid)
        added: dict[str, list[str]] = {}
        for rel in mine_fresh:
            now.setdefault(s := _shard(rel), set()).add(rel)
            added.setdefault(s, []).append(rel)
        # a cache file written again: none yet, unreadable (it holds nothing), one holding a version gone, or
        # one whose part of the layer would grow past LIMIT
        redo = {s for s, have in now.items() if s not in summary or not summary[s][1] or self._held(s, summary) - have}
        redo |= {s for s, rels in added.items() if len(self._layer.get(s, (0, {}))[1]) + len(rels) > LIMIT}
        self._summary, self.now = summary, now
        if redo or kept - now.keys():
            self._rewrite(redo, now, kept)
            changed = True
        for s, rels in added.items():  # a changed or new version: into the layer, its cache file stays as it is
            if s not in redo:
                part = self._layer.setdefault(s, [self._summary[s][0], {}])[1]
                part.update({rel: (self.fps[rel], self._full[rel]) for rel in rels})
                self._layer_void = True
        if changed and self.folder is not None:
            _store_marshal(self.folder / SUMMARY, {"shards": self._summary})
        if self._layer_void and self.folder is not None:
            store_layer(self.folder, self._layer)
            self._layer_void = False
        return _sorted(self._lights(), self.name)  # type: ignore[arg-type,return-value]

    def _held(self, shard: str, summary: dict[str, Any]) -> set[str]:
        """The rels a shard's cache file and its layer hold."""
        held: set[str] = summary[shard][1].keys() | self._layer.get(shard, (0, {}))[1].keys()
        return held

    def _lights(self) -> list[dict[str, Any]]:
        """The light records of ``now``, shard by shard (each shard's summary entries in version order: the sort
        merges a few sorted runs); built inline, since a write builds one for every version of the model."""
        name, cut, recs = self.name, -len("/metadata.json"), []
        for shard, have in self.now.items():
            inc, rels = shard.rsplit("%", 1)[-1], self._summary[shard][1]
            part: dict[str, Any] = self._layer.get(shard, (0, {}))[1]
            if part or len(have) != len(rels):
                rels = {rel: got for rel, got in rels.items() if rel in have and rel not in part}
                rels.update({rel: (fp, light(rec)) for rel, (fp, rec) in part.items() if rel in have})
            recs += [
                {"name": name, "version": k[0], "key": k[1], "stage": k[2], "increment": inc, "dir": rel[:cut],
                 "max_seq": k[3], "deprecated": k[4], "stage_events": k[5]}
                for rel, (_, k) in rels.items()
            ]
        return recs

    def _read_summary(self) -> tuple[set[str], dict[str, Any], bool]:
        """The cache files there are, and shard -> (the file's stat, rel -> (fingerprint, light)) for each, taken
        from the summary where the file's stat is the one it names, else from the file loaded in full; and the
        parts of the layer that still lie over their file."""
        if self.folder is None:
            return set(), {}, False
        try:
            with os.scandir(self.folder) as it:
                kept = {e.name[: -len(".marshal")] for e in it if e.name.endswith(".marshal")}
        except (FileNotFoundError, NotADirectoryError):
            return set(), {}, False
        old = _load_marshal(self.folder / SUMMARY).get("shards")
        old = old if isinstance(old, dict) else {}
        layer = load_layer(self.folder)
        summary: dict[str, Any] = {}
        changed = old.keys() != kept
        for shard in kept:
            st = _stat(self.folder / f"{shard}.marshal")
            if part := over(layer, shard, st):
                self._layer[shard] = [st, dict(part)]
            got = old.get(shard)
            if st is not None and isinstance(got, list) and len(got) == 2 and got[0] == st:
                summary[shard] = got
                continue
            changed = True
            full = _full_shard(self.folder / f"{shard}.marshal")  # not kept: its full records are loaded again
            summary[shard] = [st, {rel: (fp, light(rec)) for rel, (fp, rec) in full.items()}]  # if needed (memory)
        self._layer_void = len(self._layer) != len(layer)
        return kept, summary, changed

    def _load_shard(self, shard: str) -> dict[str, tuple[Any, Record]]:
        assert self.folder is not None
        full = _full_shard(self.folder / f"{shard}.marshal")
        self._loaded.add(shard)
        for rel, (fp, rec) in full.items():
            if rel not in self._full and (not self.fps or self.fps.get(rel) == fp):
                self._full[rel] = rec
        return full

    def _rewrite(self, redo: set[str], now: dict[str, set[str]], kept: set[str]) -> None:
        """Write the full cache files of ``redo`` (every record of each, loaded or read again) and remove those of
        increments with no version left, as record_cache does; their summary entries are taken again and their
        parts of the layer dropped (the file now holds them)."""
        recs = [self.full(rel) for shard in redo for rel in sorted(now[shard])]
        gone: dict[str, AbstractSet[str]] = {s: set() for s in kept if s not in now}
        _store_records(self.cache_dir, self.source, self.name, recs, self.fps, redo, gone)
        self._summary = {s: v for s, v in self._summary.items() if s in now and s not in redo}
        self._summary.update({s: self._entry(s, now[s]) for s in redo})
        for s in redo | gone.keys():
            if self._layer.pop(s, None) is not None:
                self._layer_void = True

    def write_through(self, written: dict[str, bytes], root: str) -> None:
        """Once the write committed (under its lock): each record it wrote, at the fingerprint its metadata.json
        has now, into the layer; into the cache file itself for an increment that has none yet or whose part of the
        layer grew past ``LIMIT``. The next write's check then finds every version as it is: no parse, no load or
        rewrite of a cache file. A metadata.json that no longer holds what was written is left to the next check."""
        if self.folder is None:
            return
        fold: set[str] = set()
        for rel, raw in written.items():
            rec, fp = self._full.get(rel), settled(f"{root}/{rel}", raw)
            if rec is None or fp is None:
                continue
            self.fps[rel] = fp
            self.now.setdefault(shard := _shard(rel), set()).add(rel)
            if shard not in self._summary:
                fold.add(shard)
                continue
            part = self._layer.setdefault(shard, [self._summary[shard][0], {}])[1]
            part[rel] = (fp, rec)
            self._layer_void = True
            if len(part) > LIMIT:
                fold.add(shard)
        if fold:
            self._rewrite(fold, self.now, set())
            _store_marshal(self.folder / SUMMARY, {"shards": self._summary})
        if self._layer_void:
            store_layer(self.folder, self._layer)
            self._layer_void = False

    def _entry(self, shard: str, rels: set[str]) -> list[Any]:
        st = _stat(self.folder / f"{shard}.marshal") if self.folder is not None else None
        # in version order, as the cache file has them
        got = sorted(((light(self._full[rel]), rel) for rel in rels), key=lambda item: (item[0][1], item[1]))
        return [st, {rel: (self.fps[rel], kept) for kept, rel in got}]

    def full(self, rel: str) -> Record:
        """The full record of one of the model's versions: loaded with its increment's cache file, read again when
        the file does not hold it at the fingerprint the check found."""
        rec = self._full.get(rel)
        if rec is None:
            shard = _shard(rel)
            if self.folder is not None and shard not in self._loaded:
                self._load_shard(shard)
            rec = self._full.get(rel)
            if rec is None:
                rec = self._full[rel] = _parse(self.source, rel)
        return rec

    def put(self, rel: str, rec: Record) -> None:
        self._full[rel] = rec
