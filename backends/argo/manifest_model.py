"""What ``lint`` and ``run --local`` both know about an Argo manifest: template types, ``depends``, task graphs.

One model, so that the linter and the runner cannot disagree on what a manifest means:

- the template types (Argo's ``validateTemplateType``: exactly one is set);
- the ``depends`` grammar (ARGO-SEMANTICS §2.1), one parser giving both the references with their offsets (for
  lint's messages) and a tree (for the runner's evaluation); a ``dependencies`` list is the same tree;
- the dependency graph of a DAG's tasks: its strongly connected components, found in one linear pass, give the
  cycles and an order in which every task comes after the tasks it depends on.

Nothing here reads files or reports anything: callers turn :class:`DependsError` and cycles into their own
diagnostics. Nothing here assumes a field has the right type either (lint runs on broken manifests).

The ``depends`` grammar::

    expr   := and ("||" and)*
    and    := unary ("&&" unary)*
    unary  := "!" unary | "(" expr ")" | ref
    ref    := TASK ("." RESULT)?          TASK = [a-zA-Z0-9][-a-zA-Z0-9]*

Argo finds task names with a regular expression and hands the rest to expr-lang, so a malformed expression is only
noticed when the DAG runs; here it is a :class:`DependsError` with the character where parsing stopped.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

# ------------------------------------------------------------------------------------------------ template types

# The fields that make a template what it is, in validate.go's order; exactly one must be set.
TEMPLATE_TYPES = ("container", "containerSet", "steps", "script", "resource", "dag", "suspend", "data", "http",
                  "plugin")
# Types whose template runs other templates; every other type is a leaf (a pod, a suspension, a request...).
CALLER_TYPES = frozenset({"dag", "steps"})
LEAF_TYPES = tuple(t for t in TEMPLATE_TYPES if t not in CALLER_TYPES)


def template_types(template: Mapping[str, Any]) -> list[str]:
    """Every type ``template`` sets, in :data:`TEMPLATE_TYPES` order (a valid template sets exactly one)."""
    return [t for t in TEMPLATE_TYPES if template.get(t) is not None]


def template_type(template: Mapping[str, Any]) -> str | None:
    """The template's type; None when it sets none or several, which Argo rejects."""
    given = template_types(template)
    return given[0] if len(given) == 1 else None


# ------------------------------------------------------------------------------------------------ depends

RESULTS = ("Succeeded", "Failed", "Errored", "Skipped", "Omitted", "Daemoned", "AnySucceeded", "AllFailed")
FAN_OUT_RESULTS = frozenset({"AnySucceeded", "AllFailed"})  # defined only on withItems/withParam/withSequence tasks
# '(' and '!' nested deeper than this are refused: the parser and every evaluator of the tree recurse once per level,
# and no hand-written or generated expression needs more.
MAX_NESTING = 100

_TOKEN = re.compile(r"\s*(?:(?P<op>&&|\|\||!|\(|\))|(?P<ref>[a-zA-Z0-9][-a-zA-Z0-9]*(?:\.[a-zA-Z0-9_]*)?)|(?P<bad>\S))")


@dataclass(frozen=True)
class Ref:
    """``task`` or ``task.Result`` in a depends expression, or one item of a ``dependencies`` list."""

    task: str
    result: str | None  # None: a bare name (Succeeded, Skipped or Daemoned, plus what continueOn adds)
    offset: int  # 0-based character offset in the expression; for a dependencies list, the item's index


@dataclass(frozen=True)
class Not:
    operand: Expr


@dataclass(frozen=True)
class AllOf:
    """``a && b && ...``: n-ary, so a long conjunction is a wide tree, not a deep one."""

    operands: tuple[Expr, ...]


@dataclass(frozen=True)
class AnyOf:
    """``a || b || ...``."""

    operands: tuple[Expr, ...]


Expr: TypeAlias = Ref | Not | AllOf | AnyOf


@dataclass(frozen=True)
class Depends:
    """What a DAG task waits for: the tree to evaluate and every reference in it, in order of appearance."""

    source: str
    tree: Expr
    refs: tuple[Ref, ...]

    def tasks(self) -> list[str]:
        """The task names referenced, each once, in order of first appearance."""
        return list(dict.fromkeys(ref.task for ref in self.refs))


class DependsError(ValueError):
    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message, self.offset = message, offset


def _tokens(text: str) -> list[tuple[str, str, int]]:
    out: list[tuple[str, str, int]] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:  # only trailing white space is left
            break
        kind = match.lastgroup or "bad"
        out.append((kind, match.group(kind), match.start(kind)))
        pos = match.end()
    return out


