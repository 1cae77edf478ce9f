"""Model names and semantic versions (SPEC §3).

Versions are parsed here: plain ``MAJOR[.MINOR[.PATCH]]`` and the pre-release spellings of ``_SEMVER_PRE``
directly (every CLI write parses versions, and importing packaging.version costs about a tenth of a write,
issue 10); any other form goes to packaging.version, which either accepts it with PEP 440's normalisation (e.g.
``1.0.0_rc1``) or explains why not. tests/unit/test_versions.py checks that both agree on generated versions.
"""

from __future__ import annotations

import re

from .errors import InvalidName, InvalidVersion

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import Any

    from packaging.version import Version

# a name is [a-z0-9][a-z0-9._-]{0,99}, checked without a regex: compiling one cost more than the whole check, in
# every write (issue 10)
_NAME_FIRST = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_NAME_CHARS = _NAME_FIRST | frozenset("._-")
# 3.2.0-rc.1 / 3.2.0.rc1 / 3.2.0rc1 -> 3.2.0rc1 (SemVer pre-release spelling accepted); compiled (re.match's
# cache) only for a version that is not plain MAJOR[.MINOR[.PATCH]]
_SEMVER_PRE = r"^(\d+(?:\.\d+){0,2})[-.]?(a|b|rc|alpha|beta|c|pre|preview)[-.]?(\d*)$"
_PRE_NAMES = {"a": "a", "alpha": "a", "b": "b", "beta": "b", "c": "rc", "rc": "rc", "pre": "rc", "preview": "rc"}
BUMPS = ("major", "minor", "patch")

SortKey = tuple["Any", ...]
Parts = tuple[tuple[int, int, int], "tuple[str, int] | None"]  # (release, pre-release or None)


def validate_name(name: str, what: str = "model") -> str:
    """SPEC §3's name rule (also the path-traversal guard), for model names and other names stored as folders."""
    if not (
        isinstance(name, str) and 0 < len(name) <= 100 and name[0] in _NAME_FIRST and _NAME_CHARS.issuperset(name)
    ) or ".." in name:
        raise InvalidName(
            f"invalid {what} name {name!r}",
            hint="use lower-case letters, digits, '.', '_' and '-', starting with a letter or digit "
            "(at most 100 characters, no '..')",
        )
    return name


def _body(text: str) -> str:
    """The version without its one optional leading v; refused unless it starts with an ASCII digit."""
    raw = str(text).strip()
    body = raw[1:] if raw[:1] in ("v", "V") else raw
    # 'vv1.0.0', '', digits of other scripts ('٤٢'), and numbers too long to be a version
    if not body.isascii() or not body[:1].isdigit() or len(body) > 64:
        raise InvalidVersion(
            f"invalid version {text!r}",
            hint="use MAJOR.MINOR.PATCH with ASCII digits, e.g. v3.1.0 (one optional leading v)",
        )
    return body


def _release(text: str) -> tuple[int, int, int]:
    major, minor, patch = (*(int(n) for n in text.split(".")), 0, 0, 0)[:3]
    return major, minor, patch


def parts(text: str) -> Parts:
    """A user-written version restricted to SPEC §3, as (release triple, pre-release): the common forms parsed
    here, the rest by packaging.version (``_packaging_parts``)."""
    body = _body(text)
    numbers = body.split(".")
    if len(numbers) <= 3 and all(n.isdigit() for n in numbers):  # plain: ASCII digits (_body), 1 to 3 numbers
        return _release(body), None
    m = re.match(_SEMVER_PRE, body, re.I)
    if m:
        return _release(m.group(1)), (_PRE_NAMES[m.group(2).lower()], int(m.group(3) or 0))
    return _packaging_parts(text, body)


def _packaging_parts(text: str, body: str) -> Parts:
    v = _packaging(text, body)
    major, minor, patch = (*v.release, 0, 0, 0)[:3]
    return (major, minor, patch), (None if v.pre is None else (v.pre[0], v.pre[1]))


