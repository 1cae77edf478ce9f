"""The pure half of signed approvals: SSH public keys, their fingerprints, and git's allowed-signers format.

No files and no git here: parsing and editing the text of an allowed-signers file, reading the public half of an
OpenSSH private key, and checking the emails and paths the policy stores.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fnmatch
import hashlib
import os
import re
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InvalidInput

if TYPE_CHECKING:
    from ..layout import Layout

DEFAULT_SIGNERS_FILE = ".specweave/allowed_signers"
KEY_TYPE = re.compile(
    r"^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com)$"
)
EMAIL = re.compile(r"^[^\s,\"'*?!@]+@[^\s,\"'*?!@]+$")


@dataclass(frozen=True)
class PublicKey:
    type: str
    blob: str  # base64, as in a .pub file
    comment: str = ""

    @property
    def fingerprint(self) -> str:
        """``SHA256:…``, as ``ssh-keygen -l`` and git's ``%GK`` print it."""
        return fingerprint(self.blob)

    def same_key(self, other: PublicKey) -> bool:
        return self.type == other.type and self.blob == other.blob


@dataclass(frozen=True)
class Signer:
    """One line of an allowed-signers file: ``principals [options] keytype base64 [comment]``."""

    principals: tuple[str, ...]
    options: str
    key: PublicKey

    def matches(self, email: str) -> bool:
        """Whether ``email`` is one of the principals (ssh's patterns: ``*``, ``?``, ``!`` negation)."""
        hit = False
        for pattern in self.principals:
            negated = pattern.startswith("!")
            if fnmatch.fnmatchcase(email, pattern[1:] if negated else pattern):
                if negated:
                    return False
                hit = True
        return hit

    def line(self) -> str:
        parts = [",".join(self.principals), *([self.options] if self.options else []), self.key.type, self.key.blob]
        if self.key.comment:
            parts.append(self.key.comment)
        return " ".join(parts)


def fingerprint(blob: str) -> str:
    digest = hashlib.sha256(base64.b64decode(blob)).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def _blob_type(raw: bytes) -> str | None:
    """The key type written inside a public key blob (its first SSH string)."""
    if len(raw) < 4:
        return None
    (n,) = struct.unpack(">I", raw[:4])
    return raw[4 : 4 + n].decode("ascii", "replace") if 4 + n <= len(raw) else None


def parse_public_key(text: str, where: str = "the key") -> PublicKey:
    """An OpenSSH public key line (``ssh-ed25519 AAAA… comment``), checked: type known, base64 valid, types agree."""
    fields = text.strip().split(None, 2)
    if len(fields) < 2 or not KEY_TYPE.match(fields[0]):
        raise InvalidInput(
            f"{where} is not an SSH public key",
            hint="pass a .pub file, e.g. ~/.ssh/id_ed25519.pub (create one with: ssh-keygen -t ed25519)",
        )
    try:
        raw = base64.b64decode(fields[1], validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(
            f"{where}: the key is not valid base64", hint="pass the .pub file ssh-keygen wrote"
        ) from None
    if _blob_type(raw) != fields[0]:
        raise InvalidInput(
            f"{where}: the key data is not a {fields[0]} key", hint="pass the .pub file ssh-keygen wrote"
        )
    return PublicKey(fields[0], fields[1], fields[2].strip() if len(fields) > 2 else "")


def parse_signers(text: str) -> list[Signer]:
    """The entries of an allowed-signers file; comments, blank and unreadable lines are skipped (as ssh does)."""
    out = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        principals, _, rest = _take_field(line)
        tokens = rest.split()
        for i, token in enumerate(tokens):
            if KEY_TYPE.match(token) and i + 1 < len(tokens):
                options = rest.split(token, 1)[0].strip()
                comment = " ".join(tokens[i + 2 :])
                with contextlib.suppress(InvalidInput):
                    key = parse_public_key(f"{token} {tokens[i + 1]} {comment}")
                    names = tuple(p for p in principals.strip('"').split(",") if p)
                    out.append(Signer(names, options, key))
                break
    return out


def _take_field(line: str) -> tuple[str, str, str]:
    if line.startswith('"'):
        end = line.find('"', 1)
        if end > 0:
            return line[: end + 1], " ", line[end + 1 :].strip()
    return line.partition(" ")


def keys_for(signers: Iterable[Signer], email: str) -> list[PublicKey]:
    return [s.key for s in signers if s.matches(email)]


def check_email(email: str) -> str:
    if not EMAIL.match(email or ""):
        raise InvalidInput(
            f"{email!r} is not an email a signers file can list",
            hint="pass a plain address such as bob@example.com (no spaces, commas, quotes or patterns)",
        )
    return email


def add_signer(text: str, email: str, key: PublicKey) -> str | None:
    """The file with ``email key`` added, or None when that email already has that key."""
    check_email(email)
    if any(key.same_key(k) for k in keys_for(parse_signers(text), email)):
        return None
    line = Signer((email,), "", key).line()
    return (text if not text or text.endswith("\n") else text + "\n") + line + "\n"


def remove_signer(text: str, email: str) -> tuple[str, int]:
    """The file without ``email``: dropped from each line's principals, a line left with none goes.

    Returns the new text and how many keys ``email`` lost."""
    check_email(email)
    out, removed = [], 0
    for raw in text.splitlines():
        parsed = parse_signers(raw)
        if not parsed or email not in parsed[0].principals:
            out.append(raw)
            continue
        removed += 1
        rest = tuple(p for p in parsed[0].principals if p != email)
        if rest:
            out.append(Signer(rest, parsed[0].options, parsed[0].key).line())
    return ("\n".join(out) + "\n" if out else ""), removed


def private_key_public_part(text: str) -> PublicKey | None:
    """The public key inside an OpenSSH private key file (stored unencrypted in its header, even for a
    passphrase-protected key), or None when the text is not one."""
    m = re.search(r"-----BEGIN OPENSSH PRIVATE KEY-----(.*?)-----END OPENSSH PRIVATE KEY-----", text, re.S)
    if not m:
        return None
    try:
        raw = base64.b64decode("".join(m.group(1).split()))
        magic = b"openssh-key-v1\0"
        if not raw.startswith(magic):
            return None
        pos = len(magic)
        for _ in range(3):  # cipher name, kdf name, kdf options
            (n,) = struct.unpack(">I", raw[pos : pos + 4])
            pos += 4 + n
        pos += 4  # number of keys
        (n,) = struct.unpack(">I", raw[pos : pos + 4])
        blob = raw[pos + 4 : pos + 4 + n]
    except (binascii.Error, struct.error, ValueError):
        return None
    kind = _blob_type(blob)
    return PublicKey(kind, base64.b64encode(blob).decode()) if kind and KEY_TYPE.match(kind) else None


def project_path(layout: Layout, path: str | os.PathLike[str]) -> str:
    """A signers-file path as registry.yaml stores it: relative to the project root, inside it.

    A relative path is taken from the project root; an absolute one must lie inside the project."""
    p = Path(path)
    full = p if p.is_absolute() else layout.root / p
    try:
        rel = Path(os.path.normpath(full)).relative_to(os.path.normpath(layout.root))
    except ValueError:
        raise InvalidInput(
            f"the signers file {str(path)!r} is outside the project",
            hint="keep it in the repository, e.g. .specweave/allowed_signers, so it is committed and reviewed",
        ) from None
    if not rel.parts or rel.parts[0] == ".git":
        raise InvalidInput(f"{str(path)!r} cannot be the signers file", hint="e.g. .specweave/allowed_signers")
    return rel.as_posix()
