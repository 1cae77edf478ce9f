"""Making a registry commit: exactly our paths, on HEAD's tree, with git's hooks when there are any."""

from __future__ import annotations

import contextlib
import marshal
import os
from collections.abc import Iterator, Sequence

from ..errors import GitError
from . import spawn as subprocess  # subprocess's calls without importing subprocess.py (spawn.py)
from .housekeeping import after_commit, start_housekeeping
from .run import defer, git_env, run_git

TREES_FILE = "sw-registry-trees"  # in the git dir: the trees the last registry commit wrote (_keep_trees)
COMMIT_HOOKS = ("pre-commit", "prepare-commit-msg", "commit-msg", "post-commit", "post-rewrite")

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from .direct import IndexUpdate, Prepared
    from .repo import Repo


def runs_commit_hooks(repo: Repo) -> bool:
    """Whether ``git commit`` would run a hook here (then we commit with it, so the hook runs)."""
    for name in COMMIT_HOOKS:
        hook = repo.hooks_dir / name
        if hook.is_file() and os.access(hook, os.X_OK):
            return True
    return False


def commit(
    repo: Repo,
    message: str,
    paths: Sequence[str],
    env: dict[str, str] | None = None,
    *,
    head: str | None = None,
    sign: bool = False,
    prepared: Prepared | None = None,
) -> tuple[str, str]:
    """Commit exactly ``paths`` as ``stage`` put them in the index; the user's other staged changes stay staged.

    ``prepared`` is a commit whose objects are written (gitops/direct.py): HEAD moves to it and the index
    follows. Otherwise, without commit hooks (the usual case) the commit's tree is HEAD's tree with only
    ``paths`` replaced (``_tree_with``), so its cost follows the change, not the size of the repository or of
    the index. Where a commit hook would run, ``git commit`` runs it (``_commit_with_hooks``). ``head`` is
    HEAD's commit (the caller holds the write lock). Returns the commit id and what the hooks printed.
    """
    written: dict[str, dict[str, tuple[str, str]]] = {}  # stays empty where git commit makes the tree
    if prepared is not None:
        from .direct import land

        landed = land(repo, prepared, git_env(env))
        written = prepared.trees
        if isinstance(landed, subprocess.CompletedProcess):  # update-ref refused, or the index updated already
            proc = landed
            if proc.returncode == 0:  # a big file's commit: index_file.py updated the index; what git commit runs
                after_commit(repo, prepared.config)
        else:  # HEAD moved; git updates its index while we finish (``run.settle`` waits for it)
            update, config = landed, prepared.config
            defer(lambda: _indexed(repo, update, config))
            proc = subprocess.CompletedProcess(update.proc.args, 0, b"", b"")
    elif runs_commit_hooks(repo):
        proc = _commit_with_hooks(repo, message, paths, env, head, sign=sign)
    else:
        proc = _commit_paths(repo, message, paths, head, git_env(env), sign=sign, written=written)
    if proc.returncode != 0:
        output = (proc.stdout + proc.stderr).decode("utf-8", "replace").strip()
        hint = "fix the problem git reports and run the command again"
        if "tell me who you are" in output or "unable to auto-detect email" in output:
            hint = "pass --actor EMAIL or set git config user.name and user.email"
        elif sign and ("sign" in output or "ssh-keygen" in output or "gpg" in output):
            hint = "git could not sign the commit: check user.signingkey and gpg.format (git config -l)"
        elif "hook" in output or (repo.git_dir / "hooks" / "pre-commit").exists():
            hint = "a git hook refused the commit; fix what it reports (its output is in details.hook_output)"
        raise GitError(f"git commit failed: {output}", hint=hint, details={"hook_output": output})
    output = (proc.stdout + proc.stderr).decode("utf-8", "replace").strip()  # what hooks printed
    # update-ref moved HEAD from ``head`` to our prepared commit, or failed: no need to read it back
    new_head = prepared.commit if prepared is not None else repo.head_commit()
    if not new_head or new_head == head:
        raise GitError("git commit reported success but HEAD did not move", hint="run 'git status' and retry")
    _keep_trees(repo, new_head, written)
    return new_head, output


