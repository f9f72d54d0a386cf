"""What a check reports: a code, where in the document (a path of keys and indexes) and a message."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

PathElem = str | int
DocPath = tuple[PathElem, ...]


@dataclass(frozen=True)
class Finding:
    code: str
    where: DocPath
    message: str
    at_key: bool = False  # point at the key (an unknown field) rather than at its value


def dotted(path: Sequence[PathElem]) -> str:
    """``("spec", "templates", 0, "name")`` → ``spec.templates[0].name``, the way Argo's messages name fields."""
    out = ""
    for elem in path:
        if isinstance(elem, int):
            out += f"[{elem}]"
        else:
            out += f".{elem}" if out else elem
    return out or "(document)"
