"""requirements.txt detection from a pickled artifact (SPEC §7.1): read with pickletools, nothing unpickled."""

from __future__ import annotations

import importlib.metadata as md
import pickle
from pathlib import Path

from packaging.version import Version

from sw_registry.store.requirements import detect, pickle_modules


def test_the_packages_a_pickle_imports_are_pinned_to_their_installed_versions(tmp_path: Path) -> None:
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps({"threshold": Version("1.2.3"), "when": Path("x")}))
    assert "packaging" in pickle_modules(path)
    text = detect(path)
    assert text is not None and f"packaging=={md.version('packaging')}" in text.splitlines()
    assert "pathlib" not in text  # the standard library is not a requirement


def test_nothing_to_report(tmp_path: Path) -> None:
    plain = tmp_path / "plain.pkl"
    plain.write_bytes(pickle.dumps({"a": [1, 2.5, "x"]}))
    assert detect(plain) is None
    other = tmp_path / "weights.bin"
    other.write_bytes(b"\x00\x01 not a pickle")
    assert detect(other) is None
    broken = tmp_path / "broken.pkl"
    broken.write_bytes(pickle.dumps(Version("1.0"))[:10])
    assert detect(broken) is None


def test_register_writes_detected_requirements(project: Path) -> None:
    from sw_registry.registry import ModelRegistry

    mv = ModelRegistry(root=project).register_model("m", {"v": Version("2.0")}, version="1.0.0")
    text = (Path(mv.path).parent / "requirements.txt").read_text()
    assert f"packaging=={md.version('packaging')}" in text
