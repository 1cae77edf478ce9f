"""registry-signers add EMAIL PUBKEY_FILE | remove EMAIL | list (SPEC §7.15): who may sign approvals."""

from __future__ import annotations

from ..output import emit
from ..render import esc, outcome, short
from .common import WriteOptions, writes

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
# Typer and the option aliases are only annotations here, imported for readers and mypy: the fast path
# (fastpath.py) calls the function without importing Typer, and app.resolved() evaluates the annotations in
# this module's globals plus options.ANNOTATIONS, which holds these same names (a test checks it).
if TYPE_CHECKING:
    from typing import Annotated, Any

    import typer


USAGE = "registry-signers add EMAIL PUBKEY_FILE | remove EMAIL | list"


@writes
def signers(
    action: Annotated[str, typer.Argument(help="add, remove or list.")],
    email: Annotated[str | None, typer.Argument(help="The signer's email (add, remove).")] = None,
    pubkey_file: Annotated[
        str | None, typer.Argument(help="Their SSH public key file, e.g. id_ed25519.pub (add).")
    ] = None,
    *,
    w: WriteOptions,
) -> None:
    """Maintain the allowed-signers file of signed approvals: one commit (event policy) per change."""
    from ...errors import UsageError

    wanted = {"add": 2, "remove": 1, "list": 0}
    given = [a for a in (email, pubkey_file) if a is not None]
    if action not in wanted or len(given) != wanted[action]:
        raise UsageError(f"usage: sw-registry {USAGE}", hint="e.g. registry-signers add bob@example.com bob.pub")
    from ... import signers as S

    reg = w.registry()
    if action == "list":
        data = S.list_signers(reg)

        def render_list(out: Any) -> None:
            if not data["signers"]:
                out.print(
                    f"{esc(data['signers_file'])} lists no signers; add one with: sw-registry {USAGE.split(' |')[0]}"
                )
                return
            out.print(f"Signers in {esc(data['signers_file'])}:")
            for s in data["signers"]:
                comment = f"  ({esc(s['comment'])})" if s["comment"] else ""
                out.print(f"  {esc(', '.join(s['principals']))}  {s['key_type']} {s['fingerprint']}{comment}")

        emit(w.json, data, render_list)
        return
    assert email is not None
    r = S.add_signer(reg, email, pubkey_file or "") if action == "add" else S.remove_signer(reg, email)

    what = "already lists that key for" if action == "add" else "lists no key for"
    done = "added" if action == "add" else "removed"
    emit(w.json, r.to_dict(), lambda out: outcome(
        out, r.changed, f"the signers file {what} {esc(email)}", f"{done} signer {esc(email)}, commit {short(r.commit)}"
    ))