def _joined(kind: type[AllOf] | type[AnyOf], operands: list[Expr]) -> Expr:
    return operands[0] if len(operands) == 1 else kind(tuple(operands))


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.i = 0
        self.depth = 0
        self.refs: list[Ref] = []

    def _peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def _fail(self, expected: str) -> DependsError:
        token = self._peek()
        if token is None:
            return DependsError(f"expected {expected} at the end of the expression", len(self.text.rstrip()))
        return DependsError(f"expected {expected}, found '{token[1]}' at character {token[2] + 1}", token[2])

    def parse(self) -> Depends:
        if not self.tokens:
            raise DependsError("the expression is empty", 0)
        tree = self._or()
        if self._peek() is not None:
            raise self._fail("'&&', '||' or the end of the expression")
        return Depends(self.text, tree, tuple(self.refs))

    def _or(self) -> Expr:
        operands = [self._and()]
        while (token := self._peek()) is not None and token[1] == "||":
            self.i += 1
            operands.append(self._and())
        return _joined(AnyOf, operands)

    def _and(self) -> Expr:
        operands = [self._unary()]
        while (token := self._peek()) is not None and token[1] == "&&":
            self.i += 1
            operands.append(self._unary())
        return _joined(AllOf, operands)

    def _unary(self) -> Expr:
        token = self._peek()
        if token is None:
            raise self._fail("a task name, '!' or '('")
        kind, value, offset = token
        if kind == "ref":
            self.i += 1
            ref = self._ref(value, offset)
            self.refs.append(ref)
            return ref
        if value not in ("!", "("):
            raise self._fail("a task name, '!' or '('")
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise DependsError(f"the expression nests '(' and '!' more than {MAX_NESTING} deep", offset)
        self.i += 1
        if value == "!":
            inner: Expr = Not(self._unary())
        else:
            inner = self._or()
            closing = self._peek()
            if closing is None or closing[1] != ")":
                raise self._fail(f"')' to close the '(' at character {offset + 1}")
            self.i += 1
        self.depth -= 1
        return inner

    @staticmethod
    def _ref(value: str, offset: int) -> Ref:
        task, dot, result = value.partition(".")
        if not dot:
            return Ref(task, None, offset)
        if result not in RESULTS:
            shown = f"'{result}'" if result else "nothing"
            close = difflib.get_close_matches(result, RESULTS, n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'?" if close else f"one of {', '.join(RESULTS)}"
            raise DependsError(f"task result {shown} of '{task}' at character {offset + len(task) + 2} is not a "
                               f"result Argo knows ({hint})", offset + len(task) + 1)
        return Ref(task, result, offset)


def parse_depends(text: str) -> Depends:
    """``text`` parsed; raises DependsError when the expression is malformed."""
    return _Parser(text).parse()


def task_depends(task: Mapping[str, Any]) -> Depends | None:
    """What a DAG task waits for: its ``depends``, else its ``dependencies`` as the ``&&`` of bare names (Argo's
    expansion); None for a task that waits for nothing. Raises DependsError for a malformed ``depends``.

    Items of ``dependencies`` that are not strings are left out (a structure error lint reports); each reference
    keeps the index of its item as its offset.
    """
    depends = task.get("depends")
    if isinstance(depends, str) and depends.strip():
        return parse_depends(depends)
    items = task.get("dependencies")
    refs = [Ref(d, None, i) for i, d in enumerate(items) if isinstance(d, str)] if isinstance(items, list) else []
    if not refs:
        return None
    return Depends(" && ".join(r.task for r in refs), _joined(AllOf, list(refs)), tuple(refs))


# ------------------------------------------------------------------------------------------------ task graphs

Graph: TypeAlias = Mapping[str, Sequence[str]]


def dependency_graph(named: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
    """Task → the tasks it depends on, each once, in order; names that are not tasks (keys) are left out, since
    lint reports them (AM413) and the runner refuses them."""
    return {task: [d for d in dict.fromkeys(deps) if d in named] for task, deps in named.items()}


def components(graph: Graph) -> list[list[str]]:
    """The strongly connected components of ``graph``, each component after every component it depends on.

    Tarjan's algorithm, iterative (a 20,000-task chain must not hit the recursion limit), linear in tasks plus
    dependencies. Edges to names that are not keys are ignored. Members of a component are in graph order.
    """
    position = {name: i for i, name in enumerate(graph)}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        work = [(root, iter(graph[root]))]
        while work:
            node, edges = work[-1]
            dep = next(edges, None)
            if dep is not None:
                if dep not in position:
                    continue
                if dep not in index:
                    index[dep] = low[dep] = len(index)
                    stack.append(dep)
                    on_stack.add(dep)
                    work.append((dep, iter(graph[dep])))
                elif dep in on_stack:
                    low[node] = min(low[node], index[dep])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                members: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    members.append(member)
                    if member == node:
                        break
                found.append(sorted(members, key=position.__getitem__))
    return found


def is_cyclic(component: Sequence[str], graph: Graph) -> bool:
    """A component is a cycle when it has several tasks, or one task that depends on itself."""
    return len(component) > 1 or component[0] in graph[component[0]]


def _cycle_through(first: str, members: set[str], graph: Graph) -> list[str]:
    # Depth-first from `first`, following dependencies in written order, inside its component (where every task
    # leads back to `first`); each task is entered once, so this is linear in the component.
    path = [first]
    work = [iter(graph[first])]
    entered = {first}
    while work:
        dep = next(work[-1], None)
        if dep is None:
            work.pop()
            path.pop()
        elif dep == first:
            return [*path, first]
        elif dep in members and dep not in entered:
            entered.add(dep)
            path.append(dep)
            work.append(iter(graph[dep]))
    raise AssertionError(f"{first!r} is in a strongly connected component but on no cycle")


@dataclass(frozen=True)
class Cycle:
    """Tasks that depend on each other: one cycle through them, and every task of their component."""

    path: list[str]  # [a, b, ..., a], from the component's task that comes first in graph order
    tasks: list[str]  # every task of the component, in graph order (more than the path when cycles interlock)


def cycles(graph: Graph) -> list[Cycle]:
    """One :class:`Cycle` per group of tasks that depend on each other, in graph order of their first task."""
    found = [Cycle(_cycle_through(c[0], set(c), graph), c) for c in components(graph) if is_cyclic(c, graph)]
    position = {name: i for i, name in enumerate(graph)}
    return sorted(found, key=lambda cycle: position[cycle.path[0]])
