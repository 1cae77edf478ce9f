"""cli/entry.py pauses the cyclic garbage collector while a command line runs, and gives it back as it was."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from sw_registry.cli.entry import main


@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_paused_for_a_command_and_restored(enabled: bool, project: Path,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    seen: list[bool] = []
    import sw_registry.cli.fastpath as fastpath

    real = fastpath.run
    monkeypatch.setattr(fastpath, "run", lambda args: seen.append(gc.isenabled()) or real(args))
    (gc.enable if enabled else gc.disable)()
    try:
        assert main(["registry-list", "--json", "--root", str(project)]) == 0
        assert gc.isenabled() is enabled
    finally:
        gc.enable()
    assert seen == [False]
    assert '"ok": true' in capsys.readouterr().out
