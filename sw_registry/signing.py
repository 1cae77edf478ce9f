"""Signed approvals (SPEC §6, §5 ``signers_file`` / ``require_signed``): who may sign, and what git says was signed.

Two halves. The pure half reads and edits git's SSH allowed-signers format and computes key fingerprints
(no files, no git). The git half asks git itself: which signing key the user configured (checked against
the allowed signers *before* anything is committed), and, with ``gpg.ssh.allowedSignersFile`` pointed at
the committed signers file, what ``%G?``/``%GS``/``%GK`` say about the approval commits a promotion
needs, in one ``git log``.

An approval made under a signed rule records the fingerprint of the key it was signed with
(``signing_key`` in its metadata entry). Only such approvals can count; they count while git verifies
their commit's signature against a key the signers file lists for the approver, and the commit's own
trailers name that approval (model, version, stage, approver, seq).
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
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import GitError, InvalidInput, NotAnApprover

if TYPE_CHECKING:
    from .gitops import Repo
    from .layout import Layout
    from .policy import Policy

DEFAULT_SIGNERS_FILE = ".specweave/allowed_signers"
KEY_TYPE = re.compile(
    r"^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com)$"
)
EMAIL = re.compile(r"^[^\s,\"'*?!@]+@[^\s,\"'*?!@]+$")
# git's %G? letters -> the status the registry reports
STATUS = {
    "G": "good",
    "B": "bad",
    "X": "bad",
    "Y": "bad",
    "R": "bad",
    "U": "unknown_key",
    "E": "unknown_key",
    "N": "unsigned",
}


# -- pure: keys and the allowed-signers format ------------------------------------------------------


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


# -- the user's signing configuration ------------------------------------------------------------------


@dataclass(frozen=True)
class SigningConfig:
    format: str  # gpg.format: openpgp (git's default), ssh or x509
    key: str | None  # user.signingkey as configured
    key_command: str | None = None  # gpg.ssh.defaultKeyCommand: what git asks when user.signingkey is unset


def signing_config(repo: Repo) -> SigningConfig:
    pattern = r"^(gpg\.format|user\.signingkey|gpg\.ssh\.defaultkeycommand)$"
    proc = repo.git("config", "-z", "--get-regexp", pattern, check=False)
    values: dict[str, str] = {}
    for item in proc.stdout.decode("utf-8", "replace").split("\0"):
        key, _, value = item.partition("\n")
        if key:
            values[key.lower()] = value
    return SigningConfig(
        values.get("gpg.format", "openpgp"),
        values.get("user.signingkey") or None,
        values.get("gpg.ssh.defaultkeycommand") or None,
    )


def _key_from_command(repo: Repo, command: str) -> str | None:
    """What git does without user.signingkey: the first key line gpg.ssh.defaultKeyCommand prints."""
    import subprocess

    try:
        proc = subprocess.run(
            command, shell=True, cwd=repo.root, capture_output=True, timeout=10, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        if line.split() and KEY_TYPE.match(line.split()[0]):
            return line.strip()
    return None


def configured_key(repo: Repo, cfg: SigningConfig) -> PublicKey:
    """The SSH public key git will sign with (from user.signingkey: a literal key, a .pub file or a private key)."""
    if cfg.format != "ssh":
        raise NotAnApprover(
            f"signed approvals are verified against SSH keys, and git is set to sign with {cfg.format}",
            hint="git config gpg.format ssh && git config user.signingkey ~/.ssh/id_ed25519.pub",
        )
    configured = cfg.key or (_key_from_command(repo, cfg.key_command) if cfg.key_command else None)
    if not configured:
        raise NotAnApprover(
            "no signing key is configured (git config user.signingkey is empty"
            + (", and gpg.ssh.defaultKeyCommand printed no key)" if cfg.key_command else ")"),
            hint="git config gpg.format ssh && git config user.signingkey ~/.ssh/id_ed25519.pub",
        )
    spec = configured[len("key::") :] if configured.startswith("key::") else configured
    if KEY_TYPE.match(spec.split(None, 1)[0]):
        return parse_public_key(spec, "user.signingkey")
    path = Path(os.path.expanduser(spec))
    path = path if path.is_absolute() else repo.root / path
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise NotAnApprover(
            f"the signing key {spec} (user.signingkey) cannot be read: {exc.strerror}",
            hint="point user.signingkey at your key: git config user.signingkey ~/.ssh/id_ed25519.pub",
        ) from None
    key = private_key_public_part(text)
    if key is None:
        pub = Path(str(path) + ".pub")
        if not text.lstrip().startswith(tuple(k + " " for k in ("ssh-", "ecdsa-", "sk-"))) and pub.is_file():
            text = pub.read_text(encoding="utf-8", errors="replace")
        key = parse_public_key(text, f"the signing key {spec}")
    return key


# -- checks before a signed commit -----------------------------------------------------------------------


def signers_text(repo: Repo, rel: str) -> str | None:
    """The signers file as HEAD has it (the committed list is the one that counts), or None when HEAD lacks it."""
    proc = repo.git("cat-file", "blob", f"HEAD:{repo.prefix}{rel}", check=False)
    return proc.stdout.decode("utf-8", "replace") if proc.returncode == 0 else None


def check_approver_key(repo: Repo, policy: Policy, approver: str) -> PublicKey:
    """Refuse (``not_an_approver``) unless the configured signing key is listed for ``approver`` in the signers file.

    Every refusal's hint names the key (its fingerprint) and the file."""
    rel = policy.signers_file or DEFAULT_SIGNERS_FILE
    try:
        key = configured_key(repo, signing_config(repo))
    except NotAnApprover as exc:
        raise NotAnApprover(
            exc.message,
            hint=f"{exc.hint}; the key must be one {rel} lists for {approver}",
            details={"signers_file": rel, "key": None, "approver": approver},
        ) from None
    text = signers_text(repo, rel)
    listed = keys_for(parse_signers(text or ""), approver)
    add = f"sw-registry registry-signers add {approver} PUBKEY_FILE"
    details = {"signers_file": rel, "key": key.fingerprint, "approver": approver}
    if text is None:
        raise NotAnApprover(
            f"signed approvals need the signers file {rel}, and it is not committed",
            hint=f"your signing key is {key.fingerprint}; list the approver's public key in {rel} with: {add}",
            details=details,
        )
    if not listed:
        raise NotAnApprover(
            f"{rel} lists no key for {approver}, so an approval by {approver} cannot be verified",
            hint=f"your signing key is {key.fingerprint}; if you are {approver}, list it in {rel} with: {add}",
            details=details,
        )
    if not any(key.same_key(k) for k in listed):
        raise NotAnApprover(
            f"your signing key {key.fingerprint} is not a key {rel} lists for {approver}",
            hint=f"{rel} lists {', '.join(k.fingerprint for k in listed)} for {approver}: approve as yourself, "
            f"or as {approver} with that key (git config user.signingkey)",
            details={**details, "listed": [k.fingerprint for k in listed]},
        )
    return key


