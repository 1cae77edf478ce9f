"""pathlib without ``urllib.parse`` for a CLI process (issue 10).

pathlib imports ``urllib.parse`` for one name, ``quote_from_bytes``, which only ``Path.as_uri()`` calls, and
``urllib.parse`` imports ``ipaddress``: ~4 ms of every write here (``python -c "import re, json, pathlib"``
against the same with this hook: 55 ms against 51, ``python -c pass`` 25), for a method no command calls.

``install()`` (``cli/entry._main``, past the top-level ``--help``, which imports no pathlib) puts a finder first
in ``sys.meta_path`` that acts once, on the import of pathlib, if ``urllib.parse`` is not imported yet: pathlib's
own loader runs as always, with a stand-in ``urllib.parse`` in ``sys.modules`` for the time of that import alone.
The stand-in's ``quote_from_bytes`` imports the real module when called, and any other name asked of it does the
same, so pathlib behaves as before; after the import, the stand-in is gone and pathlib's spec names its own loader
again. Nothing changes where pathlib (or ``urllib.parse``) is imported already, as in most processes that use the
Python API.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import Any

_REAL = "urllib.parse"


def _real_parse() -> Any:
    """The real ``urllib.parse`` (the stand-in leaves ``sys.modules`` first, so that the import loads it)."""
    if isinstance(sys.modules.get(_REAL), _StandIn):
        del sys.modules[_REAL]
    import urllib.parse

    return urllib.parse


class _StandIn(type(sys)):  # type: ignore[misc]  # a module
    """``urllib.parse`` while pathlib is imported: any name but a dunder is the real module's."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # the import system's questions (``__path__``: is it a package?)
            raise AttributeError(name)
        return getattr(_real_parse(), name)


def _quote_from_bytes(*args: Any, **kwargs: Any) -> Any:
    return _real_parse().quote_from_bytes(*args, **kwargs)


class _Loader:
    """pathlib's own loader, run with the stand-in in place."""

    def __init__(self, real: Any) -> None:
        self.real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def create_module(self, spec: Any) -> Any:
        return self.real.create_module(spec)

    def exec_module(self, module: Any) -> None:
        stand_in = _StandIn(_REAL)
        stand_in.quote_from_bytes = _quote_from_bytes
        sys.modules[_REAL] = stand_in
        try:
            self.real.exec_module(module)
        finally:
            if sys.modules.get(_REAL) is stand_in:
                del sys.modules[_REAL]
            module.__loader__ = self.real
            if module.__spec__ is not None:
                module.__spec__.loader = self.real


class _Finder:
    """Acts on the first import of pathlib only (it stays in ``sys.meta_path``: the import system may be walking
    that list while it asks)."""

    done = False

    @staticmethod
    def find_spec(name: str, path: Any = None, target: Any = None) -> Any:
        if name != "pathlib" or _Finder.done:
            return None
        _Finder.done = True
        if _REAL in sys.modules:
            return None
        for finder in sys.meta_path:
            if finder is _Finder:
                continue
            find = getattr(finder, "find_spec", None)
            spec = find(name, path, target) if find is not None else None
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _Loader(spec.loader)
                return spec
        return None


def install() -> None:
    """Put the finder in place, unless pathlib or ``urllib.parse`` is imported already."""
    if "pathlib" not in sys.modules and _REAL not in sys.modules and _Finder not in sys.meta_path:
        sys.meta_path.insert(0, _Finder)
