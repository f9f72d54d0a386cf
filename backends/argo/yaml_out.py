"""Deterministic YAML: fixed key order, literal blocks for multi-line text, LF endings, no timestamps."""

from __future__ import annotations

import io
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import LiteralScalarString

_FIRST = ("apiVersion", "kind", "metadata", "name", "generateName", "spec")


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: (_FIRST.index(k) if k in _FIRST else len(_FIRST), k))
        return {k: _canonical(value[k]) for k in keys}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    if isinstance(value, str) and "\n" in value:
        # YAML cannot keep trailing spaces at line ends inside literal blocks reliably; fall back to quoting.
        if any(line.rstrip(" \t") != line for line in value.split("\n")) or "\r" in value:
            return value
        return LiteralScalarString(value)
    return value


def dump(document: dict[str, Any]) -> str:
    yaml = YAML()
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    stream = io.StringIO()
    yaml.dump(_canonical(document), stream)
    return stream.getvalue()