def check_can_sign(repo: Repo, policy: Policy, actor: str) -> str | None:
    """``require_signed``: refuse a write (``git_error``) before it changes anything when git has no SSH key to sign
    with (with openpgp and no user.signingkey git signs with the committer's key; gpg says if it cannot).
    Returns a warning when the signers file does not list the key (registry-verify will flag the commit)."""
    cfg = signing_config(repo)
    hint = "git config gpg.format ssh && git config user.signingkey ~/.ssh/id_ed25519.pub"
    if cfg.format == "ssh" and cfg.key is None and cfg.key_command is None:
        raise GitError("registry.yaml says require_signed: true, and git has no signing key", hint=hint)
    if cfg.format != "ssh":
        return None
    try:
        key = configured_key(repo, cfg)
    except (NotAnApprover, InvalidInput) as exc:
        raise GitError(f"registry.yaml says require_signed: true, and {exc.message}", hint=hint) from None
    rel = policy.signers_file or DEFAULT_SIGNERS_FILE
    if not any(key.same_key(s.key) for s in parse_signers(signers_text(repo, rel) or "")):
        return (
            f"this commit is signed with {key.fingerprint}, a key {rel} does not list: registry-verify will "
            f"report it (add it with: sw-registry registry-signers add {actor} PUBKEY_FILE)"
        )
    return None


