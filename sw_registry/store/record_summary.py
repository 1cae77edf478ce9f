"""A write's light view of one model (issue 10): per version only what its decisions need (version, sort key, stage,
seq, deprecation, the production events rollback walks), kept in one small summary file beside the model's full
per-(model, increment) cache files (record_cache.py). Each summary entry names the stat of the cache file it was
taken from: a cache file that changed (rewritten by a read, removed, new) is loaded in full and its entry taken
again, and every version is still checked against its metadata.json's fingerprint. Full records are loaded only
for the increments a write needs them from (``ModelView.full``)."""

from __future__ import annotations

import os
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from pathlib import Path

from .record_cache import _load_marshal, _parse, _records_dir, _shard, _store_marshal, _store_records
from .records import Record, _sorted
from .sources import Source

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import Any

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


def _stat(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


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

    def check(self, guard: Callable[[str, set[str]], dict[str, Any]]) -> list[dict[str, Any]]:
        """The model's light records in version order, after ``guard`` checked its folders; cache files and the
        summary are written again where they changed."""
        kept, summary, changed = self._read_summary()
        entries = {rel: entry for _, rels in summary.values() for rel, entry in rels.items()}
        fps = guard(self.name, set(entries))
        valid = {rel for rel, fp in fps.items() if (got := entries.get(rel)) is not None and got[0] == fp}
        self.fresh = {rel: _parse(self.source, rel) for rel in fps if rel not in valid}
        mine_fresh = [rel for rel, rec in self.fresh.items() if rec["name"] == self.name]
        self.fps = {rel: fps[rel] for rel in (*valid, *mine_fresh)}
        self._full.update({rel: self.fresh[rel] for rel in mine_fresh})
        now = {s: have for s, (_, rels) in summary.items() if (have := rels.keys() & valid)}  # by shard, no parsing
        for rel in mine_fresh:
            now.setdefault(_shard(rel), set()).add(rel)
        redo = {s for s, have in now.items() if s not in summary or have != summary[s][1].keys() or have - valid}
        if redo or kept - now.keys():
            self._rewrite(redo, now, kept)
            summary = {s: v for s, v in summary.items() if s in now and s not in redo}
            summary.update({s: self._entry(s, now[s]) for s in redo})
            changed = True
        if changed and self.folder is not None:
            _store_marshal(self.folder / SUMMARY, {"shards": summary})
        recs = []
        for shard, have in now.items():
            inc, rels = shard.rsplit("%", 1)[-1], summary[shard][1]
            # each entry's records are kept in version order: the sort below merges a few sorted runs
            recs += [_light_record(self.name, rel, inc, got[1]) for rel, got in rels.items() if rel in have]
        return _sorted(recs, self.name)  # type: ignore[arg-type,return-value]

    def _read_summary(self) -> tuple[set[str], dict[str, Any], bool]:
        """The cache files there are, and shard -> (the file's stat, rel -> (fingerprint, light)) for each, taken
        from the summary where the file's stat is the one it names, else from the file loaded in full."""
        if self.folder is None:
            return set(), {}, False
        try:
            with os.scandir(self.folder) as it:
                kept = {e.name[: -len(".marshal")] for e in it if e.name.endswith(".marshal")}
        except (FileNotFoundError, NotADirectoryError):
            return set(), {}, False
        old = _load_marshal(self.folder / SUMMARY).get("shards")
        old = old if isinstance(old, dict) else {}
        summary: dict[str, Any] = {}
        changed = old.keys() != kept
        for shard in kept:
            st = _stat(self.folder / f"{shard}.marshal")
            got = old.get(shard)
            if st is not None and isinstance(got, list) and len(got) == 2 and got[0] == st:
                summary[shard] = got
                continue
            changed = True
            full = _full_shard(self.folder / f"{shard}.marshal")  # not kept: its full records are loaded again
            summary[shard] = [st, {rel: (fp, light(rec)) for rel, (fp, rec) in full.items()}]  # if needed (memory)
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
        increments with no version left, as record_cache does."""
        recs = [self.full(rel) for shard in redo for rel in sorted(now[shard])]
        gone: dict[str, AbstractSet[str]] = {s: set() for s in kept if s not in now}
        _store_records(self.cache_dir, self.source, self.name, recs, self.fps, redo, gone)

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
