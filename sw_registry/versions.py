"""Model names and semantic versions (SPEC §3). The only user of packaging.version."""

from __future__ import annotations

import re
from typing import Any

from packaging.version import InvalidVersion as _PkgInvalid
from packaging.version import Version

from .errors import InvalidName, InvalidVersion

NAME_RE = re.compile(r"[a-z0-9][a-z0-9._-]{0,99}")  # used with fullmatch: '$' would accept a trailing newline
# 3.2.0-rc.1 / 3.2.0.rc1 / 3.2.0rc1 -> 3.2.0rc1 (SemVer pre-release spelling accepted)
_SEMVER_PRE = re.compile(r"^(\d+(?:\.\d+){0,2})[-.]?(a|b|rc|alpha|beta|c|pre|preview)[-.]?(\d*)$", re.I)
BUMPS = ("major", "minor", "patch")

SortKey = tuple[Any, ...]


def validate_name(name: str, what: str = "model") -> str:
    """SPEC §3's name rule (also the path-traversal guard), for model names and other names stored as folders."""
    if not isinstance(name, str) or not NAME_RE.fullmatch(name) or ".." in name:
        raise InvalidName(
            f"invalid {what} name {name!r}",
            hint="use lower-case letters, digits, '.', '_' and '-', starting with a letter or digit "
            "(at most 100 characters, no '..')",
        )
    return name


def parse(text: str) -> Version:
    """Parse a user-written version into a packaging Version restricted to SPEC §3."""
    raw = str(text).strip()
    body = raw[1:] if raw[:1] in ("v", "V") else raw
    # 'vv1.0.0', '', digits of other scripts ('٤٢'), and numbers too long to be a version
    if not body.isascii() or not body[:1].isdigit() or len(body) > 64:
        raise InvalidVersion(
            f"invalid version {text!r}",
            hint="use MAJOR.MINOR.PATCH with ASCII digits, e.g. v3.1.0 (one optional leading v)",
        )
    m = _SEMVER_PRE.match(body)
    if m:
        body = f"{m.group(1)}{m.group(2)}{m.group(3) or '0'}"
    try:
        v = Version(body)
    except (_PkgInvalid, ValueError):
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


def canonical(text: str) -> str:
    """'v3' -> '3.0.0', '3.2.0-rc.1' -> '3.2.0rc1'."""
    return _render(parse(text))


def _triple(v: Version) -> tuple[int, int, int]:
    major, minor, patch = (*v.release, 0, 0, 0)[:3]
    return major, minor, patch


def _render(v: Version) -> str:
    major, minor, patch = _triple(v)
    out = f"{major}.{minor}.{patch}"
    if v.pre is not None:
        out += f"{v.pre[0]}{v.pre[1]}"
    return out


def sort_key(version: str) -> SortKey:
    """An order-preserving key of a canonical version (cheap to store in caches)."""
    v = parse(version)
    release = _triple(v)
    if v.pre is None:
        return (*release, 1, "", 0)
    return (*release, 0, v.pre[0], v.pre[1])


def is_prerelease(version: str) -> bool:
    return parse(version).pre is not None


def bump(existing: list[str], kind: str) -> str:
    """Next version from the highest final release of ``existing`` (SPEC §3)."""
    if kind not in BUMPS:
        from .errors import UsageError

        raise UsageError(f"unknown bump {kind!r}", hint="use --bump major, minor, patch or auto")
    parsed = [parse(v) for v in existing]
    finals = [v for v in parsed if v.pre is None]
    if not finals:
        nxt = "1.0.0"
    else:
        major, minor, patch = _triple(max(finals))
        if kind == "major":
            nxt = f"{major + 1}.0.0"
        elif kind == "minor":
            nxt = f"{major}.{minor + 1}.0"
        else:
            nxt = f"{major}.{minor}.{patch + 1}"
    # with only pre-releases so far (2.0.0rc1), the first final release finalises the highest: 2.0.0, not 1.0.0
    pres = [v for v in parsed if v.pre is not None]
    if not finals and pres and Version(nxt) < max(pres):
        return "{}.{}.{}".format(*_triple(max(pres)))
    return nxt


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
    finals = [parse(v) for v in existing if parse(v).pre is None]
    if change != "major" or not finals:
        return None
    top = max(finals).release[0]
    return None if parse(explicit).release[0] > top else bump(existing, "major")