# -- what git says about signatures -------------------------------------------------------------------------


@dataclass(frozen=True)
class Signature:
    commit: str
    status: str  # good, bad, unknown_key, unsigned
    signer: str | None  # the principal git matched in the signers file (%GS)
    key: str | None  # the key's fingerprint (%GK)
    trailers: dict[str, str]


@contextlib.contextmanager
def allowed_signers(repo: Repo, rel: str | None) -> Iterator[str]:
    """A temporary copy of the committed signers file (empty when there is none), for gpg.ssh.allowedSignersFile."""
    text = signers_text(repo, rel) if rel else None
    fd, path = tempfile.mkstemp(prefix="sw-registry-signers-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text or "")
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


_FMT = "%x1e%H%x1f%G?%x1f%GS%x1f%GK%x1f%(trailers:only=true,unfold=true,separator=%x1d)"


def _log_signatures(repo: Repo, signers_path: str, args: Sequence[str], stdin: bytes | None = None) -> list[Signature]:
    proc = repo.git(
        "-c",
        f"gpg.ssh.allowedSignersFile={signers_path}",
        "-c",
        "log.showSignature=false",
        "log",
        f"--format={_FMT}",
        *args,
        input=stdin,
        check=False,
    )
    out = []
    for chunk in proc.stdout.decode("utf-8", "replace").split("\x1e")[1:]:
        commit, letter, signer, key, block = (chunk.strip("\n").split("\x1f") + [""] * 5)[:5]
        trailers: dict[str, str] = {}
        for item in block.split("\x1d"):
            k, sep, value = item.partition(": ")
            if sep and k.startswith("Registry-"):
                trailers.setdefault(k[len("Registry-") :].lower(), value.strip())
        out.append(Signature(commit, STATUS.get(letter, "bad"), signer or None, key or None, trailers))
    return out


def commit_signatures(repo: Repo, signers_path: str, commits: Sequence[str]) -> dict[str, Signature]:
    """The signatures of the given commits, in one ``git log --no-walk``."""
    if not commits:
        return {}
    sigs = _log_signatures(repo, signers_path, ["--no-walk=unsorted", "--stdin"], ("\n".join(commits) + "\n").encode())
    return {s.commit: s for s in sigs}


def approval_commits(repo: Repo, signers_path: str, name: str, seqs: Sequence[int]) -> dict[int, Signature]:
    """seq -> signature of the approval commits of model ``name`` with those seqs: one ``git log`` from HEAD that
    stops at the last one it needs, verifying only those."""
    if not seqs:
        return {}
    args = [
        "--extended-regexp",
        "--all-match",
        "--grep=^Registry-Event: approve$",
        "--grep=^Registry-Model: " + name.replace(".", "[.]") + "$",  # names are [a-z0-9._-] (SPEC §3)
        "--grep=^Registry-Seq: (" + "|".join(str(int(s)) for s in seqs) + ")$",
        f"-n{len(seqs)}",
        "HEAD",
    ]
    out: dict[int, Signature] = {}
    for sig in _log_signatures(repo, signers_path, args):
        seq = sig.trailers.get("seq", "")
        if seq.isdigit():
            out.setdefault(int(seq), sig)
    return out


def approval_status(entry: dict[str, Any], name: str, version: str, sig: Signature | None) -> str:
    """Whether one approval counts: ``good``, or why not (the signature's status, ``wrong_signer``, ``mismatch``,
    ``no_commit``)."""
    if sig is None:
        return "no_commit"
    if sig.status != "good":
        return sig.status
    t = sig.trailers
    if (t.get("model"), t.get("version"), t.get("to"), t.get("approver")) != (
        name,
        version,
        entry.get("stage"),
        entry.get("approver"),
    ):
        return "mismatch"  # a genuine signed approval, but of something else
    if sig.signer != entry.get("approver"):
        return "wrong_signer"
    return "good"


# -- promotion ---------------------------------------------------------------------------------------------------


def is_signed_rule(policy: Policy, rule: dict[str, Any] | None) -> bool:
    return bool(rule and rule.get("signed")) or policy.require_signed


def verified_approvals(
    repo: Repo,
    policy: Policy,
    name: str,
    version: str,
    stage: str,
    rule: dict[str, Any],
    approvals: Sequence[dict[str, Any]],
    creator: str | None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(approvals that count, the rest with why) for a promotion under a signed rule.

    Only approvals made as signed ones (``signing_key`` recorded) are candidates; the latest per approver is
    checked. The first ``min_approvals`` candidates go to git in one ``git log``; the others only if some of
    those fail.
    """
    from . import lifecycle as L

    latest: dict[str, dict[str, Any]] = {}
    for a in approvals:
        if a.get("stage") == stage and a.get("signing_key") and isinstance(a.get("seq"), int):
            latest[str(a.get("approver"))] = a
    eligible = set(L.valid_approvals(rule, latest.values(), stage, creator))
    candidates = [a for who, a in latest.items() if who in eligible]
    need = int(rule.get("min_approvals", 1))
    counted: list[dict[str, Any]] = []
    refused = [
        {"approver": a.get("approver"), "seq": a.get("seq"), "status": "unsigned"}
        for a in approvals
        if a.get("stage") == stage and not a.get("signing_key")
    ]
    with allowed_signers(repo, policy.signers_file or DEFAULT_SIGNERS_FILE) as path:
        batches = [candidates[:need], candidates[need:]]
        for batch in batches:
            if not batch or len(counted) >= need:
                continue
            sigs = approval_commits(repo, path, name, [a["seq"] for a in batch])
            for a in batch:
                sig = sigs.get(a["seq"])
                status = approval_status(a, name, version, sig)
                if status == "good":
                    counted.append(a)
                else:
                    refused.append(
                        {"approver": a.get("approver"), "seq": a["seq"], "status": status, "commit": sig and sig.commit}
                    )
    return counted, refused


def check_signed_approvals(
    repo: Repo,
    policy: Policy,
    name: str,
    version: str,
    stage: str,
    rule: dict[str, Any],
    approvals: Sequence[dict[str, Any]],
    meta: dict[str, Any],
) -> None:
    """``approval_required`` unless enough approvals verify; the error says which ones did not, and why."""
    from . import lifecycle as L
    from .errors import ApprovalRequired

    counted, refused = verified_approvals(repo, policy, name, version, stage, rule, approvals, meta.get("created_by"))
    try:
        L.check_approvals(rule, counted, stage, meta.get("created_by"), f"{name}@{version}")
    except ApprovalRequired as exc:
        details = dict(exc.details or {})
        details["unverified"] = refused
        hint = exc.hint or ""
        if refused:
            why = ", ".join(f"{r['approver']} ({r['status']})" for r in refused)
            hint = f"approvals that do not verify against {policy.signers_file}: {why}; " + hint
        raise ApprovalRequired(exc.message + " (signed approvals only)", hint=hint, details=details) from None


# -- verify and audit ------------------------------------------------------------------------------------------------


def approval_problems(repo: Repo, policy: Policy, metadata: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """registry-verify's ``unsigned_approval``: each approval recorded as signed whose commit no longer verifies.

    ``metadata`` maps a metadata.json path to its parsed content.
    """
    claimed = [
        (rel, meta, a)
        for rel, meta in metadata.items()
        for a in meta.get("approvals") or []
        if isinstance(a, dict) and a.get("signing_key")
    ]
    if not claimed:
        return []
    by_model: dict[str, list[int]] = {}
    for _rel, meta, a in claimed:
        if isinstance(a.get("seq"), int):
            by_model.setdefault(meta["name"], []).append(a["seq"])
    problems = []
    with allowed_signers(repo, policy.signers_file or DEFAULT_SIGNERS_FILE) as path:
        sigs = {n: approval_commits(repo, path, n, seqs) for n, seqs in by_model.items()}
    for rel, meta, a in claimed:
        seq = a.get("seq")
        sig = sigs.get(meta["name"], {}).get(seq) if isinstance(seq, int) else None
        status = approval_status(a, meta["name"], meta["version"], sig)
        if status == "good":
            continue
        ref = f"{meta['name']}@{meta['version']}"
        problems.append(
            {
                "code": "unsigned_approval",
                "path": rel,
                "commit": sig.commit if sig else None,
                "status": status,
                "approver": a.get("approver"),
                "message": f"the approval of {ref} for {a.get('stage')} by {a.get('approver')} no longer verifies "
                f"({status}" + (f", commit {sig.commit[:12]}" if sig else "") + ")",
            }
        )
    return problems


def signers_file_problems(repo: Repo, policy: Policy) -> list[dict[str, Any]]:
    """Commits that changed the signers file without Registry-* trailers: who may sign was changed outside the tool."""
    rel = policy.signers_file
    if not rel:
        return []
    fmt = "%H%x1f%ae%x1f%(trailers:key=Registry-Event,valueonly,separator=%x2C)"
    proc = repo.git("log", f"--format={fmt}", "--", f"{repo.prefix}{rel}", check=False)
    problems = []
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        commit, author, event = [*line.split("\x1f"), "", ""][:3]
        if commit and not event.strip():
            problems.append(
                {
                    "code": "unaudited_commit",
                    "path": rel,
                    "commit": commit,
                    "message": f"commit {commit[:12]} by {author} changed the signers file {rel} without Registry-* "
                    "trailers (use sw-registry registry-signers)",
                }
            )
    return problems


def unsigned_commit_problems(repo: Repo, policy: Policy) -> list[dict[str, Any]]:
    """``require_signed``: registry commits made since it was turned on whose signature does not verify."""
    rel = f"{repo.prefix}.specweave/registry.yaml"
    since = repo.git("log", "-1", "--format=%H", "-G^require_signed:", "--", rel, check=False).stdout.decode().strip()
    args = [f"{since}..HEAD" if since else "HEAD", "--grep=^Registry-Event: ", "--", f"{repo.prefix}.specweave"]
    problems = []
    with allowed_signers(repo, policy.signers_file or DEFAULT_SIGNERS_FILE) as path:
        for sig in _log_signatures(repo, path, args):
            if not sig.trailers.get("event") or sig.status == "good":
                continue
            problems.append(
                {
                    "code": "unsigned_commit",
                    "path": None,
                    "commit": sig.commit,
                    "status": sig.status,
                    "message": f"registry commit {sig.commit[:12]} ({sig.trailers.get('event')}) is not signed by a "
                    f"listed key ({sig.status}) although registry.yaml says require_signed: true",
                }
            )
    return problems


def audit_signatures(repo: Repo, policy: Policy, approvals: list[dict[str, Any]]) -> None:
    """Add ``signer``, ``key`` and ``signature`` (good, bad, unknown_key, unsigned, wrong_signer) to audit approvals."""
    commits = [a["commit"] for a in approvals if a.get("commit")]
    if not commits:
        return
    with allowed_signers(repo, policy.signers_file) as path:
        sigs = commit_signatures(repo, path, commits)
    for a in approvals:
        sig = sigs.get(a.get("commit") or "")
        status = sig.status if sig else "unsigned"
        if sig and status == "good" and sig.signer != a.get("approver"):
            status = "wrong_signer"
        a["signer"] = sig.signer if sig else None
        a["key"] = sig.key if sig else None
        a["signature"] = status
