"""Names and versions (SPEC §3): pure functions, no git."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sw_registry import versions as V
from sw_registry.errors import RegistryError


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("v3", "3.0.0"),
        ("3", "3.0.0"),
        ("3.1", "3.1.0"),
        ("v3.1", "3.1.0"),
        ("3.1.0", "3.1.0"),
        ("v3.1.0", "3.1.0"),
        ("3.2.0-rc.1", "3.2.0rc1"),
        ("3.2.0rc1", "3.2.0rc1"),
        ("v3.2.0rc1", "3.2.0rc1"),
        ("10.20.30", "10.20.30"),
    ],
)
def test_canonical_pads_and_drops_the_v(written: str, stored: str) -> None:
    assert V.canonical(written) == stored


def test_semver_and_pep440_prerelease_spellings_are_the_same_version() -> None:
    assert V.canonical("3.2.0-rc.1") == V.canonical("3.2.0rc1") == "3.2.0rc1"


@pytest.mark.parametrize(
    "written",
    [
        "1!2.0.0",  # epoch
        "1.0.0.post1",  # post release
        "1.0.0-post1",
        "1.0.0.dev1",  # dev release
        "1.0.0dev0",
        "1.0.0+x",  # local version
        "1.0.0+local.7",
        "",
        "latest",
        "v",
        "1.2.3.4",  # more than MAJOR.MINOR.PATCH
        "1.0.0rc1.post2",
    ],
)
def test_epochs_post_dev_local_and_garbage_are_invalid_version(written: str) -> None:
    with pytest.raises(RegistryError) as exc:
        V.canonical(written)
    assert exc.value.code == "invalid_version"
    assert exc.value.exit_code == 2
    assert exc.value.hint


def test_prereleases_sort_before_their_release_and_numbers_sort_numerically() -> None:
    shuffled = ["3.2.0", "10.0.0", "3.2.0rc1", "3.1.0", "3.2.0rc2", "3.2.0b2", "3.2.0a1", "3.10.0", "3.9.1"]
    ordered = sorted(shuffled, key=V.sort_key)
    assert ordered == ["3.1.0", "3.2.0a1", "3.2.0b2", "3.2.0rc1", "3.2.0rc2", "3.2.0", "3.9.1", "3.10.0", "10.0.0"]


def test_highest_is_by_version_order_not_by_text() -> None:
    assert V.highest(["1.9.0", "1.10.0", "1.2.0"]) == "1.10.0"
    assert V.highest(["3.2.0rc1", "3.1.0"]) == "3.2.0rc1"
    assert V.highest(["3.2.0rc1", "3.2.0"]) == "3.2.0"
    assert V.highest([]) is None


@pytest.mark.parametrize(
    ("kind", "expected"),
    [("major", "2.0.0"), ("minor", "1.3.0"), ("patch", "1.2.1")],
)
def test_bump_starts_from_the_highest_final_release_ignoring_prereleases(kind: str, expected: str) -> None:
    existing = ["1.0.0", "1.2.0", "1.1.5", "1.3.0rc1", "2.0.0a1"]
    assert V.bump(existing, kind) == expected


def test_bump_of_a_model_with_no_versions_is_1_0_0() -> None:
    for kind in ("major", "minor", "patch"):
        assert V.bump([], kind) == "1.0.0"


def test_bump_never_produces_a_prerelease() -> None:
    assert not V.is_prerelease(V.bump(["1.0.0", "1.1.0rc3"], "minor"))
    assert V.bump(["1.0.0", "1.1.0rc3"], "minor") == "1.1.0"


def test_unknown_bump_kind_is_refused() -> None:
    with pytest.raises(RegistryError) as exc:
        V.bump(["1.0.0"], "huge")
    assert exc.value.code == "usage"  # SPEC §9: --bump huge is a wrong command line (issue 6)


def test_choose_first_version_without_explicit_version_is_1_0_0() -> None:
    assert V.choose([], None, None, "patch") == "1.0.0"
    assert V.choose([], None, "major", "patch") == "1.0.0"


def test_choose_auto_follows_the_signature_change() -> None:
    assert V.choose(["1.0.0"], None, "auto", "major") == "2.0.0"
    assert V.choose(["1.0.0"], None, "auto", "minor") == "1.1.0"
    assert V.choose(["1.0.0"], None, "auto", "patch") == "1.0.1"
    assert V.choose(["1.0.0"], None, "minor", "major") == "1.1.0"  # an explicit bump wins


SIG = {"inputs": {"amount": "float", "country": "str"}, "outputs": {"p": "float"}}


@pytest.mark.parametrize(
    ("new", "change"),
    [
        (SIG, "patch"),
        ({"inputs": {"country": "str", "amount": "float"}, "outputs": {"p": "float"}}, "patch"),  # order is no change
        ({"inputs": {**SIG["inputs"], "age": "int"}, "outputs": SIG["outputs"]}, "minor"),
        ({"inputs": {"amount": "float"}, "outputs": SIG["outputs"]}, "major"),  # input removed
        ({"inputs": {"amount": "int", "country": "str"}, "outputs": SIG["outputs"]}, "major"),  # retyped
        ({"inputs": SIG["inputs"], "outputs": {"p": "int"}}, "major"),  # output retyped
        ({"inputs": SIG["inputs"], "outputs": {"p": "float", "label": "int"}}, "major"),  # output added
        ({"inputs": SIG["inputs"], "outputs": {}}, "major"),  # output removed
        ({"inputs": {"amount": "float", "age": "int"}, "outputs": SIG["outputs"]}, "major"),  # removed + added
    ],
)
def test_signature_change_classifies_the_bump(new: dict, change: str) -> None:
    assert V.signature_change(SIG, new) == change


def test_signature_change_without_signatures_is_patch() -> None:
    assert V.signature_change(None, None) == "patch"


def test_breaks_names_the_major_version_an_explicit_minor_should_have_been() -> None:
    assert V.breaks(["1.0.0", "1.1.0"], "1.2.0", "major") == "2.0.0"
    assert V.breaks(["1.0.0", "1.1.0"], "2.0.0", "major") is None
    assert V.breaks(["1.0.0"], "1.1.0", "minor") is None


@pytest.mark.parametrize(
    "name",
    ["fraud-detection-model", "a", "0", "m.v2_x-1", "a" * 100, "9lives", "x.y.z", "a-", "a_"],
)
def test_valid_names(name: str) -> None:
    assert V.validate_name(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "../x",
        "..",
        "a/b",
        "a\\b",
        "A B",
        "a b",
        "Fraud",
        "",
        "a..b",
        "-leading-dash",
        ".hidden",
        "_private",
        "a" * 101,
        "abc\n",  # a trailing newline must not slip past the pattern's '$'
        "\nabc",
        "abc\x00",
        "mödel",
    ],
)
def test_invalid_names_are_refused_with_invalid_name(name: str) -> None:
    with pytest.raises(RegistryError) as exc:
        V.validate_name(name)
    assert exc.value.code == "invalid_name"
    assert exc.value.exit_code == 2
    assert exc.value.hint


def test_parse_ref_canonicalises_the_version() -> None:
    assert V.parse_ref("fraud-detection-model@v3.1") == ("fraud-detection-model", "3.1.0")


@pytest.mark.parametrize(("ref", "code"), [("no-at-sign", "invalid_version"), ("../x@1.0.0", "invalid_name"),
                                           ("m@1.0.0.post1", "invalid_version")])
def test_parse_ref_refuses_bad_references(ref: str, code: str) -> None:
    with pytest.raises(RegistryError) as exc:
        V.parse_ref(ref)
    assert exc.value.code == code


def test_first_bump_after_only_pre_releases_finalises_the_highest() -> None:
    from sw_registry.versions import bump

    assert bump(["2.0.0rc1"], "major") == "2.0.0"
    assert bump(["2.0.0rc1", "2.0.0rc2"], "patch") == "2.0.0"
    # with a final release the bump starts from it, whatever pre-releases exist above
    assert bump(["1.0.0", "2.0.0rc1"], "minor") == "1.1.0"


# -- the parser of the common forms against packaging.version (issue 10: packaging is imported only for the rest)
_NUMBER = st.from_regex(r"0|[1-9][0-9]{0,3}|0[0-9]{1,2}", fullmatch=True)
_PRE = st.sampled_from(["a", "b", "rc", "c", "alpha", "beta", "pre", "preview", "RC", "Alpha", "post", "dev", "x"])
_SEP = st.sampled_from(["", "-", ".", "_"])


@st.composite
def written_versions(draw: st.DrawFn) -> str:
    release = ".".join(draw(st.lists(_NUMBER, min_size=1, max_size=4)))
    text = draw(st.sampled_from(["", "v", "V", " "])) + release
    if draw(st.booleans()):
        text += draw(_SEP) + draw(_PRE) + draw(_SEP) + draw(st.one_of(st.just(""), _NUMBER))
    if draw(st.integers(0, 9)) == 0:
        text += draw(st.sampled_from(["+local", "!", ".", "-", " x"]))
    return text


def _both(text: str) -> tuple[object, object]:
    def outcome(fn: object) -> object:
        try:
            return fn()  # type: ignore[operator]
        except RegistryError as exc:
            return ("refused", exc.code)

    return outcome(lambda: V.parts(text)), outcome(lambda: V._packaging_parts(text, V._body(text)))


@given(written_versions())
def test_the_common_forms_parse_as_packaging_parses_them(text: str) -> None:
    fast, slow = _both(text)
    assert fast == slow, text


@given(written_versions(), written_versions())
def test_the_sort_key_orders_as_packaging_orders(a: str, b: str) -> None:
    try:
        pa, pb = V.parse(a), V.parse(b)
    except RegistryError:
        return
    ka, kb = V.sort_key(a), V.sort_key(b)
    assert (ka < kb, ka == kb) == (pa < pb, pa == pb), (a, b)
    assert V.canonical(a) == V.canonical(V.canonical(a))
