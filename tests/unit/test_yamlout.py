"""The derived-file YAML writer must read back as exactly the data it was given."""

from __future__ import annotations

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from sw_registry.store.yamlout import dump

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner,
                                                                                          max_size=4), max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(), values, max_size=6))
def test_round_trips_through_safe_load(data: dict) -> None:
    assert yaml.safe_load(dump(data)) == data


def test_tricky_strings_are_quoted() -> None:
    data = {"v": "1.0", "b": "yes", "n": "null", "t": "2024-01-15T10:30:00Z", "c": "a: b", "e": "", "d": "-x"}
    text = dump(data)
    assert yaml.safe_load(text) == data
    assert 'v: "1.0"' in text and 'b: "yes"' in text


def test_plain_strings_stay_readable() -> None:
    assert dump({"stage": "production", "name": "fraud-model"}) == "stage: production\nname: fraud-model\n"


flow_scalars = st.none() | st.booleans() | st.integers() | st.text()
flow_values = st.recursive(flow_scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
    st.text(), inner, max_size=4), max_leaves=15)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(), flow_values, max_size=6))
def test_flow_lines_round_trip_in_a_block_list(data: dict) -> None:
    from sw_registry.store.yamlout import flow

    assert yaml.safe_load(f"items:\n  - {flow(data)}\n") == {"items": [data]}
