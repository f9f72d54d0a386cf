"""Where a finding is: a path inside a document (``("spec", "templates", 0, "name")``) → 1-based line and column.

Lines come from the YAML node tree of the same C parser that read the data (``loader.compose``), whose nodes know
where they start. The file is parsed again only when the first finding of it needs a position, so clean files cost
nothing; each mapping's keys are indexed the first time a path goes through it, so a file with many findings costs
time linear in its size. If a path leads further than the document goes (a missing field), the deepest existing part
is used; if the file cannot be parsed at all, the start of the document.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from backends.argo.lint.loader import compose

PathElem = str | int
_MERGE = "tag:yaml.org,2002:merge"


def _start(node: Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


class Positions:
    def __init__(self, text: str, starts: Sequence[tuple[int, int]] = ()) -> None:
        self._text = text
        self._starts = list(starts)  # 1-based (line, column) of each document's first node, from the data loader
        self._docs: list[Any] | None = None
        self._keys: dict[int, dict[str, tuple[Node, Node]]] = {}  # id(mapping node) → key → (key node, value node)

    def _documents(self) -> list[Any]:
        if self._docs is None:
            self._docs = compose(self._text)
        return self._docs

    def _start(self, index: int) -> tuple[int, int]:
        return self._starts[index] if 0 <= index < len(self._starts) else (1, 1)

    def locate(self, index: int, path: Sequence[PathElem], at_key: bool = False) -> tuple[int, int]:
        """1-based (line, column) of ``path`` in document ``index``: its value, or its key when ``at_key``."""
        if not path:
            return self._start(index)  # the whole document: known without parsing the file again
        docs = self._documents()
        if not 0 <= index < len(docs) or docs[index] is None:
            return self._start(index)
        node = docs[index]
        best = _start(node)
        for depth, elem in enumerate(path):
            found = self._child(node, elem)
            if found is None:
                break
            key_node, node = found
            # A scalar is shown where its value starts; a mapping or list by its key (``spec:``), since its value
            # starts on another line, at its first entry.
            block = isinstance(node, MappingNode | SequenceNode) and isinstance(elem, str)
            best = _start(node) if depth == len(path) - 1 and not at_key and not block else _start(key_node)
        return best

    def _child(self, node: Node, elem: PathElem) -> tuple[Node, Node] | None:
        if isinstance(node, MappingNode):
            return self._mapping(node).get(str(elem))
        if isinstance(node, SequenceNode) and isinstance(elem, int) and 0 <= elem < len(node.value):
            item = node.value[elem]
            return item, item
        return None

    def _mapping(self, node: MappingNode) -> dict[str, tuple[Node, Node]]:
        keys = self._keys.get(id(node))
        if keys is None:
            keys = {}
            merged: list[Node] = []
            for key_node, value_node in node.value:
                if key_node.tag == _MERGE:
                    merged.extend(value_node.value if isinstance(value_node, SequenceNode) else [value_node])
                elif isinstance(key_node, ScalarNode):
                    keys[key_node.value] = (key_node, value_node)  # a duplicate key: the last one wins, as in data
            # Keys written in the mapping win over merged ones (`<<: *defaults`), as in the data.
            for source in merged:
                if isinstance(source, MappingNode) and source is not node:
                    for key, pair in self._mapping(source).items():
                        keys.setdefault(key, pair)
            self._keys[id(node)] = keys
        return keys
