"""requirements.txt for a version (SPEC §7.1): the given file, else the running environment's packages that a
pickled artifact needs, else a comment saying none could be determined."""

from __future__ import annotations

from pathlib import Path

MAX_SCAN = 64 * 1024 * 1024  # bigger pickles are mostly array data; scanning them costs more than it tells
STDLIB_ROOTS = {
    "builtins",
    "copyreg",
    "collections",
    "datetime",
    "decimal",
    "fractions",
    "functools",
    "pathlib",
    "re",
    "_codecs",
    "__builtin__",
    "numbers",
    "array",
    "uuid",
    "enum",
    "types",
    "operator",
}


def pickle_modules(path: Path) -> set[str]:
    """Top-level modules a pickle file imports when loaded (read with pickletools; nothing is unpickled)."""
    try:
        if not path.is_file() or path.stat().st_size > MAX_SCAN:
            return set()
        return _scan(path)
    except OSError:  # unreadable: no requirements to report (the copy will say what is wrong)
        return set()


def _scan(path: Path) -> set[str]:
    with open(path, "rb") as fh:
        if fh.read(1) != b"\x80":  # not a protocol 2+ pickle (pickletools is not imported)
            return set()
        fh.seek(0)
        import pickletools

        modules: set[str] = set()
        recent: list[str] = []
        try:
            for op, arg, _pos in pickletools.genops(fh):
                if op.name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE", "BINUNICODE8") and isinstance(arg, str):
                    recent = [*recent[-1:], arg]
                elif op.name == "GLOBAL" and isinstance(arg, str):
                    modules.add(arg.split(" ", 1)[0])
                elif op.name == "STACK_GLOBAL" and len(recent) == 2:
                    modules.add(recent[0])
        except Exception:  # not a pickle after all, or a truncated one: no requirements to report
            return set()
    return {m.split(".", 1)[0] for m in modules}


def detect(path: Path) -> str | None:
    """``name==version`` lines of the installed distributions a pickled artifact needs, or None."""
    import sys

    roots = {m for m in pickle_modules(path) if m not in STDLIB_ROOTS and m not in sys.stdlib_module_names}
    if not roots:
        return None
    import importlib.metadata as md  # ~30 ms of imports (email, zipfile, csv): only when there is a root to look up

    owners = md.packages_distributions()
    lines = set()
    for root in roots:
        for dist in owners.get(root, []):
            try:
                lines.add(f"{dist}=={md.version(dist)}")
            except md.PackageNotFoundError:
                continue
    if not lines:
        return None
    header = "# detected by sw-registry from the modules the pickled artifact imports (installed versions)\n"
    return header + "\n".join(sorted(lines, key=str.lower)) + "\n"
