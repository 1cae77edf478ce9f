"""cli/render.py's helpers that stand in for rich without importing it."""

from __future__ import annotations

import subprocess
import sys

from hypothesis import given
from hypothesis import strategies as st
from rich.markup import escape

from sw_registry.cli.render import esc

MARKUP_ALPHABET = st.sampled_from(["[", "]", "\\", "/", "#", "@", "a", "b", "z", " ", "é", "0"])


@given(st.text(alphabet=MARKUP_ALPHABET, max_size=12) | st.text(max_size=30))
def test_esc_is_riches_escape(text: str) -> None:
    assert esc(text) == escape(text)


def test_esc_of_plain_text_does_not_import_rich() -> None:
    code = (
        "import sys\n"
        "from sw_registry.cli.render import esc\n"
        "assert esc('fraud-detection-model') == 'fraud-detection-model'\n"
        "assert esc(None) == 'None'\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'rich'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
