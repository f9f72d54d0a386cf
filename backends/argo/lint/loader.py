"""Text → documents: plain JSON-like data for the checks, and the problems found on the way.

PyYAML's C parser reads the data (about fifteen times faster than a pure-Python parser on Argo's examples); ruamel.yaml
is used only when a finding needs a line number (see ``positions``). PyYAML reads YAML 1.1 like the Go library behind
``kubectl`` and Argo, so ``on``/``yes`` and octal ``0755`` mean what they mean there. Timestamps stay strings, as in
Kubernetes. A duplicate key keeps the last value (as Kubernetes does) and is reported.

Nothing here can hang or overflow the stack: aliases are expanded into a fresh tree with a budget, recursive aliases
and deep nesting are refused, and every parser error becomes a :class:`LoadError`.
"""

from __future__ import annotations

import base64
import datetime
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

# The C parser when PyYAML was built with libyaml; the pure-Python one otherwise (same results, slower).
_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_DEPTH = 200  # Argo manifests nest a few dozen levels; deeper is an attack or a generator bug
MAX_NODES = 2_000_000  # after alias expansion; a 1 MB manifest has far fewer
# Integers past about 4,200 decimal digits are refused: Python will not turn longer ones into text (its 4,300-digit
# guard), so they would crash whatever prints them; Argo's own limit, int64, is 19 digits.
MAX_INT_BITS = 14_000
_LONG_DIGITS = re.compile(r"(?<![\w\".])-?\d{4301,}")


class LoadError(Exception):
    """The text is not usable; ``line``/``column`` are 1-based (0 when unknown)."""

    def __init__(self, message: str, line: int = 0, column: int = 0) -> None:
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


@dataclass
class Document:
    index: int  # position in the stream, counting empty documents
    line: int  # 1-based line and column of the document's first node
    column: int
    data: Any  # plain: dict / list / str / int / float / bool / None, keys are strings, nothing shared
    duplicates: list[tuple[int, int, str]] = field(default_factory=list)  # (line, column, key), 1-based


class _Loader(_BaseLoader):  # type: ignore[misc]
    # Without the timestamp resolver, 2024-01-01 stays the string it is in Kubernetes' JSON.
    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
    }

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[int, int, str]] = []

    def construct_yaml_int(self, node: Any) -> Any:
        # Refused here, where the position is known: decimal digits past Python's guard raise ValueError; hex and
        # sexagesimal (1:59:59...) forms are converted without it.
        try:
            value = super().construct_yaml_int(node)
        except ValueError:
            value = None
        if value is None or value.bit_length() > MAX_INT_BITS:
            raise yaml.constructor.ConstructorError(None, None, _too_long(f"{len(node.value):,} characters long"),
                                                    node.start_mark)
        return value

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[str] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(key_node.value, str):
                continue
            if key_node.value in seen:
                mark = key_node.start_mark
                self.duplicates.append((mark.line + 1, mark.column + 1, key_node.value))
            seen.add(key_node.value)
        return super().construct_mapping(node, deep=deep)


_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)


def _too_long(size: str) -> str:
    return f"an integer {size} is too long (Argo's integers have at most 19 digits)"


def _mark(exc: BaseException) -> tuple[int, int]:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is None:
        return 0, 0
    return mark.line + 1, mark.column + 1


def _describe(exc: yaml.YAMLError) -> str:
    parts = [getattr(exc, "context", None), getattr(exc, "problem", None)]
    text = ", ".join(p for p in parts if p) or str(exc).splitlines()[0]
    return " ".join(text.split())


