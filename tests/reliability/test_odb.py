"""gitops/odb.py reads objects from git's store as ``git cat-file`` prints them (loose, packed whole, packed as
deltas by offset or by id, from an index with 64-bit offsets), and answers None where git should be asked;
``commits.head_trees`` built from it lists HEAD's folders as the ``git cat-file`` path did."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from sw_registry.gitops import commits, odb
from sw_registry.gitops.repo import open_repo
from tests.conftest import git


def history(root: Path, commits_made: int = 12) -> Path:
    """A repository whose files change a little per commit, so that ``git gc`` stores most objects as deltas."""
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    for c in range(commits_made):
        for f in range(25):
            folder = root / "models" / f"m-v{f}"
            folder.mkdir(parents=True, exist_ok=True)
            lines = [f"line {i} of file {f}\n" for i in range(200)]
            lines[(c * 7 + f) % 200] = f"changed in commit {c}\n"
            (folder / "metadata.json").write_text("".join(lines))
        (root / "catalog.yaml").write_text("".join(f"- version {i}: commit {c}\n" for i in range(300 + c)))
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", f"commit {c}")
    return root


def all_objects(root: Path) -> dict[str, tuple[bytes, bytes]]:
    """Every object git has: id -> (type, body), as git cat-file prints it."""
    ids = git(root, "cat-file", "--batch-all-objects", "--batch-check=%(objectname)").split()
    out = subprocess.run(["git", "cat-file", "--batch"], cwd=root, input="\n".join(ids).encode() + b"\n",
                         capture_output=True, check=True).stdout
    found, pos = {}, 0
    while pos < len(out):
        nl = out.index(b"\n", pos)
        oid, kind, size = out[pos:nl].split()
        found[oid.decode()] = (kind, out[nl + 1 : nl + 1 + int(size)])
        pos = nl + 1 + int(size) + 1
    assert len(found) == len(ids)
    return found


def reads_all(root: Path) -> int:
    objects = all_objects(root)
    store = odb.Store(str(root / ".git" / "objects"))
    try:
        for oid, expected in objects.items():
            assert store.read(oid) == expected, oid
    finally:
        store.close()
    return len(objects)


def delta_kinds(root: Path) -> set[int]:
    """The pack entry types (6: delta by offset, 7: by id) of the objects ``git verify-pack`` lists as deltas."""
    (idx,) = (root / ".git" / "objects" / "pack").glob("pack-*.idx")
    raw = idx.with_suffix(".pack").read_bytes()
    out = git(root, "verify-pack", "-v", str(idx))
    offsets = [int(line.split()[4]) for line in out.splitlines() if len(line.split()) == 7]  # a delta: its base too
    return {(raw[offset] >> 4) & 7 for offset in offsets}


def test_loose_objects_read_as_git_prints_them(tmp_path: Path) -> None:
    root = history(tmp_path / "r", 3)
    assert not list((root / ".git" / "objects" / "pack").glob("*.pack"))
    assert reads_all(root) > 50


def test_deltas_by_offset_read_as_git_prints_them(tmp_path: Path) -> None:
    root = history(tmp_path / "r")
    git(root, "gc", "-q", "--aggressive")
    assert delta_kinds(root) == {6}  # the test stands on deltas being there
    assert reads_all(root) > 300


def test_deltas_by_id_and_64_bit_offsets_read_as_git_prints_them(tmp_path: Path) -> None:
    root = history(tmp_path / "r")
    git(root, "-c", "repack.useDeltaBaseOffset=false", "repack", "-a", "-d", "-f", "-q")
    assert delta_kinds(root) == {7}
    (pack,) = (root / ".git" / "objects" / "pack").glob("pack-*.pack")
    assert reads_all(root) > 300
    idx = pack.with_suffix(".idx")
    idx.unlink()
    git(root, "index-pack", "--index-version=2,1000", "-o", str(idx), str(pack))  # offsets over 1000: 64-bit
    count = int.from_bytes(idx.read_bytes()[8 + 255 * 4 : 8 + 256 * 4], "big")
    assert idx.stat().st_size > 8 + 256 * 4 + 28 * count + 40 + 8 * 100  # the table of 64-bit offsets is there
    assert reads_all(root) > 300


def test_what_it_does_not_handle_is_none(tmp_path: Path) -> None:
    root = history(tmp_path / "r", 2)
    objects = root / ".git" / "objects"
    head = git(root, "rev-parse", "HEAD").strip()
    store = odb.Store(str(objects))
    assert store.read("0" * 40) is None  # not there
    assert store.read(head[:39]) is None  # not an id
    assert store.read(head) is not None
    (objects / "info").mkdir(exist_ok=True)
    (objects / "info" / "alternates").write_text("/elsewhere/objects\n")
    assert store.read(head) is None
    (objects / "info" / "alternates").unlink()
    git(root, "gc", "-q")
    (idx,) = (objects / "pack").glob("pack-*.idx")
    idx.unlink()
    git(root, "index-pack", "--index-version=1", "-o", str(idx), str(idx.with_suffix(".pack")))
    assert odb.Store(str(objects)).read(head) is None  # a version 1 index: git is asked


def test_a_corrupt_object_is_none_not_wrong_bytes(tmp_path: Path) -> None:
    root = history(tmp_path / "r", 1)
    blob = git(root, "rev-parse", "HEAD:catalog.yaml").strip()
    path = root / ".git" / "objects" / blob[:2] / blob[2:]
    import zlib

    path.chmod(0o644)
    path.write_bytes(zlib.compress(b"blob 5\0hello"))  # well-formed, but not the object with this id
    assert odb.Store(str(root / ".git" / "objects")).read(blob) is None


@pytest.mark.parametrize("packed", [False, True])
def test_head_trees_lists_folders_as_git_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, packed: bool) -> None:
    root = history(tmp_path / "r", 4)
    if packed:
        git(root, "gc", "-q", "--aggressive")
    (root / ".git" / commits.TREES_FILE).unlink(missing_ok=True)  # no kept trees: every folder is read
    repo = open_repo(root)
    head = git(root, "rev-parse", "HEAD").strip()
    cases = [
        ["models/m-v3/metadata.json", "catalog.yaml"],
        ["models/m-v30/metadata.json"],  # a new folder
        ["models/new/deeper/file.txt", "models/m-v1/metadata.json"],
        ["catalog.yaml/below"],  # a file where a folder is asked for
    ]
    folders = ["", "models", "models/m-v3", "models/m-v30", "models/new/deeper", "catalog.yaml"]
    assert odb.read_trees(repo, head, folders, {}, {}) == []  # none of them needs git here
    for ours in cases:
        old_mine: dict[str, tuple[str, str]] = {}
        mine = commits.head_trees(repo, head, ours, old_mine)
        with monkeypatch.context() as m:
            m.setattr(odb.Store, "read", lambda self, oid: None)  # every folder from git cat-file
            old_git: dict[str, tuple[str, str]] = {}
            by_git = commits.head_trees(repo, head, ours, old_git)
        assert mine == by_git
        assert old_mine == old_git


def test_a_delta_chain_longer_than_the_limit_is_left_to_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A blob stored as a delta of a delta of ... (pack.depth allows 4095) is followed up to ``MAX_CHAIN`` bases;
    past that, None (git is asked), never a RecursionError."""
    root = tmp_path / "r"
    root.mkdir()
    git(root, "init", "-q")
    lines = [f"line {i}\n" for i in range(300)]
    ids = []
    for v in range(120):
        lines[v % 300] = f"changed {v}\n"
        proc = subprocess.run(["git", "hash-object", "-w", "--stdin"], cwd=root, input="".join(lines).encode(),
                              capture_output=True, check=True)
        ids.append(proc.stdout.decode().strip())
    subprocess.run(["git", "pack-objects", "--depth=4095", "--window=10", "-q", ".git/objects/pack/pack"], cwd=root,
                   input="\n".join(ids).encode() + b"\n", capture_output=True, check=True)
    git(root, "prune-packed")
    chains = git(root, "verify-pack", "-v", *map(str, (root / ".git/objects/pack").glob("*.idx")))
    assert "chain length = 20:" in chains  # the test stands on chains longer than the limit below
    monkeypatch.setattr(odb, "MAX_CHAIN", 10)
    store = odb.Store(str(root / ".git" / "objects"))
    objects = all_objects(root)
    found = {oid: store.read(oid) for oid in ids}
    assert None in found.values()  # the deep ones
    assert all(got == objects[oid] for oid, got in found.items() if got is not None)
    assert sum(got is not None for got in found.values()) > 10  # the shallow ones still read
