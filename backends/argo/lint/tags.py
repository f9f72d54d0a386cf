"""``{{...}}`` tags inside strings, found the way Argo finds them (fasttemplate: from ``{{`` to the next ``}}``).

Expression tags (``{{= ...}}``) are skipped, as Argo's validator skips them; simple tags are returned trimmed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from backends.argo.lint.findings import DocPath


def simple_tags(text: str) -> Iterator[str]:
    start = text.find("{{")
    while start != -1:
        end = text.find("}}", start + 2)
        if end == -1:
            return
        tag = text[start + 2:end]
        if not tag.startswith("="):
            yield tag.strip()
        start = text.find("{{", end + 2)


def strings(node: Any, path: DocPath, skip: Callable[[DocPath], bool] | None = None) -> Iterator[tuple[DocPath, str]]:
    """Every string under ``node`` that holds a ``{{``, with its path; subtrees where ``skip(path)`` are left out."""
    stack: list[tuple[Any, DocPath]] = [(node, path)]
    while stack:
        value, where = stack.pop()
        if skip is not None and where != path and skip(where):
            continue
        if isinstance(value, str):
            if "{{" in value:
                yield where, value
        elif isinstance(value, dict):
            stack.extend((v, (*where, k)) for k, v in reversed(list(value.items())))
        elif isinstance(value, list):
            stack.extend((v, (*where, i)) for i, v in reversed(list(enumerate(value))))


def tags_in(node: Any, path: DocPath, skip: Callable[[DocPath], bool] | None = None) -> Iterator[tuple[DocPath, str]]:
    """Every simple tag under ``node``: (path of the string holding it, trimmed tag)."""
    for where, text in strings(node, path, skip):
        for tag in simple_tags(text):
            yield where, tag
