# ruff: noqa: E501  (SPEC §9 table kept verbatim below)
"""The error vocabulary matches SPEC §9's exit code table exactly."""

from __future__ import annotations

import re

import pytest

from sw_registry import errors
from sw_registry.errors import EXIT_CODES, RegistryError

# SPEC §9, copied verbatim: the contract scripts rely on
SPEC_TABLE = """
| 0 | – | done (also: nothing to do) |
| 1 | `invalid_transition`, `approval_required`, `not_an_approver`, `breaking_change`, `deprecated`, `stale_docs`, `threshold_breached` | refused by a lifecycle rule or policy |
| 2 | `usage`, `invalid_name`, `invalid_version`, `invalid_input`, `config_error` | the request itself is wrong |
| 3 | `not_found` | no such model, version, increment or stage holder |
| 4 | `integrity`, `dirty_registry` | stored data is damaged or unexpected |
| 5 | `already_exists`, `locked`, `conflict` | clashes with existing or concurrent state |
| 6 | `git_error`, `not_a_git_repo` | the git environment refused |
| 7 | `store_error` | the artifact store, an MLflow server or another registry could not be reached or refused (the message names the URL without credentials) |
| 70 | `internal` | a bug: message plus where the debug log went |
"""


def spec_codes() -> dict[str, int]:
    table: dict[str, int] = {}
    for line in SPEC_TABLE.strip().splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        for code in re.findall(r"`([a-z_]+)`", cells[1]):
            table[code] = int(cells[0])
    return table


def test_exit_code_table_equals_spec() -> None:
    assert spec_codes() == EXIT_CODES


@pytest.mark.parametrize(("code", "exit_code"), sorted(spec_codes().items()))
def test_every_code_has_its_exit_code(code: str, exit_code: int) -> None:
    err = RegistryError("boom", code=code, hint="do this")
    assert err.exit_code == exit_code
    assert err.to_dict() == {"code": code, "message": "boom", "hint": "do this"}


def test_every_non_internal_code_has_a_subclass_of_the_one_base() -> None:
    classes = [obj for obj in vars(errors).values()
               if isinstance(obj, type) and issubclass(obj, RegistryError) and obj is not RegistryError]
    by_code = {cls.code: cls for cls in classes}
    assert set(by_code) == set(spec_codes()) - {"internal"}
    for code, cls in by_code.items():
        err = cls("x")
        assert isinstance(err, RegistryError) and isinstance(err, Exception)
        assert err.exit_code == spec_codes()[code]


def test_unknown_code_is_refused() -> None:
    with pytest.raises(ValueError):
        RegistryError("x", code="no_such_code")


def test_details_are_added_only_when_given() -> None:
    err = errors.ApprovalRequired("needs approval", hint="ask", details={"approvers": ["a"], "missing": 1})
    assert err.to_dict() == {"code": "approval_required", "message": "needs approval", "hint": "ask",
                             "details": {"approvers": ["a"], "missing": 1}}
