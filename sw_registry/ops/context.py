"""The one explicit input of every operation: a frozen ``Context`` (where, who, when, and the write options).

An operation in ``sw_registry/ops/`` is a plain function ``op(ctx, ...)``. It reads through ``ctx.index()`` and
``ctx.source()``, writes inside ``ctx.write()`` (the transaction factory: lock, journal, one commit), and takes the
time from ``ctx.now()``. Nothing is kept between calls on a shared object: results (and their warnings) are
returned. ``ModelRegistry`` builds a Context from its options for each call (``ModelRegistry.ctx``).
"""

from __future__ import annotations

import os
from collections.abc import Callable

from ..errors import InvalidInput
from ..plain import Plain

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from contextlib import AbstractContextManager
    from datetime import datetime
    from pathlib import Path

    from ..layout import Layout
    from ..store.index import Index, Source
    from ..transaction import Transaction

Clock = Callable[[], "datetime"]


def utc_now() -> datetime:
    from datetime import datetime, timezone  # imported on first use: a read needs no clock

    return datetime.now(timezone.utc)


def iso(dt: datetime) -> str:
    from datetime import timezone

    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def open_root(
    root: str | os.PathLike[str] | None, environment: str | None, push: bool
) -> tuple[Path, bool]:
    """The project root (SPEC §2 discovery), or that of an environment's registry (SPEC §11), and whether
    writes push (a git URL's clone always does)."""
    if environment is not None:
        from ..environments import open_environment

        root, pushes_writes = open_environment(root, environment)
        push = push or pushes_writes
    from ..layout import find_root

    return find_root(root), push


class Context(Plain):
    """Everything an operation may depend on, given explicitly.

    ``source``/``load_index``: the read side (the work tree, or the commit ``rev`` names); None reads the work
    tree (or ``rev``) afresh. ``increment``: where new versions go unless the call names one. ``push``: publish
    each write's commit (applied by the facade's ``@pushes``). ``storage_uri``: the object store new artifacts
    go to when registry.yaml sets none (CustomRegistry). Treated as frozen: ``replace()`` makes a changed copy.
    """

    __slots__ = (  # noqa: RUF023 (field order)
        "layout", "actor", "rev", "increment", "allow_detached", "push", "clock", "storage_uri", "source_of",
        "load_index",
    )

    def __init__(
        self, layout: Layout, actor: str | None = None, rev: str | None = None, increment: str | None = None,
        allow_detached: bool = False, push: bool = False, clock: Clock = utc_now, storage_uri: str | None = None,
        source_of: Callable[[], Source] | None = None, load_index: Callable[[], Index] | None = None,
    ) -> None:
        self.layout = layout
        self.actor = actor
        self.rev = rev
        self.increment = increment
        self.allow_detached = allow_detached
        self.push = push
        self.clock = clock
        self.storage_uri = storage_uri
        self.source_of = source_of
        self.load_index = load_index

    def replace(self, **changes: object) -> Context:
        """A copy with ``changes`` (what ``dataclasses.replace`` did when this was a frozen dataclass)."""
        return Context(**{**{name: getattr(self, name) for name in self.__slots__}, **changes})  # type: ignore[arg-type]

    @property
    def root(self) -> Path:
        return self.layout.root

    def source(self) -> Source:
        if self.source_of is not None:
            return self.source_of()
        from ..store.index import GitRevSource, WorkTreeSource

        if self.rev:
            from ..gitops import open_repo

            return GitRevSource(self.layout, open_repo(self.root), self.rev)
        return WorkTreeSource(self.layout)

    def index(self) -> Index:
        if self.load_index is not None:
            return self.load_index()
        from ..store.index import load_index

        return load_index(self.source())

    def now(self) -> str:
        if self.clock is utc_now:  # the default clock: the same string without importing datetime (issue 10)
            import time

            return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        return iso(self.clock())

    def write(self, *, allow_dirty: bool = False, adopt: tuple[str, ...] = ()) -> AbstractContextManager[Transaction]:
        """The transaction factory: the write lock, the journal, and at most one commit (transaction.py)."""
        if self.rev:
            raise InvalidInput(
                "--rev is for reading; a write always lands on the checked-out branch", hint="drop --rev"
            )
        from ..transaction import transaction

        return transaction(
            self.layout, actor=self.actor, allow_detached=self.allow_detached, allow_dirty=allow_dirty, adopt=adopt
        )