def _indexed(repo: Repo, update: IndexUpdate, config: dict[str, str | None]) -> None:
    """Wait for a landed commit's index update; then git's automatic housekeeping, as after ``git commit``."""
    proc = update.wait()
    if proc.returncode != 0:  # HEAD moved: the journal (kept) covers the index
        raise GitError(
            "the commit was made but git's index could not be updated: "
            + (proc.stdout + proc.stderr).decode("utf-8", "replace").strip(),
            hint="run 'sw-registry registry-verify --repair' to put the index in line with HEAD",
        )
    after_commit(repo, config)


def _commit_with_hooks(
    repo: Repo, message: str, paths: Sequence[str], env: dict[str, str] | None, head: str | None, *, sign: bool = False
) -> subprocess.CompletedProcess[bytes]:
    """``git commit`` on a temporary index, so that the hooks run (and see what they would with --only).

    What ``git commit --only -- <paths>`` does, but hashing each file once (git's --only adds the
    paths to a temporary index again, re-hashing every byte: 12 s more for a 1 GiB artifact here).
    Our temporary index is a copy of the real one, stat data and all, with anything else the user
    staged put back to HEAD; so the commit neither hashes again nor takes the user's staged work.
    ``git commit`` also runs git's automatic housekeeping itself.
    """
    tmp = repo.git_dir / f"sw-registry-index-{os.getpid()}"
    tmp_env = git_env({**(env or {}), "GIT_INDEX_FILE": str(tmp)})
    ours = [repo.prefix + p for p in paths]  # from the top of the work tree, as git prints paths
    try:
        import shutil  # only this fallback path copies a file

        shutil.copyfile(repo.git_dir / "index", tmp)
        if head:
            staged = repo.git("diff-index", "--cached", "--name-only", "-z", "--no-renames", "HEAD", "--").stdout
        else:
            staged = run_git(repo.toplevel, "ls-files", "-z").stdout  # unborn: everything staged is new
        others = [
            p
            for p in staged.decode("utf-8", "surrogateescape").split("\0")
            if p and p not in ours and not any(p.startswith(o + "/") for o in ours)
        ]
        if others:  # the user's staged work stays staged in the real index, out of this commit
            restore = ["reset", "-q", "HEAD", "--"] if head else ["rm", "-q", "--cached", "--"]
            run_git(repo.toplevel, "--literal-pathspecs", *restore, *others, env=tmp_env)
        # no FAST_OBJECTS here: the blobs exist (``stage`` wrote them), and git passes -c settings on to the
        # housekeeping ``git commit`` starts, whose repack must keep git's normal compression
        # git's -S signs with the user's key, gpg.format as they configured it (SPEC §6)
        commit = ("commit", "-q", "--no-edit", *(["-S"] if sign else []), "-F", "-")
        return run_git(repo.root, *commit, input=message.encode("utf-8"), env=tmp_env, check=False)
    finally:
        for leftover in (tmp, tmp.with_name(tmp.name + ".lock")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()


def _commit_paths(
    repo: Repo, message: str, paths: Sequence[str], head: str | None, env: dict[str, str], *, sign: bool = False,
    written: dict[str, dict[str, tuple[str, str]]],
) -> subprocess.CompletedProcess[bytes]:
    """A commit of HEAD's tree with ``paths`` as the index has them, made with plumbing (no hook would run).

    ``git commit`` would refresh the whole index (an lstat of every tracked file) and write-tree would read and
    write all of it; here git reads only the index entries of ``paths``, the trees on the way to them, and
    writes those trees again. Then git's automatic housekeeping starts, as after ``git commit``.
    """
    tree = _tree_with(repo, head, paths, written)
    if isinstance(tree, subprocess.CompletedProcess):
        return tree
    made = create_commit(repo, tree, head, message, env, sign=sign)
    if made.returncode == 0:
        start_housekeeping(repo.root)
    return made


def create_commit(
    repo: Repo, tree: str, head: str | None, message: str, env: dict[str, str], *, sign: bool = False
) -> subprocess.CompletedProcess[bytes]:
    """commit-tree and update-ref: the one place a commit object is made; ``sign`` is git's -S (SPEC §6)."""
    parents = ["-p", head] if head else []
    signing = ["-S"] if sign else []
    made = run_git(
        repo.root, "commit-tree", tree, *parents, *signing, input=message.encode("utf-8"), env=env, check=False
    )
    if made.returncode != 0:
        return made
    commit = made.stdout.decode().strip()
    subject = message.split("\n", 1)[0]
    reflog = f"commit: {subject}" if head else f"commit (initial): {subject}"
    # the old value makes the update fail if HEAD moved since the write began
    moved = run_git(repo.root, "update-ref", "-m", reflog, "HEAD", commit, head or "", env=env, check=False)
    return moved if moved.returncode != 0 else subprocess.CompletedProcess(made.args, 0, b"", made.stderr)


def _tree_with(
    repo: Repo, head: str | None, paths: Sequence[str], written: dict[str, dict[str, tuple[str, str]]]
) -> str | subprocess.CompletedProcess[bytes]:
    """The id of HEAD's tree with everything at or below each of ``paths`` replaced by the index's entries.

    Reads the index entries of ``paths`` (ls-files), the raw trees of their parent folders at HEAD (one
    cat-file --batch, unless the last registry commit, which made HEAD, kept them: ``_keep_trees``), and writes
    the changed trees bottom-up (one mktree --batch); ``written`` gets every folder's entries as written.
    """
    ours = [repo.prefix + p.rstrip("/") for p in paths]
    listed = run_git(
        repo.toplevel, "--literal-pathspecs", "ls-files", "-s", "-z", "--full-name", "--", *ours, check=False
    )
    if listed.returncode != 0:
        return listed
    staged: dict[str, tuple[str, str]] = {}  # path -> (mode, oid)
    for line in listed.stdout.decode("utf-8", "surrogateescape").split("\0"):
        if line:
            meta, _, path = line.partition("\t")
            mode, oid, _stage = meta.split()
            staged[path] = (mode, oid)
    trees = trees_with(repo, head, ours, staged)
    some_oid = next(iter(staged.values()), ("", head or ""))[1]
    made = _write_trees(repo, trees, "sha256" if len(some_oid) == 64 else "sha1")  # the object format
    written.update(trees)
    return made


def trees_with(
    repo: Repo, head: str | None, ours: list[str], staged: dict[str, tuple[str, str]],
    old: dict[str, tuple[str, str]] | None = None,
) -> dict[str, dict[str, tuple[str, str]]]:
    """HEAD's folders on the way to ``ours`` with everything at or below ``ours`` replaced by ``staged``
    (path -> (mode, oid)); ``old`` gets HEAD's entries of ``ours``."""
    trees, kept = head_trees(repo, head, ours, old)
    for path, entry in staged.items():
        parent, _, name = path.rpartition("/")
        trees.setdefault(parent, {})[name] = entry
        while parent and parent not in kept:  # a new folder below one of our paths
            parent = parent.rpartition("/")[0]
            trees.setdefault(parent, {})
    return trees


def head_trees(
    repo: Repo, head: str | None, ours: list[str], old: dict[str, tuple[str, str]] | None = None
) -> tuple[dict[str, dict[str, tuple[str, str]]], set[str]]:
    """HEAD's listing of every folder above ``ours`` (folder -> name -> (mode, oid)), without ``ours``
    themselves (HEAD's entries of those go into ``old``); and the set of those folders (the ones rebuilt from
    the index alone are not in it)."""
    kept: set[str] = set()
    for p in ours:
        parent = p
        while parent:
            parent = parent.rpartition("/")[0]
            kept.add(parent)
    trees: dict[str, dict[str, tuple[str, str]]] = {d: {} for d in kept}
    if head:
        from .loose import parse_tree

        cached = _kept_trees(repo, head)
        order = sorted(d for d in kept if not any(d == o or d.startswith(o + "/") for o in ours))
        trees.update({d: dict(cached[d]) for d in order if d in cached})
        order = [d for d in order if d not in cached]
        if order and len(head) == 40:  # from git's object store, without a git process (odb.py)
            from .odb import read_trees

            order = read_trees(repo, head, order, cached, trees)
        query = "".join(f"{head}:{d}\n" if d else f"{head}^{{tree}}\n" for d in order)
        raw = b""
        if order:
            raw = run_git(repo.toplevel, "cat-file", "--batch", input=query.encode("utf-8", "surrogateescape")).stdout
        for d, body in zip(order, _batch_objects(raw)):
            if body is not None:
                trees[d] = parse_tree(body, 32 if len(head) == 64 else 20)
    for p in ours:
        parent, _, name = p.rpartition("/")
        was = trees[parent].pop(name, None)
        if was is not None and old is not None:
            old[p] = was
    return trees, kept


def settle_trees(
    trees: dict[str, dict[str, tuple[str, str]]], algo: str, bodies: dict[str, bytes] | None = None
) -> list[tuple[str, str]]:
    """Give each folder of ``trees`` its id bottom-up (a folder's tree before its parent's, whose entry it
    becomes; an empty folder is dropped, as git keeps none): (folder, id) in the order to write them. ``bodies``
    gets each folder's tree object body (to write it without serialising it again)."""
    order = sorted(trees, key=lambda d: (-d.count("/") if d else 1, d))
    settled = []
    for d in order:
        entries = trees[d]
        if d:
            parent, _, name = d.rpartition("/")
            if not entries:
                trees[parent].pop(name, None)
                continue
            oid = _tree_oid(entries, algo, d, bodies)
            trees[parent][name] = ("40000", oid)
        else:
            oid = _tree_oid(entries, algo, d, bodies)
        settled.append((d, oid))
    return settled


def _write_trees(
    repo: Repo, trees: dict[str, dict[str, tuple[str, str]]], algo: str
) -> str | subprocess.CompletedProcess[bytes]:
    """Write ``trees`` bottom-up in one mktree --batch, and return the top one's id, after checking git wrote
    the ids we computed."""
    batch, expect = bytearray(), []
    for d, oid in settle_trees(trees, algo):
        expect.append(oid)
        for name, (mode, eoid) in trees[d].items():
            kind = "tree" if mode == "40000" else "commit" if mode == "160000" else "blob"
            batch += f"{mode} {kind} {eoid}\t".encode() + name.encode("utf-8", "surrogateescape") + b"\0"
        batch += b"\0"
    # --missing: every entry is known to exist (HEAD's trees, the index, or written just before in this
    # batch), so git need not look each of them up again (a models/ folder has one entry per version)
    made = run_git(repo.root, "mktree", "-z", "--missing", "--batch", input=bytes(batch), check=False)
    if made.returncode != 0:
        return made
    written = made.stdout.decode().split()
    if written != expect:  # our tree serialisation disagrees with git's: never commit a tree we did not check
        raise GitError("git wrote other trees than expected", hint="report this as a bug of sw-registry")
    return written[-1]


def _kept_trees(repo: Repo, head: str) -> dict[str, dict[str, tuple[str, str]]]:
    """The folders' entries the last registry commit wrote, if that commit is ``head`` (a commit never changes)."""
    try:
        data = marshal.loads((repo.git_dir / TREES_FILE).read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return {}
    if not isinstance(data, dict) or data.get("commit") != head or not isinstance(data.get("trees"), dict):
        return {}
    trees: dict[str, dict[str, tuple[str, str]]] = data["trees"]
    return trees


def _keep_trees(repo: Repo, commit: str, trees: dict[str, dict[str, tuple[str, str]]]) -> None:
    """Remember the trees of ``commit``'s folders this commit wrote: the next registry commit on it reads them
    from here instead of asking git (one process less per write)."""
    path = repo.git_dir / TREES_FILE
    tmp = path.with_name(f"{TREES_FILE}.{os.getpid()}.tmp")
    try:
        if trees:
            tmp.write_bytes(marshal.dumps({"commit": commit, "trees": trees}))
            os.replace(tmp, path)
        else:
            path.unlink(missing_ok=True)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()


def _batch_objects(out: bytes) -> Iterator[bytes | None]:
    """The bodies ``git cat-file --batch`` printed, in order (None for a name it reports missing)."""
    pos = 0
    while pos < len(out):
        nl = out.index(b"\n", pos)
        header = out[pos:nl].split()
        if len(header) != 3:  # "<name> missing" (or ambiguous)
            pos = nl + 1
            yield None
            continue
        size = int(header[2])
        yield out[nl + 1 : nl + 1 + size] if header[1] == b"tree" else None
        pos = nl + 1 + size + 1


def _tree_oid(
    entries: dict[str, tuple[str, str]], algo: str, folder: str = "", bodies: dict[str, bytes] | None = None
) -> str:
    """The id git gives the tree of ``entries`` (its body kept in ``bodies[folder]`` when given)."""
    from .loose import sha1_hex, tree_body

    body = tree_body(entries)
    if bodies is not None:
        bodies[folder] = body
    raw = b"tree %d\0" % len(body) + body
    if algo == "sha1":
        return sha1_hex(raw)
    import hashlib

    return hashlib.new(algo, raw).hexdigest()
