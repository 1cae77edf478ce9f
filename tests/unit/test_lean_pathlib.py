"""The CLI's pathlib without ``urllib.parse`` (cli/lean_pathlib.py): pathlib still works whole, and the real
``urllib.parse`` is what every later import gets. Each case runs in a fresh interpreter, where pathlib is not
imported yet (``-S``: no site-packages, so no ``.pth`` file imports it first)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import sw_registry

PACKAGE_PARENT = str(Path(sw_registry.__file__).resolve().parent.parent)


def run(code: str) -> str:
    proc = subprocess.run([sys.executable, "-S", "-c", f"import sys; sys.path.insert(0, {PACKAGE_PARENT!r})\n" + code],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_pathlib_comes_without_urllib_parse_and_as_uri_still_works() -> None:
    out = run(
        "from sw_registry.cli.lean_pathlib import install\n"
        "install()\n"
        "import pathlib\n"
        "print('urllib.parse' in sys.modules, 'ipaddress' in sys.modules)\n"
        "print(type(pathlib.__spec__.loader).__name__, pathlib.__loader__ is pathlib.__spec__.loader)\n"
        "print(pathlib.PurePosixPath('/srv/a b%').as_uri())\n"
        "print('urllib.parse' in sys.modules)\n"
    )
    assert out.split("\n")[:4] == ["False False", "SourceFileLoader True", "file:///srv/a%20b%25", "True"]


def test_a_later_import_of_urllib_parse_gets_the_real_module() -> None:
    out = run(
        "from sw_registry.cli.lean_pathlib import install\n"
        "install()\n"
        "import pathlib\n"
        "from urllib.parse import urlsplit, quote\n"
        "import urllib.parse\n"
        "print(urlsplit('s3://bucket/key').netloc, quote('a b'), urllib.parse.__file__.endswith('parse.py'))\n"
        "print(sys.modules['urllib.parse'] is urllib.parse, hasattr(urllib.parse, '__path__'))\n"
    )
    assert out.split("\n")[:2] == ["bucket a%20b True", "True False"]


def test_nothing_changes_where_urllib_parse_is_imported_already() -> None:
    out = run(
        "import urllib.parse\n"
        "real = urllib.parse\n"
        "from sw_registry.cli.lean_pathlib import install\n"
        "install()\n"
        "import pathlib\n"
        "print(sys.modules['urllib.parse'] is real, pathlib.PurePosixPath('/a b').as_uri())\n"
    )
    assert out.split("\n")[0] == "True file:///a%20b"
