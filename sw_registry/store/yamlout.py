"""A small, fast block-style YAML writer for the files the registry derives.

PyYAML's representer is pure Python even with the C dumper: a 500-version catalog took ~60 ms and a
10,000-version one over a second. Our derived files hold only mappings, lists and scalars, so they are
written here: strings bare when YAML reads them back as the same string, otherwise double-quoted in
JSON syntax (JSON's escapes are valid YAML). tests/unit/test_yamlout.py checks with hypothesis that
yaml.safe_load reads back exactly the data.
"""

from __future__ import annotations

import functools
import json
import re

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import Any

# a string YAML reads back as that string when written bare: starts with a letter, no special characters,
# and not one of YAML 1.1's boolean or null words
# (checked with str.strip, as the regex [A-Za-z_][A-Za-z0-9_.@/-]* would: no regex compiled for a write)
_PLAIN_FIRST = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_"
_PLAIN_REST = _PLAIN_FIRST + "0123456789.@/-"
_RESERVED = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}
# characters YAML does not allow raw in a document, or reads as line breaks (NEL, LS, PS), or the BOM:
# written as escapes (compiled on first need: the class is large and takes ~9 ms to compile)
_UNPRINTABLE = "[^\t\n\r\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"


@functools.lru_cache(maxsize=1)
def _flow_encoder() -> json.JSONEncoder:
    return json.JSONEncoder(ensure_ascii=False)  # json.dumps(..., ensure_ascii=False) would build one per call


@functools.lru_cache(maxsize=1)
def _unprintable() -> re.Pattern[str]:
    return re.compile(_UNPRINTABLE)


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        import math  # a float's spelling only: a promote or a metric-free register does not load it

        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        text = repr(value)
        mantissa, e, exponent = text.partition("e")
        # YAML 1.1 reads a float only with a dot in it: 5e-324 would come back as a string
        return f"{mantissa}.0e{exponent}" if e and "." not in mantissa else text
    text = str(value)
    if text[:1] and text[0] in _PLAIN_FIRST and not text.strip(_PLAIN_REST) and text.lower() not in _RESERVED:
        return text
    quoted = json.dumps(text, ensure_ascii=False)
    if quoted.isascii() and quoted.isprintable():
        return quoted
    return _unprintable().sub(lambda m: _escape(m.group()), quoted)


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _emit(value: Any, indent: str, out: list[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            head = f"{indent}{_scalar(str(key))}:"
            if isinstance(item, (dict, list)) and item:
                out.append(head)
                _emit(item, indent + ("  " if isinstance(item, dict) else ""), out)
            else:
                out.append(f"{head} {_empty(item) if isinstance(item, (dict, list)) else _scalar(item)}")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict) and item:
                lines: list[str] = []
                _emit(item, indent + "  ", lines)
                out.append(f"{indent}- {lines[0].lstrip()}")
                out.extend(lines[1:])
            elif isinstance(item, list) and item:
                lines = []
                _emit(item, indent + "  ", lines)
                out.append(f"{indent}- {lines[0].lstrip()}")
                out.extend(lines[1:])
            else:
                out.append(f"{indent}- {_empty(item) if isinstance(item, (dict, list)) else _scalar(item)}")
    else:
        out.append(indent + _scalar(value))


def _empty(value: dict[str, Any] | list[Any]) -> str:
    return "{}" if isinstance(value, dict) else "[]"


def key(text: str) -> str:
    """A mapping key as the block writer writes it."""
    return _scalar(str(text))


def flow(value: dict[str, Any] | list[Any]) -> str:
    """A one-line flow collection: JSON syntax, which YAML reads as the same data.

    For strings, ints, booleans, None and collections of them only: YAML 1.1 reads JSON's 1e-05 as a
    string, so callers never pass floats. Strings get the block writer's escaping (JSON's surrogate-pair
    escapes do not round-trip through PyYAML).
    """
    text = _flow_encoder().encode(value)
    if text.isascii() and text.isprintable():
        return text
    return _unprintable().sub(lambda m: _escape(m.group()), text)


def dump(data: dict[str, Any]) -> str:
    if not data:
        return "{}\n"
    out: list[str] = []
    _emit(data, "", out)
    return "\n".join(out) + "\n"
