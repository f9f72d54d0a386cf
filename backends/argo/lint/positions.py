"""Where a finding is: a path inside a document (``("spec", "templates", 0, "name")``) → 1-based line and column.

Lines come from ruamel.yaml's round-trip loader, whose mappings and sequences remember where each key, value and item
starts (``.lc``). The file is parsed only when the first finding of it needs a position, so clean files cost nothing.
If a path leads further than the document goes (a missing field), the deepest existing part is used; if ruamel cannot
read the file at all, the start of the document.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import RoundTripConstructor

PathElem = str | int


class _LastKeyWins(RoundTripConstructor):
    """Duplicate keys keep the last value and its position, as Kubernetes (and our data loader) do."""

    def check_mapping_key(self, node: Any, key_node: Any, mapping: Any, key: Any, value: Any) -> bool:
        if key in mapping:
            del mapping[key]
        return True


def _lc(container: Any) -> Any:
    return getattr(container, "lc", None)


class Positions:
    def __init__(self, text: str, starts: Sequence[tuple[int, int]] = ()) -> None:
        self._text = text
        self._starts = list(starts)  # 1-based (line, column) of each document's first node, from the data loader
        self._docs: list[Any] | None = None

    def _documents(self) -> list[Any]:
        if self._docs is None:
            yaml = YAML(typ="rt")
            yaml.Constructor = _LastKeyWins
            try:
                self._docs = list(yaml.load_all(self._text))
            except Exception:  # positions are a nicety: never let them turn a finding into a crash
                self._docs = []
        return self._docs

    def _start(self, index: int) -> tuple[int, int]:
        return self._starts[index] if 0 <= index < len(self._starts) else (1, 1)

    def locate(self, index: int, path: Sequence[PathElem], at_key: bool = False) -> tuple[int, int]:
        """1-based (line, column) of ``path`` in document ``index``: its value, or its key when ``at_key``."""
        if not path:
            return self._start(index)  # the whole document: known without parsing the file again
        docs = self._documents()
        if not 0 <= index < len(docs):
            return self._start(index)
        node = docs[index]
        best = self._node_start(node) or self._start(index)
        for depth, elem in enumerate(path):
            found = self._child(node, elem)
            if found is None:
                break
            node, key_pos, value_pos = found
            # A scalar is shown where its value starts; a mapping or list by its key (``spec:``), since its value
            # starts on another line, at its first entry.
            block = isinstance(node, CommentedMap | CommentedSeq) and isinstance(elem, str)
            best = value_pos if depth == len(path) - 1 and not at_key and not block else key_pos
        return best

    @staticmethod
    def _node_start(node: Any) -> tuple[int, int] | None:
        lc = _lc(node)
        if lc is None or lc.line is None:
            return None
        return lc.line + 1, lc.col + 1

    @staticmethod
    def _child(node: Any, elem: PathElem) -> tuple[Any, tuple[int, int], tuple[int, int]] | None:
        if isinstance(node, CommentedMap):
            key: Any = elem
            if key not in node:
                key = next((k for k in node if str(k) == str(elem)), None)  # a key YAML 1.2 typed differently
                if key is None:
                    return None
            try:
                kline, kcol = node.lc.key(key)
                vline, vcol = node.lc.value(key)
            except (KeyError, TypeError, AttributeError):
                return None
            return node[key], (kline + 1, kcol + 1), (vline + 1, vcol + 1)
        if isinstance(node, CommentedSeq) and isinstance(elem, int) and 0 <= elem < len(node):
            try:
                line, col = node.lc.item(elem)
            except (KeyError, TypeError, AttributeError):
                return None
            return node[elem], (line + 1, col + 1), (line + 1, col + 1)
        return None
