"""Argo names: DNS-1123 labels, made unique deterministically.

Source ids (Airflow task_ids with ``_`` and ``.``, dag_ids such as ``../x``) are rewritten to lower-case letters,
digits and ``-``; the original id is kept in the report and annotations, never lost.
"""

from __future__ import annotations

import hashlib
import re

_INVALID = re.compile(r"[^a-z0-9-]+")
_DASHES = re.compile(r"-{2,}")
# expr-lang keywords: a task named like one would make a ``depends`` expression ambiguous.
_RESERVED = frozenset({"in", "not", "and", "or", "nil", "true", "false", "matches", "contains", "startswith",
                       "endswith", "let", "if", "else"})


def dns_label(raw: str, max_len: int = 63, fallback: str = "x") -> str:
    """A DNS-1123 label derived from ``raw``: stable, readable, at most ``max_len`` characters."""
    name = _DASHES.sub("-", _INVALID.sub("-", raw.lower())).strip("-") or fallback
    if name[0].isdigit():
        name = f"{fallback}-{name}"
    if name in _RESERVED:
        name = f"{name}-{fallback}"
    if len(name) > max_len:
        digest = hashlib.sha1(raw.encode()).hexdigest()[:8]
        name = f"{name[: max_len - 9].rstrip('-')}-{digest}"
    return name


class Namer:
    """Hands out unique names in one namespace; the same sequence of requests gives the same names."""

    def __init__(self, reserved: tuple[str, ...] = (), max_len: int = 63, fallback: str = "x") -> None:
        self._taken: set[str] = set(reserved)
        self._max_len = max_len
        self._fallback = fallback

    def take(self, raw: str) -> str:
        base = dns_label(raw, self._max_len, self._fallback)
        name, n = base, 1
        while name in self._taken:
            n += 1
            suffix = f"-{n}"
            name = base[: self._max_len - len(suffix)].rstrip("-") + suffix
        self._taken.add(name)
        return name

    def __contains__(self, name: str) -> bool:
        return name in self._taken


def parameter_name(raw: str) -> str:
    """Argo parameter names allow ``[-a-zA-Z0-9_]``."""
    return re.sub(r"[^-a-zA-Z0-9_]+", "_", raw) or "_"
