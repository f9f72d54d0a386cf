"""Deterministic YAML, written by libyaml (PyYAML's C emitter): fixed key order, literal blocks for multi-line
text, LF endings, no timestamps.

Every string that a YAML 1.1 reader (kubectl's and Argo's Go parser) would read as something else is quoted:
PyYAML's resolver knows YAML 1.1's booleans (``yes``, ``on``), sexagesimal numbers (``12:30``), nulls and
floats; the Go parser also reads ``y``/``n`` as booleans, so those are added here.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

_FIRST = ("apiVersion", "kind", "metadata", "name", "generateName", "spec")
_ORDER = {k: i for i, k in enumerate(_FIRST)}


class _Dumper(yaml.CSafeDumper if hasattr(yaml, "CSafeDumper") else yaml.SafeDumper):  # type: ignore[misc]
    pass


_Dumper.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:y|Y|n|N)$"), list("yYnN"))
# YAML 1.2 numbers that PyYAML's 1.1 resolver reads as strings (``1e3``, ``0o17``), which Go reads as numbers.
_Dumper.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?|0o[0-7]+|0b[01]+)$"),
    list("-+.0123456789"))


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value and "\r" not in value and not any(
            line != line.rstrip(" \t") for line in value.split("\n")):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


def _dict(dumper: yaml.SafeDumper, value: dict[str, Any]) -> yaml.MappingNode:
    keys = sorted(value, key=lambda k: (_ORDER.get(k, len(_FIRST)), k))
    return dumper.represent_mapping("tag:yaml.org,2002:map", [(k, value[k]) for k in keys])


_Dumper.add_representer(str, _str)
_Dumper.add_representer(dict, _dict)


def dump(document: dict[str, Any]) -> str:
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=4096,
                     default_flow_style=False)
