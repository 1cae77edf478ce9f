"""``Plain``: the base of the internal value classes (Layout's Increment, ops' Context, the CLI's options, ...).

Every CLI process imports these classes, and ``dataclasses`` costs a fifth of a write there: its import pulls in
``inspect`` (ast, dis, tokenize, linecache), and building each class execs generated methods (issue 10). A
subclass lists its fields in ``__slots__`` and writes its ``__init__``; this base gives value equality, a hash
(for the classes whose fields are hashable) and a readable repr over those slots. The public return types of
the Python API (model.py, results.py) stay dataclasses (SPEC §8).
"""

from __future__ import annotations


class Plain:
    """Equality, hash and repr over ``__slots__`` (the subclass's fields, in order)."""

    __slots__: tuple[str, ...] = ()

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._values() == other._values()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({fields})"
