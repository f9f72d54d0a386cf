"""Airflow Jinja in templated fields → IR text with typed references.

Only what is translated exactly is accepted; anything else makes the caller wrap the task (raw Jinja must never
reach a container, because Argo passes unknown ``{{…}}`` tags through literally). The table:

| Jinja | IR |
|---|---|
| ``{{ params.NAME }}`` / ``{{ params['NAME'] }}`` (NAME a DAG param) | workflow parameter NAME |
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from migrator.ir import ParamRef, Text

_TAG = re.compile(r"\{\{(.*?)\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
_PARAM = re.compile(r"^\s*params\s*(?:\.\s*(\w+)|\[\s*['\"](\w+)['\"]\s*\])\s*$")


@dataclass(frozen=True)
class JinjaResult:
    text: Text | None  # None when something could not be translated
    problem: str | None = None


def translate(value: str, params: set[str]) -> JinjaResult:
    parts: list[object] = []
    pos = 0
    for match in _TAG.finditer(value):
        if match.start() > pos:
            parts.append(value[pos : match.start()])
        inner = match.group(1)
        param = _PARAM.match(inner) if inner is not None else None
        name = (param.group(1) or param.group(2)) if param else None
        if name is None or name not in params:
            return JinjaResult(None, f"Jinja {match.group(0).strip()!r} has no Argo translation yet")
        parts.append(ParamRef(name))
        pos = match.end()
    if pos < len(value):
        parts.append(value[pos:])
    return JinjaResult(tuple(parts))  # type: ignore[arg-type]


def has_jinja(value: str) -> bool:
    return _TAG.search(value) is not None