def _packaging(text: str, body: str) -> Version:
    """``body`` as a packaging Version, refused unless SPEC §3 allows it."""
    from packaging.version import InvalidVersion as PackagingInvalid
    from packaging.version import Version

    m = re.match(_SEMVER_PRE, body, re.I)
    if m:
        body = f"{m.group(1)}{m.group(2)}{m.group(3) or '0'}"
    try:
        v = Version(body)
    except (PackagingInvalid, ValueError):
        raise InvalidVersion(
            f"invalid version {text!r}",
            hint="use MAJOR.MINOR.PATCH, e.g. v3.1.0 (pre-releases like 3.2.0rc1 are allowed)",
        ) from None
    if v.epoch or v.post is not None or v.dev is not None or v.local is not None or len(v.release) > 3:
        raise InvalidVersion(
            f"invalid version {text!r}: epochs, post, dev and local versions are not allowed",
            hint="use MAJOR.MINOR.PATCH, optionally with a pre-release such as rc1",
        )
    return v


def parse(text: str) -> Version:
    """Parse a user-written version into a packaging Version restricted to SPEC §3 (imports packaging; the
    functions below use ``parts``)."""
    return _packaging(text, _body(text))


def _render(p: Parts) -> str:
    (major, minor, patch), pre = p
    return f"{major}.{minor}.{patch}" if pre is None else f"{major}.{minor}.{patch}{pre[0]}{pre[1]}"


def canonical(text: str) -> str:
    """'v3' -> '3.0.0', '3.2.0-rc.1' -> '3.2.0rc1'."""
    return _render(parts(text))


def _key(p: Parts) -> SortKey:
    release, pre = p
    return (*release, 1, "", 0) if pre is None else (*release, 0, pre[0], pre[1])


def sort_key(version: str) -> SortKey:
    """An order-preserving key of a canonical version (cheap to store in caches)."""
    return _key(parts(version))


def is_prerelease(version: str) -> bool:
    return parts(version)[1] is not None


def bump(existing: list[str], kind: str) -> str:
    """Next version from the highest final release of ``existing`` (SPEC §3)."""
    if kind not in BUMPS:
        from .errors import UsageError

        raise UsageError(f"unknown bump {kind!r}", hint="use --bump major, minor, patch or auto")
    parsed = [parts(v) for v in existing]
    finals = [release for release, pre in parsed if pre is None]
    if not finals:
        nxt = (1, 0, 0)
    else:
        major, minor, patch = max(finals)
        if kind == "major":
            nxt = (major + 1, 0, 0)
        elif kind == "minor":
            nxt = (major, minor + 1, 0)
        else:
            nxt = (major, minor, patch + 1)
    # with only pre-releases so far (2.0.0rc1), the first final release finalises the highest: 2.0.0, not 1.0.0
    pres = [p for p in parsed if p[1] is not None]
    if not finals and pres and _key((nxt, None)) < max(_key(p) for p in pres):
        nxt = max(pres, key=_key)[0]
    return _render((nxt, None))


def highest(versions: list[str]) -> str | None:
    return max(versions, key=sort_key) if versions else None


def parse_ref(ref: str) -> tuple[str, str]:
    """'NAME@VERSION' -> (name, canonical version)."""
    if "@" not in ref:
        raise InvalidVersion(f"invalid model reference {ref!r}", hint="write NAME@VERSION, e.g. fraud-model@3.1.0")
    name, _, ver = ref.rpartition("@")
    return validate_name(name), canonical(ver)


def signature_change(old: dict[str, Any] | None, new: dict[str, Any] | None) -> str:
    """The bump a signature change calls for: inputs removed or retyped, or outputs changed -> major;
    inputs added -> minor; same -> patch."""
    old_in, new_in = dict((old or {}).get("inputs") or {}), dict((new or {}).get("inputs") or {})
    old_out, new_out = dict((old or {}).get("outputs") or {}), dict((new or {}).get("outputs") or {})
    if any(k not in new_in or new_in[k] != t for k, t in old_in.items()) or old_out != new_out:
        return "major"
    if set(new_in) - set(old_in):
        return "minor"
    return "patch"


def choose(existing: list[str], explicit: str | None, bump_kind: str | None, change: str) -> str:
    """The version to register: explicit, or a bump (``auto`` follows the signature change)."""
    if explicit is not None:
        return explicit
    if not existing:
        return "1.0.0"
    kind = change if bump_kind in (None, "auto") else bump_kind
    return bump(existing, kind)


def breaks(existing: list[str], explicit: str, change: str) -> str | None:
    """The version an explicit ``explicit`` should have been, when it hides a breaking change."""
    finals = [release for release, pre in map(parts, existing) if pre is None]
    if change != "major" or not finals:
        return None
    top = max(finals)[0]
    return None if parts(explicit)[0][0] > top else bump(existing, "major")