class _Expander:
    """Copies a constructed tree; counts nodes and watches the path for recursion."""

    def __init__(self) -> None:
        self.nodes = 0
        self.path: set[int] = set()

    def copy(self, value: Any, depth: int) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise LoadError(f"the document expands to more than {MAX_NODES:,} nodes (aliases that explode?)")
        if depth > MAX_DEPTH:
            raise LoadError(f"the document nests deeper than {MAX_DEPTH} levels")
        if isinstance(value, dict | list):
            if id(value) in self.path:
                raise LoadError("a YAML alias refers to a node that contains it (recursive data)")
            self.path.add(id(value))
            try:
                if isinstance(value, dict):
                    return {_key(k): self.copy(v, depth + 1) for k, v in value.items()}
                return [self.copy(v, depth + 1) for v in value]
            finally:
                self.path.discard(id(value))
        if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
            raise LoadError(_too_long(f"of about {int(value.bit_length() * math.log10(2)) + 1:,} digits"))
        if isinstance(value, bool | int | float | str) or value is None:
            return value
        if isinstance(value, bytes):  # !!binary: Kubernetes' JSON carries it as base64
            return base64.b64encode(value).decode("ascii")
        if isinstance(value, datetime.date):
            return value.isoformat()
        if isinstance(value, set | tuple):
            return self.copy(list(value), depth)
        return str(value)


def plain(value: Any) -> Any:
    """A fresh JSON-like tree: string keys, no shared or recursive nodes, bounded size and depth."""
    return _Expander().copy(value, 0)


def _key(key: Any) -> str:
    # sigs.k8s.io/yaml turns every key into a JSON string the same way.
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    return key if isinstance(key, str) else str(key)


def _load_yaml(text: str) -> Iterator[Document]:
    loader = _Loader(text)
    try:
        index = 0
        while loader.check_node():
            node = loader.get_node()
            line, column = (node.start_mark.line + 1, node.start_mark.column + 1) if node is not None else (1, 1)
            data = loader.construct_document(node) if node is not None else None
            duplicates, loader.duplicates = loader.duplicates, []
            try:
                copied = plain(data)
            except LoadError as exc:  # shown at the document it concerns
                raise LoadError(exc.message, line, column) from None
            yield Document(index, line, column, copied, duplicates)
            index += 1
    except yaml.YAMLError as exc:
        line, column = _mark(exc)
        raise LoadError(f"invalid YAML: {_describe(exc)}", line, column) from None
    except RecursionError:
        raise LoadError(f"the document nests deeper than {MAX_DEPTH} levels") from None
    finally:
        loader.dispose()


def compose(text: str) -> list[Any]:
    """The YAML node tree of each document of ``text`` (indexed as :func:`load` indexes documents; None for an empty
    one), whose nodes know where they start; [] when the text does not parse."""
    loader = _Loader(text)
    nodes: list[Any] = []
    try:
        while loader.check_node():
            nodes.append(loader.get_node())
    except (yaml.YAMLError, RecursionError):
        return []
    finally:
        loader.dispose()
    return nodes


def _load_json(text: str) -> Iterator[Document]:
    duplicates: list[tuple[int, int, str]] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in items:
            if key in out:
                duplicates.append((0, 0, key))
            out[key] = value
        return out

    try:
        data = json.loads(text, object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        raise LoadError(f"invalid JSON: {exc.msg}", exc.lineno, exc.colno) from None
    except ValueError:  # an integer with more digits than Python converts to a number
        long = _LONG_DIGITS.search(text)
        if long is None:
            raise LoadError("invalid JSON: an integer is too long") from None
        line = text.count("\n", 0, long.start()) + 1
        column = long.start() - (text.rfind("\n", 0, long.start()) + 1) + 1
        raise LoadError(f"invalid JSON: {_too_long(f'{len(long.group()):,} characters long')}", line, column) from None
    except RecursionError:
        raise LoadError(f"the document nests deeper than {MAX_DEPTH} levels") from None
    try:
        copied = plain(data)
    except LoadError as exc:
        raise LoadError(exc.message, 1, 1) from None
    yield Document(0, 1, 1, copied, duplicates)


def load(text: str, path: str = "") -> list[Document]:
    """Every document of ``text`` (``*.json`` paths are read as JSON, anything else as YAML); raises LoadError."""
    if path.lower().endswith(".json"):
        return list(_load_json(text))
    return list(_load_yaml(text))
