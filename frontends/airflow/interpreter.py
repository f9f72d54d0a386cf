"""A static interpreter for DAG files: walks the LibCST tree in order, the way Python would run the module, and
records the DAGs, tasks and dependencies Airflow would build — without importing or executing anything.

It understands the subset of Python that DAG files use to build DAGs (constants, f-strings, loops over literals,
``with`` contexts, helper functions of the same file, ``>>`` chains); every value that depends on run time is an
:class:`~frontends.airflow.values.Unknown`, and where such a value matters a diagnostic says so.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
import string
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from frontends.airflow.model import DagDraft, TaskDraft
from frontends.airflow.values import (
    AirflowVariable,
    BoundMethod,
    DagRef,
    DateTime,
    Duration,
    FuncDef,
    GroupItem,
    GroupRef,
    LabelValue,
    LocalClass,
    Mapped,
    ParseTime,
    Qual,
    TaskRef,
    TimeOfDay,
    Unknown,
    Value,
    XComArg,
    is_task_like,
)
from migrator.diagnostics import Diagnostic, diag

DECORATOR_ROOTS = ("task", "dag", "task_group", "setup", "teardown", "asset")
MAX_LOOP = 10_000
MAX_DEPTH = 16
# The evaluator's budget, so that a 200-byte file cannot exhaust the host (``range(10**9)``, ``"x" * 10**10``,
# ``9**9**9**9``, nested loops): a container or string larger than MAX_ITEMS, an integer wider than MAX_INT_BITS,
# a format width over MAX_WIDTH are "not statically known"; more than MAX_STEPS evaluations stop the file.
MAX_ITEMS = 100_000
MAX_INT_BITS = 4096
MAX_WIDTH = 10_000
MAX_STEPS = 2_000_000
# Airflow 2 and 3 register these context managers and functions under many module paths; the last segment of an
# airflow.* qualified name identifies them.
_DAG_CLASSES = {"DAG"}
_GROUP_CLASSES = {"TaskGroup"}


# Text that shows a statement may create DAGs, tasks or dependencies (used only to decide whether to warn).
_BUILDS_MARKERS = ("task_id", ">>", "<<", "DAG(", "@dag", "@task", "Operator(", "Sensor(", "TaskGroup(", "chain(",
                   "set_downstream", "set_upstream", "@asset", "@task_group")


class BudgetExceeded(Exception):
    """The file needs more evaluation steps than MAX_STEPS: its evaluation stops (AM126)."""


class _Return(Exception):  # noqa: N818 - control flow, not an error
    def __init__(self, value: Value) -> None:
        self.value = value


@dataclass
class Scope:
    names: dict[str, Value] = field(default_factory=dict)
    parent: Scope | None = None

    def lookup(self, name: str) -> Value:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.names:
                return scope.names[name]
            scope = scope.parent
        return _BUILTINS.get(name, Unknown(f"name {name!r} is not defined statically"))


@dataclass
class _Context:
    dag: int | None = None
    groups: list[tuple[str, bool, dict[str, Any]]] = field(default_factory=list)  # (group id, prefix, default_args)
    mapped_group: tuple[str, dict[str, Any]] | None = None  # (group id, its .expand arguments)


@dataclass
class ModuleImport:
    bound: str  # the name the import binds in the module
    line: str  # the import statement that binds just this name


@dataclass
class Interpretation:
    dags: list[DagDraft]
    diagnostics: list[Diagnostic]
    imports: list[ModuleImport]
    future_imports: list[str]
    module: cst.Module


def _airflow(q: Qual) -> bool:
    return q.name == "airflow" or q.name.startswith("airflow.")


def decorator_name(q: Qual) -> str | None:
    """``airflow.sdk.task.bash`` → ``task.bash``; None when ``q`` is no Airflow decorator."""
    if not _airflow(q):
        return None
    parts = q.name.split(".")
    for i, part in enumerate(parts[1:], start=1):
        if part in DECORATOR_ROOTS:
            return ".".join(parts[i:])
    return None


class Interpreter:
    def __init__(self, path: str, module: cst.Module) -> None:
        self.path = path
        self.module = module
        wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        self.positions: dict[cst.CSTNode, CodeRange] = dict(wrapper.resolve(PositionProvider))
        self.dags: list[DagDraft] = []
        self.diagnostics: list[Diagnostic] = []
        self.imports: list[ModuleImport] = []
        self.future_imports: list[str] = []
        self.ctx = _Context()
        self.depth = 0
        self.steps = 0
        self.statement: cst.CSTNode | None = None  # the module-level statement being run, for AM126's position
        self.module_scope = Scope({"__name__": "airflow_dag_module", "__file__": path})

    # --- diagnostics -------------------------------------------------------------------------------------------

    def pos(self, node: cst.CSTNode | None) -> tuple[int, int]:
        rng = self.positions.get(node) if node is not None else None
        return (rng.start.line, rng.start.column + 1) if rng else (0, 0)

    def report(self, code: str, node: cst.CSTNode | None, message: str) -> None:
        line, col = self.pos(node)
        self.diagnostics.append(diag(code, self.path, line, col, message))

    # --- entry -------------------------------------------------------------------------------------------------

    def run(self) -> Interpretation:
        try:
            self.exec_block(self.module.body, self.module_scope, top=True)
        except BudgetExceeded:
            self.report("AM126", self.statement, f"evaluating this file takes more than {MAX_STEPS:,} steps (a very large "
                        "loop or recursion); it is not migrated, as what it builds cannot all be seen")
            self.dags = []
        return Interpretation(self.dags, self.diagnostics, self.imports, self.future_imports, self.module)

    # --- statements --------------------------------------------------------------------------------------------

    def exec_block(self, body: Iterable[cst.CSTNode], scope: Scope, top: bool = False) -> None:
        for stmt in body:
            if top:
                self.statement = stmt
            self.exec_stmt(stmt, scope, top)

    def exec_stmt(self, stmt: cst.CSTNode, scope: Scope, top: bool = False) -> None:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                self.exec_small(small, scope, top)
        elif isinstance(stmt, cst.FunctionDef):
            func = self.define_function(stmt, scope)
            scope.names[stmt.name.value] = func
            if func.decorator == "asset":
                self.make_asset(func)
        elif isinstance(stmt, cst.ClassDef):
            bases = tuple(self.eval(arg.value, scope) for arg in stmt.bases)
            scope.names[stmt.name.value] = LocalClass(stmt.name.value, bases)
        elif isinstance(stmt, cst.With):
            self.exec_with(stmt, scope)
        elif isinstance(stmt, cst.For):
            self.exec_for(stmt, scope)
        elif isinstance(stmt, cst.If):
            self.exec_if(stmt, scope)
        elif isinstance(stmt, cst.Try):
            # The usual ``try: import x / except ImportError`` picks the body when the import is available.
            if self._guards_import(stmt):
                self.report("AM123", stmt, "an optional import is assumed to be available; where it is not, "
                            "Airflow runs the except branch instead")
            self.exec_block(stmt.body.body, scope, top)
        elif isinstance(stmt, cst.While | cst.Match | cst.TryStar):
            if self._builds_tasks(stmt):
                self.report("AM115", stmt, f"a {type(stmt).__name__.lower()} statement that creates tasks is not "
                            "evaluated statically; its tasks are missing")

    def _guards_import(self, node: cst.Try) -> bool:
        handles_import_error = any(
            h.type is not None and "ImportError" in self.module.code_for_node(h.type) for h in node.handlers)
        imports = any(isinstance(small, cst.Import | cst.ImportFrom)
                      for line in node.body.body if isinstance(line, cst.SimpleStatementLine) for small in line.body)
        return handles_import_error and imports

    def _builds_tasks(self, node: cst.CSTNode) -> bool:
        code = self.module.code_for_node(node)
        return any(marker in code for marker in _BUILDS_MARKERS)

    def exec_small(self, small: cst.BaseSmallStatement, scope: Scope, top: bool) -> None:
        if isinstance(small, cst.Import | cst.ImportFrom):
            self.exec_import(small, scope, top)
        elif isinstance(small, cst.Assign):
            value = self.eval(small.value, scope)
            for target in small.targets:
                self.assign(target.target, value, scope)
        elif isinstance(small, cst.AnnAssign) and small.value is not None:
            self.assign(small.target, self.eval(small.value, scope), scope)
        elif isinstance(small, cst.AugAssign):
            self.exec_augassign(small, scope)
        elif isinstance(small, cst.Expr):
            self.eval(small.value, scope)
        elif isinstance(small, cst.Return):
            raise _Return(self.eval(small.value, scope) if small.value is not None else None)

    def exec_augassign(self, node: cst.AugAssign, scope: Scope) -> None:
        if not isinstance(node.target, cst.Name):
            return
        current = scope.lookup(node.target.value)
        value = self.eval(node.value, scope)
        op = type(node.operator).__name__.replace("Assign", "")
        scope.names[node.target.value] = self.binary(op, current, value, node)

    def exec_import(self, node: cst.Import | cst.ImportFrom, scope: Scope, top: bool) -> None:
        if isinstance(node, cst.Import):
            for alias in node.names:
                full = _dotted(alias.name)
                if alias.asname is not None:
                    bound = _dotted(alias.asname.name)  # type: ignore[arg-type]
                    scope.names[bound] = Qual(full)
                    line = f"import {full} as {bound}"
                else:
                    bound = full.split(".")[0]
                    scope.names[bound] = Qual(bound)
                    line = f"import {full}"
                if top:
                    self.imports.append(ModuleImport(bound, line))
            return
        if node.relative:
            module = "." * len(node.relative) + (_dotted(node.module) if node.module else "")
        else:
            module = _dotted(node.module) if node.module else ""
        if isinstance(node.names, cst.ImportStar):
            return
        for alias in node.names:
            name = _dotted(alias.name)
            bound = _dotted(alias.asname.name) if alias.asname is not None else name  # type: ignore[arg-type]
            scope.names[bound] = Qual(f"{module}.{name}")
            if top and module == "__future__":
                self.future_imports.append(f"from __future__ import {name}")
            elif top:
                suffix = f" as {bound}" if bound != name else ""
                self.imports.append(ModuleImport(bound, f"from {module} import {name}{suffix}"))

    def assign(self, target: cst.BaseExpression, value: Value, scope: Scope) -> None:
        if isinstance(target, cst.Name):
            scope.names[target.value] = value
        elif isinstance(target, cst.Tuple | cst.List):
            elements = [e.value for e in target.elements]
            if isinstance(value, list | tuple) and len(value) == len(elements):
                for element, item in zip(elements, value, strict=True):
                    self.assign(element, item, scope)
            else:
                for element in elements:
                    self.assign(element, Unknown("unpacking of a dynamic value", target), scope)
        elif isinstance(target, cst.Subscript):
            container = self.eval(target.value, scope)
            index = self._index(target, scope)
            if isinstance(container, dict) and not isinstance(index, Unknown):
                container[index] = value
            elif isinstance(container, list) and isinstance(index, int) and -len(container) <= index < len(container):
                container[index] = value
        elif isinstance(target, cst.Attribute):
            owner = self.eval(target.value, scope)
            if isinstance(owner, DagRef) and target.attr.value in ("doc_md", "description"):
                self.dags[owner.dag].kwargs.setdefault(target.attr.value, value)
            elif isinstance(owner, TaskRef | XComArg):
                # ``task.trigger_rule = ...`` after construction: the same as passing it to the constructor.
                self.dags[owner.dag].tasks[owner.task_id].kwargs[target.attr.value] = value

    def define_function(self, node: cst.FunctionDef, scope: Scope) -> FuncDef:
        name: str | None = None
        kwargs: dict[str, Value] = {}
        for dec in node.decorators:
            expr = dec.decorator
            call_kwargs: dict[str, Value] = {}
            if isinstance(expr, cst.Call):
                call_kwargs = {a.keyword.value: self.eval(a.value, scope) for a in expr.args if a.keyword}
                expr = expr.func
            value = self.eval(expr, scope)
            found = decorator_name(value) if isinstance(value, Qual) else None
            if found is not None:
                # Several Airflow decorators stack (``@task.docker`` over ``@setup``): the outermost names the kind.
                name = name or found
                kwargs = {**call_kwargs, **kwargs}
        return FuncDef(node, name, tuple(kwargs.items()))

    def exec_with(self, node: cst.With, scope: Scope) -> None:
        saved = (self.ctx.dag, list(self.ctx.groups))
        teardowns: list[TaskRef | XComArg] = []
        for item in node.items:
            value = self.eval(item.item, scope)
            if isinstance(value, TaskRef | XComArg) and self._is_role(value, "teardown"):
                teardowns.append(value)
            if isinstance(value, DagRef):
                self.ctx.dag = value.dag
            elif isinstance(value, GroupRef):
                draft = self.dags[value.dag]
                prefix = bool(self._group_prefix.get((value.dag, value.group_id), True))
                self.ctx.dag = value.dag
                self.ctx.groups.append((value.group_id, prefix, self._group_defaults.get((value.dag, value.group_id),
                                                                                         {})))
                draft.groups.setdefault(value.group_id, [])
            if item.asname is not None:
                self.assign(item.asname.name, value, scope)
        before = {i: set(d.tasks) for i, d in enumerate(self.dags)}
        try:
            self.exec_block(node.body.body, scope)
        finally:
            self.ctx.dag, self.ctx.groups = saved
        for teardown in teardowns:
            self._wrap_in_setup_teardown(teardown, before.get(teardown.dag, set()), node)

    def _is_role(self, ref: TaskRef | XComArg, role: str) -> bool:
        task = self.dags[ref.dag].tasks.get(ref.task_id)
        return task is not None and (task.construct == f"@{role}" or bool(task.kwargs.get(f"__{role}__")))

    def _wrap_in_setup_teardown(self, teardown: TaskRef | XComArg, before: set[str], node: cst.CSTNode) -> None:
        """``with teardown(setup()):`` — work created inside runs after the setups and before the teardown."""
        draft = self.dags[teardown.dag]
        setups = [u for u, v, _ in draft.edges if v == teardown.task_id
                  and self._is_role(TaskRef(teardown.dag, u), "setup")]
        created = [t for t in draft.tasks if t not in before]
        work = [t for t in created if not (self._is_role(TaskRef(teardown.dag, t), "setup")
                                           or self._is_role(TaskRef(teardown.dag, t), "teardown"))]
        ups = {v for _, v, _ in draft.edges}
        downs = {u for u, _, _ in draft.edges}
        for task_id in work:
            if task_id not in ups:
                for setup in setups:
                    draft.add_edge(setup, task_id)
            if task_id not in downs:
                draft.add_edge(task_id, teardown.task_id)

    def exec_for(self, node: cst.For, scope: Scope) -> None:
        iterable = self.iterate(self.eval(node.iter, scope))
        if iterable is None:
            if self._builds_tasks(node.body):
                self.report("AM103", node.iter, "loop over a value only known at run time; tasks created in this "
                            "loop are missing")
            return
        for item in iterable[:MAX_LOOP]:
            self.assign(node.target, item, scope)
            self.exec_block(node.body.body, scope)

    def exec_if(self, node: cst.If, scope: Scope) -> None:
        test = self.eval(node.test, scope)
        if isinstance(test, Unknown):
            if self._builds_tasks(node):
                self.report("AM103", node.test, "condition only known at run time; tasks created under it are "
                            "missing")
            return
        if test:
            self.exec_block(node.body.body, scope)
        elif isinstance(node.orelse, cst.If):
            self.exec_if(node.orelse, scope)
        elif isinstance(node.orelse, cst.Else):
            self.exec_block(node.orelse.body.body, scope)

    # --- expressions -------------------------------------------------------------------------------------------

    def eval(self, node: cst.BaseExpression | None, scope: Scope) -> Value:  # noqa: C901 - a dispatch table
        if node is None:
            return None
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise BudgetExceeded
        if isinstance(node, cst.Name):
            if node.value in ("True", "False", "None"):
                return {"True": True, "False": False, "None": None}[node.value]
            return scope.lookup(node.value)
        if isinstance(node, cst.SimpleString):
            return node.evaluated_value
        if isinstance(node, cst.Integer | cst.Float):
            return node.evaluated_value
        if isinstance(node, cst.ConcatenatedString):
            return self.binary("Add", self.eval(node.left, scope), self.eval(node.right, scope), node)
        if isinstance(node, cst.FormattedString):
            return self.fstring(node, scope)
        if isinstance(node, cst.List | cst.Tuple | cst.Set):
            items: list[Value] = []
            for el in node.elements:
                if isinstance(el, cst.StarredElement):
                    inner = self.iterate(self.eval(el.value, scope))
                    if inner is None:
                        return Unknown("starred dynamic value", node)
                    items.extend(inner)
                else:
                    items.append(self.eval(el.value, scope))
            return tuple(items) if isinstance(node, cst.Tuple) else items
        if isinstance(node, cst.Dict):
            result: dict[Any, Value] = {}
            for entry in node.elements:
                if isinstance(entry, cst.DictElement):
                    key = self.eval(entry.key, scope)
                    if isinstance(key, Unknown) or not _hashable(key):
                        return Unknown("dict with a dynamic key", node)
                    result[key] = self.eval(entry.value, scope)
                else:
                    inner = self.eval(entry.value, scope)
                    if not isinstance(inner, dict):
                        return Unknown("dict splat of a dynamic value", node)
                    result.update(inner)
            return result
        if isinstance(node, cst.Attribute):
            return self.attribute(self.eval(node.value, scope), node.attr.value, node)
        if isinstance(node, cst.Call):
            return self.call(node, scope)
        if isinstance(node, cst.BinaryOperation):
            left = self.eval(node.left, scope)
            right = self.eval(node.right, scope)
            return self.binary(type(node.operator).__name__, left, right, node)
        if isinstance(node, cst.Subscript):
            return self.subscript(node, scope)
        if isinstance(node, cst.UnaryOperation):
            value = self.eval(node.expression, scope)
            if isinstance(value, Unknown):
                return value
            op = type(node.operator).__name__
            try:
                return {"Not": lambda v: not v, "Minus": lambda v: -v, "Plus": lambda v: +v,
                        "BitInvert": lambda v: ~v}[op](value)
            except Exception:
                return Unknown("unary operation", node)
        if isinstance(node, cst.BooleanOperation):
            left = self.eval(node.left, scope)
            if isinstance(left, Unknown):
                return left
            if isinstance(node.operator, cst.And):
                return self.eval(node.right, scope) if left else left
            return left if left else self.eval(node.right, scope)
        if isinstance(node, cst.Comparison):
            return self.compare(node, scope)
        if isinstance(node, cst.IfExp):
            test = self.eval(node.test, scope)
            if isinstance(test, Unknown):
                return test
            return self.eval(node.body if test else node.orelse, scope)
        if isinstance(node, cst.Lambda):
            return self.lambda_function(node)
        if isinstance(node, cst.ListComp | cst.GeneratorExp | cst.SetComp):
            return self.comprehension(node, scope)
        if isinstance(node, cst.DictComp):
            return self.comprehension(node, scope)
        return Unknown(f"{type(node).__name__} expression", node)

    def lambda_function(self, node: cst.Lambda) -> FuncDef:
        """A lambda as the equivalent ``def``, so that it can be carried into a script like any callable."""
        line, _ = self.pos(node)
        name = f"_lambda_l{line}"
        body = cst.IndentedBlock(body=[cst.SimpleStatementLine(body=[cst.Return(value=node.body)])])
        return FuncDef(cst.FunctionDef(name=cst.Name(name), params=node.params, body=body))

    def fstring(self, node: cst.FormattedString, scope: Scope) -> Value:
        out: list[str] = []
        for part in node.parts:
            if isinstance(part, cst.FormattedStringText):
                out.append(part.value.replace("{{", "{").replace("}}", "}"))
                continue
            assert isinstance(part, cst.FormattedStringExpression)
            value = self.eval(part.expression, scope)
            if isinstance(value, Unknown) or not _plain(value):
                return Unknown("f-string with a dynamic part", node)
            if part.conversion == "r":
                value = repr(value)
            elif part.conversion == "s":
                value = str(value)
            spec = ""
            if part.format_spec:
                spec_value = self.fstring(cst.FormattedString(parts=part.format_spec), scope)
                if isinstance(spec_value, Unknown):
                    return spec_value
                spec = str(spec_value)
                if _too_wide(spec):
                    return Unknown("f-string format width over the evaluator's limit", node)
            try:
                out.append(format(value, spec))
            except (TypeError, ValueError):
                return Unknown("f-string format", node)
        return "".join(out)

    def compare(self, node: cst.Comparison, scope: Scope) -> Value:
        left = self.eval(node.left, scope)
        for target in node.comparisons:
            right = self.eval(target.comparator, scope)
            if isinstance(left, Unknown) or isinstance(right, Unknown) or not (_plain(left) and _plain(right)):
                return Unknown("comparison of dynamic values", node)
            op = type(target.operator).__name__
            ops = {
                "Equal": lambda a, b: a == b, "NotEqual": lambda a, b: a != b, "LessThan": lambda a, b: a < b,
                "GreaterThan": lambda a, b: a > b, "LessThanEqual": lambda a, b: a <= b,
                "GreaterThanEqual": lambda a, b: a >= b, "In": lambda a, b: a in b, "NotIn": lambda a, b: a not in b,
                "Is": lambda a, b: a is b, "IsNot": lambda a, b: a is not b,
            }
            try:
                if not ops[op](left, right):
                    return False
            except Exception:
                return Unknown("comparison", node)
            left = right
        return True

    def comprehension(self, node: cst.ListComp | cst.GeneratorExp | cst.SetComp | cst.DictComp, scope: Scope) -> Value:
        inner = Scope(parent=scope)
        results: list[Value] = []

        def walk(comp: cst.CompFor | None) -> bool:
            if comp is None:
                if isinstance(node, cst.DictComp):
                    results.append((self.eval(node.key, inner), self.eval(node.value, inner)))
                else:
                    results.append(self.eval(node.elt, inner))
                return True
            items = self.iterate(self.eval(comp.iter, inner))
            if items is None:
                return False
            for item in items[:MAX_LOOP]:
                self.assign(comp.target, item, inner)
                keep = True
                for cond in comp.ifs:
                    test = self.eval(cond.test, inner)
                    if isinstance(test, Unknown):
                        return False
                    keep = keep and bool(test)
                if keep and not walk(comp.inner_for_in):
                    return False
            return True

        if not walk(node.for_in):
            return Unknown("comprehension over a dynamic value", node)
        if isinstance(node, cst.DictComp):
            return dict(results)
        return results

    def subscript(self, node: cst.Subscript, scope: Scope) -> Value:
        container = self.eval(node.value, scope)
        index = self._index(node, scope)
        if isinstance(container, XComArg) and isinstance(index, str):
            return XComArg(container.dag, container.task_id, index)
        if isinstance(container, Unknown) or isinstance(index, Unknown):
            return Unknown("subscript of a dynamic value", node)
        try:
            return container[index]
        except Exception:
            return Unknown("subscript", node)

    def _index(self, node: cst.Subscript, scope: Scope) -> Value:
        if len(node.slice) != 1:
            return Unknown("multi-dimensional subscript", node)
        element = node.slice[0].slice
        if isinstance(element, cst.Index):
            return self.eval(element.value, scope)
        if isinstance(element, cst.Slice):
            parts = [self.eval(p, scope) if p is not None else None for p in (element.lower, element.upper,
                                                                               element.step)]
            if any(isinstance(p, Unknown) for p in parts):
                return Unknown("dynamic slice", node)
            return slice(*parts)
        return Unknown("subscript", node)

    def binary(self, op: str, left: Value, right: Value, node: cst.CSTNode) -> Value:
        if op in ("RightShift", "LeftShift") and (is_task_like(left) or is_task_like(right)
                                                  or _task_list(left) or _task_list(right)):
            if op == "RightShift":
                return self.link(left, right, node)
            self.link(right, left, node)
            return right
        if op in ("RightShift", "LeftShift") and (isinstance(left, Unknown) or isinstance(right, Unknown)):
            # In a DAG file ``a >> b`` is a dependency; between values not known statically it is lost.
            unknown = left if isinstance(left, Unknown) else right
            self.report("AM103", node, f"dependency between values only known at run time ({unknown.why}); the "
                        "dependency is missing")
            return unknown
        if isinstance(left, Unknown):
            return left
        if isinstance(right, Unknown):
            return right
        if isinstance(left, ParseTime) and isinstance(right, Duration) and op in ("Add", "Subtract"):
            sign = 1 if op == "Add" else -1
            return ParseTime(left.offset + sign * right.seconds, left.time_of_day)
        if isinstance(left, Duration) and isinstance(right, Duration) and op in ("Add", "Subtract"):
            sign = 1 if op == "Add" else -1
            return Duration(left.seconds + sign * right.seconds)
        if isinstance(left, Duration) and isinstance(right, int | float) and op == "Multiply":
            return Duration(left.seconds * right)
        if not (_plain(left) and _plain(right)):
            return Unknown(f"{op} on non-constant values", node)
        if not _affordable(op, left, right):
            return Unknown(f"{op} whose result is over the evaluator's size limit", node)
        ops = {
            "Add": lambda a, b: a + b, "Subtract": lambda a, b: a - b, "Multiply": lambda a, b: a * b,
            "Divide": lambda a, b: a / b, "FloorDivide": lambda a, b: a // b, "Modulo": lambda a, b: a % b,
            "Power": lambda a, b: a**b, "BitOr": lambda a, b: a | b, "BitAnd": lambda a, b: a & b,
        }
        try:
            return _bounded(ops[op](left, right))
        except Exception:
            return Unknown(f"{op} operation", node)

    def attribute(self, owner: Value, attr: str, node: cst.CSTNode) -> Value:
        if isinstance(owner, Qual):
            if owner.last == "TriggerRule" and _airflow(owner):
                return attr.lower()  # a str enum: TriggerRule.ALL_DONE == "all_done"
            if attr in ("partial", "expand", "expand_kwargs") and owner.last[:1].isupper():
                return BoundMethod(owner, attr)  # SomeOperator.partial(...): dynamic task mapping
            return Qual(f"{owner.name}.{attr}")
        if isinstance(owner, PurePosixPath):
            if attr in ("stem", "name", "suffix"):
                return getattr(owner, attr)
            if attr == "parent":
                return owner.parent
            return Unknown(f"path attribute {attr!r}", node)
        if isinstance(owner, TaskRef):
            if attr == "output":
                return XComArg(owner.dag, owner.task_id)
            return BoundMethod(owner, attr)
        if isinstance(owner, DagRef):
            draft = self.dags[owner.dag]
            if attr == "dag_id":
                return draft.dag_id
            return BoundMethod(owner, attr)
        if isinstance(owner, XComArg | GroupRef | FuncDef | Mapped | LocalClass):
            return BoundMethod(owner, attr)
        if isinstance(owner, str | dict | list):
            return BoundMethod(owner, attr)
        if isinstance(owner, Duration) and attr == "total_seconds":
            return BoundMethod(owner, attr)
        if isinstance(owner, ParseTime) and attr == "time":
            return BoundMethod(owner, attr)
        if isinstance(owner, Unknown):
            return owner
        return Unknown(f"attribute {attr!r}", node)

    def iterate(self, value: Value) -> list[Value] | None:
        if isinstance(value, list | tuple | str):
            return list(value)
        if isinstance(value, dict):
            return list(value)
        return None

    # --- calls -------------------------------------------------------------------------------------------------

    def call(self, node: cst.Call, scope: Scope) -> Value:  # noqa: C901 - dispatch on what is called
        func = self.eval(node.func, scope)
        args: list[Value] = []
        kwargs: dict[str, Value] = {}
        splat = False
        for arg in node.args:
            value = self.eval(arg.value, scope)
            if arg.star == "**":
                if isinstance(value, dict):
                    kwargs.update(value)
                else:
                    splat = True
            elif arg.star == "*":
                items = self.iterate(value)
                if items is None:
                    splat = True
                else:
                    args.extend(items)
            elif arg.keyword is not None:
                kwargs[arg.keyword.value] = value
            else:
                args.append(value)

        if isinstance(func, BoundMethod):
            return self.call_method(func, args, kwargs, node)
        if isinstance(func, Qual):
            return self.call_qual(func, args, kwargs, node, splat)
        if isinstance(func, LocalClass):
            if "task_id" in kwargs or splat:
                return self.make_task(func.name, "", kwargs, node, splat=splat)
            return Unknown(f"instance of {func.name}", node)
        if isinstance(func, FuncDef):
            return self.call_function(func, args, kwargs, node)
        if callable(func) and func in _BUILTINS.values():
            if splat or not all(_plain(a) for a in [*args, *kwargs.values()]):
                return Unknown("builtin call on dynamic values", node)
            try:
                return func(*args, **kwargs)
            except Exception:
                return Unknown("builtin call", node)
        return Unknown("call of a dynamic value", node)

    def call_qual(self, func: Qual, args: list[Value], kwargs: dict[str, Value], node: cst.Call,
                  splat: bool) -> Value:
        last = func.last
        known = _KNOWN_CALLS.get(func.name)
        if known is not None:
            try:
                return known(*args, **kwargs)
            except Exception:
                return Unknown(f"call of {func.name}", node)
        if _airflow(func):
            if last in _DAG_CLASSES:
                return self.make_dag(args, kwargs, node)
            if last in _GROUP_CLASSES:
                return self.make_group(args, kwargs, node)
            if last in ("chain", "chain_linear"):
                self.chain(args, node)
                return None
            if last == "cross_downstream":
                if len(args) == 2:
                    for up in _flatten(args[0]):
                        for down in _flatten(args[1]):
                            self.link(up, down, node)
                return None
            if last == "Label":
                return LabelValue(str(args[0]) if args and isinstance(args[0], str) else str(kwargs.get("label")))
            if last == "Param":
                return {"__param__": True, "default": args[0] if args else kwargs.get("default"), **kwargs}
            if func.name.endswith("Variable.get"):
                key = kwargs.get("key", args[0] if args else None)
                if isinstance(key, str):
                    return AirflowVariable(key, kwargs.get("deserialize_json") is True)
                return Unknown("an Airflow Variable", node)
            if last == "is_venv_installed":
                # Airflow 2's examples build their virtualenv tasks only where virtualenv is importable; the
                # migrated tasks install their requirements themselves, so the answer that keeps them is right.
                self.report("AM123", node, "is_venv_installed() is assumed true (virtualenv available)")
                return True
            deco = decorator_name(func)
            if deco is not None:
                return _DecoratorFactory(deco, kwargs)
        if "task_id" in kwargs or last.endswith(("Operator", "Sensor")) or (splat and _airflow(func)):
            return self.make_task(last, func.name, kwargs, node, splat=splat)
        return Unknown(f"call of {func.name}", node)

    def call_method(self, method: BoundMethod, args: list[Value], kwargs: dict[str, Value],
                    node: cst.Call) -> Value:
        owner, name = method.owner, method.name
        if name in ("as_setup", "as_teardown") and isinstance(owner, TaskRef | XComArg):
            # Setup/teardown semantics are not translated yet; Airflow's edge setups >> teardown is kept.
            if name == "as_setup":
                self.dags[owner.dag].tasks[owner.task_id].kwargs["__setup__"] = True
            if name == "as_teardown":
                self.dags[owner.dag].tasks[owner.task_id].kwargs["__teardown__"] = True
                if kwargs.get("setups") is not None:
                    self.link(kwargs["setups"], owner, node)
            return owner
        if name in ("set_downstream", "set_upstream") and (is_task_like(owner) or _task_list(owner)):
            for other in args:
                if name == "set_downstream":
                    self.link(owner, other, node)
                else:
                    self.link(other, owner, node)
            return None
        if isinstance(owner, FuncDef) and name == "override":
            merged = {**dict(owner.decorator_kwargs), **kwargs}
            return FuncDef(owner.node, owner.decorator, tuple(merged.items()))
        if isinstance(owner, _DecoratorFactory):
            return owner
        if name == "partial" and isinstance(owner, FuncDef | Qual | LocalClass):
            return Mapped(owner, tuple(kwargs.items()))
        if name in ("expand", "expand_kwargs") and isinstance(owner, FuncDef | Mapped):
            target = owner.target if isinstance(owner, Mapped) else owner
            base = dict(owner.kwargs) if isinstance(owner, Mapped) else {}
            expanded = dict(kwargs) if name == "expand" else {"__expand_kwargs__": args[0] if args else None}
            if isinstance(target, FuncDef):
                return self.call_function(target, [], base, node, expanded=expanded)
            label = target.last if isinstance(target, Qual) else target.name
            qual = target.name if isinstance(target, Qual) else ""
            return self.make_task(label, qual, base, node, expanded=expanded)
        if isinstance(owner, str):
            if name == "format":
                # Only plain values, and only fields that name an argument: ``{0.__init__.__globals__}`` would
                # otherwise walk the evaluator's own objects and copy the host's environment into a manifest.
                if not all(_plain(a) for a in [*args, *kwargs.values()]) or not _safe_format(owner):
                    return Unknown("format with dynamic values", node)
                try:
                    return _bounded(owner.format(*args, **kwargs))
                except Exception:
                    return Unknown("str.format", node)
            if name in _STR_METHODS and all(_plain(a) for a in args):
                grows = max([len(owner) * len(a) for a in args if isinstance(a, str)] +
                            [a for a in args if isinstance(a, int)] + [0])
                if grows > MAX_ITEMS * 10:
                    return Unknown(f"str.{name} over the evaluator's size limit", node)
                try:
                    return _bounded(getattr(owner, name)(*args))
                except Exception:
                    return Unknown(f"str.{name}", node)
        if isinstance(owner, dict):
            if name == "items":
                return list(owner.items())
            if name == "keys":
                return list(owner)
            if name == "values":
                return list(owner.values())
            if name == "get":
                return owner.get(args[0], args[1] if len(args) > 1 else None) if args and _hashable(args[0]) else None
            if name == "update" and args and isinstance(args[0], dict):
                owner.update(args[0])
                return None
            if name == "copy":
                return dict(owner)
        if isinstance(owner, list):
            if name == "append" and args:
                owner.append(args[0])
                return None
            if name == "extend" and args:
                owner.extend(self.iterate(args[0]) or [])
                return None
        if isinstance(owner, Duration) and name == "total_seconds":
            return owner.seconds
        if isinstance(owner, ParseTime) and name == "time":
            return ParseTime(owner.offset, time_of_day=True)
        return Unknown(f"method {name!r}", node)

    def call_function(self, func: FuncDef, args: list[Value], kwargs: dict[str, Value], node: cst.Call,
                      expanded: dict[str, Value] | None = None) -> Value:
        deco = func.decorator
        if deco == "dag":
            return self.make_dag_from_function(func, kwargs, node)
        if deco == "task_group":
            return self.make_group_from_function(func, args, kwargs, node, expanded)
        if deco is not None:
            return self.make_taskflow(func, args, kwargs, node, expanded)
        return self.inline(func, args, kwargs, node)

    def inline(self, func: FuncDef, args: list[Value], kwargs: dict[str, Value], node: cst.CSTNode,
               scope_extra: dict[str, Value] | None = None) -> Value:
        """Run a helper function of the file on static arguments (it may create tasks)."""
        if self.depth >= MAX_DEPTH:
            return Unknown("recursion too deep", node)
        scope = Scope(parent=self.module_scope)
        self._bind_params(func, args, kwargs, scope)
        if scope_extra:
            scope.names.update(scope_extra)
        self.depth += 1
        try:
            self.exec_block(func.node.body.body if isinstance(func.node.body, cst.IndentedBlock) else
                            func.node.body.body, scope)
        except _Return as ret:
            return ret.value
        finally:
            self.depth -= 1
        return None

    def _bind_params(self, func: FuncDef, args: list[Value], kwargs: dict[str, Value], scope: Scope) -> None:
        params = func.node.params
        positional = [*params.posonly_params, *params.params]
        for i, param in enumerate(positional):
            name = param.name.value
            if i < len(args):
                scope.names[name] = args[i]
            elif name in kwargs:
                scope.names[name] = kwargs[name]
            elif param.default is not None:
                scope.names[name] = self.eval(param.default, self.module_scope)
            else:
                scope.names[name] = Unknown(f"parameter {name!r}")
        for param in params.kwonly_params:
            name = param.name.value
            if name in kwargs:
                scope.names[name] = kwargs[name]
            elif param.default is not None:
                scope.names[name] = self.eval(param.default, self.module_scope)

    # --- DAGs, groups, tasks -----------------------------------------------------------------------------------

    def make_dag(self, args: list[Value], kwargs: dict[str, Value], node: cst.CSTNode) -> Value:
        dag_id = kwargs.get("dag_id", args[0] if args else None)
        if not isinstance(dag_id, str):
            self.report("AM103", node, "dag_id is only known at run time; the DAG is not migrated")
            return Unknown("DAG with a dynamic id", node)
        line, col = self.pos(node)
        draft = DagDraft(len(self.dags), dag_id, line, col, kwargs=dict(kwargs))
        defaults = kwargs.get("default_args")
        if isinstance(defaults, dict):
            draft.default_args = dict(defaults)
        elif defaults is not None:
            self.report("AM103", node, "default_args is only known at run time; task defaults are not applied")
        self.dags.append(draft)
        return DagRef(draft.index)

    def make_dag_from_function(self, func: FuncDef, kwargs: dict[str, Value], node: cst.CSTNode) -> Value:
        dag_kwargs = dict(func.decorator_kwargs)
        dag_kwargs.setdefault("dag_id", func.name)
        ref = self.make_dag([], dag_kwargs, func.node)
        if not isinstance(ref, DagRef):
            return ref
        draft = self.dags[ref.dag]
        # The decorated function's own parameters become DAG params with their defaults.
        params = dict(draft.kwargs.get("params") or {}) if isinstance(draft.kwargs.get("params"), dict) else {}
        for param in func.node.params.params:
            if param.default is not None:
                params.setdefault(param.name.value, self.eval(param.default, self.module_scope))
        if params:
            draft.kwargs["params"] = params
        saved = (self.ctx.dag, list(self.ctx.groups))
        self.ctx.dag, self.ctx.groups = ref.dag, []
        try:
            self.inline(func, [], kwargs, node)
        finally:
            self.ctx.dag, self.ctx.groups = saved
        return ref

    def make_asset(self, func: FuncDef) -> None:
        """``@asset`` defines a DAG of one task at once: both named after the asset (Airflow 3)."""
        options = dict(func.decorator_kwargs)
        name = options.get("name") if isinstance(options.get("name"), str) else func.name
        dag_kwargs = {k: v for k, v in options.items() if k in ("schedule", "tags", "description", "catchup")}
        ref = self.make_dag([], {"dag_id": name, **dag_kwargs}, func.node)
        if not isinstance(ref, DagRef):
            return
        saved = (self.ctx.dag, list(self.ctx.groups))
        self.ctx.dag, self.ctx.groups = ref.dag, []
        try:
            self.make_task("@asset", "", {"task_id": func.name}, func.node, function=func)
        finally:
            self.ctx.dag, self.ctx.groups = saved

    def make_group(self, args: list[Value], kwargs: dict[str, Value], node: cst.CSTNode,
                   suffix_on_collision: bool = False) -> Value:
        group_id = kwargs.get("group_id", args[0] if args else None)
        dag_index = self._dag_for(kwargs, node, quiet=True)
        if dag_index is None:
            return Unknown("TaskGroup outside a DAG", node)
        if not isinstance(group_id, str):
            self.report("AM103", node, "TaskGroup id is only known at run time")
            return Unknown("TaskGroup with a dynamic id", node)
        full = self._qualify(group_id)
        if suffix_on_collision and full in self.dags[dag_index].groups:
            # Calling a @task_group function again makes a new group, named like Airflow's unique group ids.
            n = 1
            while f"{full}__{n}" in self.dags[dag_index].groups:
                n += 1
            full = f"{full}__{n}"
        key = (dag_index, full)
        self._group_prefix[key] = kwargs.get("prefix_group_id", True)
        parent_defaults = self.ctx.groups[-1][2] if self.ctx.groups else {}
        own_value = kwargs.get("default_args")
        own: dict[str, Any] = own_value if isinstance(own_value, dict) else {}
        self._group_defaults[key] = {**parent_defaults, **own}
        self.dags[dag_index].groups.setdefault(full, [])
        return GroupRef(dag_index, full)

    def make_group_from_function(self, func: FuncDef, args: list[Value], kwargs: dict[str, Value],
                                 node: cst.CSTNode, expanded: dict[str, Value] | None = None) -> Value:
        group_kwargs = dict(func.decorator_kwargs)
        group_kwargs.setdefault("group_id", func.name)
        group = self.make_group([], group_kwargs, node, suffix_on_collision=True)
        if not isinstance(group, GroupRef):
            return group
        saved = (self.ctx.dag, list(self.ctx.groups), self.ctx.mapped_group)
        prefix = bool(self._group_prefix.get((group.dag, group.group_id), True))
        self.ctx.dag = group.dag
        self.ctx.groups.append((group.group_id, prefix, self._group_defaults.get((group.dag, group.group_id), {})))
        if expanded is not None:
            # A mapped group: every task inside runs once per item; the function's parameters are the item's values.
            kwargs = {**kwargs, **{k: GroupItem(k) for k in expanded if not k.startswith("__")}}
            self.ctx.mapped_group = (group.group_id, expanded)
        try:
            result = self.inline(func, args, kwargs, node)
        finally:
            self.ctx.dag, self.ctx.groups, self.ctx.mapped_group = saved
        # Airflow returns the group itself, so ``tg() >> x`` links the group's leaves.
        return group if result is None or not is_task_like(result) else group

    @property
    def _group_prefix(self) -> dict[tuple[int, str], Any]:
        return self.__dict__.setdefault("_gp", {})

    @property
    def _group_defaults(self) -> dict[tuple[int, str], dict[str, Any]]:
        return self.__dict__.setdefault("_gd", {})

    def _qualify(self, local_id: str) -> str:
        for group_id, prefix, _ in reversed(self.ctx.groups):
            if prefix:
                return f"{group_id}.{local_id}"
        return local_id

    def _dag_for(self, kwargs: dict[str, Value], node: cst.CSTNode, quiet: bool = False) -> int | None:
        explicit = kwargs.get("dag")
        if isinstance(explicit, DagRef):
            return explicit.dag
        if "dag" in kwargs and explicit is not None and not quiet:
            self.report("AM103", node, "dag= is only known at run time")
            return None
        if self.ctx.dag is None and not quiet:
            self.report("AM107", node, "operator created outside any DAG context and without dag=; ignored")
        return self.ctx.dag

    def make_task(self, construct: str, qualname: str, kwargs: dict[str, Value], node: cst.CSTNode,
                  splat: bool = False, expanded: dict[str, Value] | None = None, function: FuncDef | None = None,
                  call_args: list[tuple[str | None, Value]] | None = None, unique: bool = False) -> Value:
        dag_index = self._dag_for(kwargs, node)
        if dag_index is None:
            return Unknown("task outside any DAG", node)
        draft = self.dags[dag_index]
        task_id = kwargs.get("task_id")
        line, col = self.pos(node)
        if not isinstance(task_id, str):
            self.report("AM103", node, "task_id is only known at run time; a placeholder id is used")
            task_id = f"dynamic_task_l{line}"
        full_id = self._qualify(task_id)
        if full_id in draft.tasks:
            if unique:
                # TaskFlow de-duplicates repeated calls the way Airflow's get_unique_task_id does.
                n = 1
                while f"{full_id}__{n}" in draft.tasks:
                    n += 1
                full_id = f"{full_id}__{n}"
            else:
                self.report("AM106", node, f"task_id {full_id!r} is already used in DAG {draft.dag_id!r}")
                return TaskRef(dag_index, full_id)
        merged = {**draft.default_args}
        for _, _, group_defaults in self.ctx.groups:
            merged.update(group_defaults)
        if isinstance(kwargs.get("default_args"), dict):
            merged.update(kwargs["default_args"])
        merged.update(kwargs)
        merged["task_id"] = task_id
        merged.pop("dag", None)
        if construct == "SubDagOperator" and not isinstance(kwargs.get("subdag"), DagRef):
            self.report("AM103", node, f"the sub-DAG of {full_id!r} is built by code argo-migrate does not run; the "
                        f"DAG {draft.dag_id}.{task_id} is not migrated")
        task = TaskDraft(full_id, construct, qualname, line, col, merged, function, call_args or [], expanded, splat)
        if self.ctx.mapped_group is not None:
            task.mapped_group, task.group_expanded = self.ctx.mapped_group
        draft.tasks[full_id] = task
        for group_id, _, _ in self.ctx.groups:
            draft.groups.setdefault(group_id, []).append(full_id)
        # Operator arguments that are task outputs are dependencies in Airflow too.
        group_args = self.ctx.mapped_group[1] if self.ctx.mapped_group else {}
        for producer in _xcom_producers([kwargs, [v for _, v in (call_args or [])], expanded or {}, group_args]):
            if producer.dag == dag_index and producer.task_id in draft.tasks:
                draft.add_edge(producer.task_id, full_id, data=True)
        return TaskRef(dag_index, full_id)

    def make_taskflow(self, func: FuncDef, args: list[Value], kwargs: dict[str, Value], node: cst.CSTNode,
                      expanded: dict[str, Value] | None) -> Value:
        options = dict(func.decorator_kwargs)
        options.setdefault("task_id", func.name)
        call_args: list[tuple[str | None, Value]] = [(None, a) for a in args]
        call_args += [(k, v) for k, v in kwargs.items() if not k.startswith("__")]
        ref = self.make_task(f"@{func.decorator}", "", options, node, expanded=expanded, function=func,
                             call_args=call_args, unique=True)
        if isinstance(ref, TaskRef):
            return XComArg(ref.dag, ref.task_id)
        return ref

    def link(self, left: Value, right: Value, node: cst.CSTNode) -> Value:
        """``left >> right``: Airflow links the leaves of ``left`` to the roots of ``right`` and returns right."""
        if isinstance(right, LabelValue):
            right.upstream.extend(_flatten(left))
            return right
        ups: list[tuple[int, str]] = []
        label = None
        for item in _flatten(left):
            if isinstance(item, LabelValue):
                label = item.text
                for up in item.upstream:
                    ups.extend(self._ends(up, "leaves", node))
            else:
                ups.extend(self._ends(item, "leaves", node))
        downs = [end for item in _flatten(right) for end in self._ends(item, "roots", node)]
        for dag_u, up in ups:
            for dag_d, down in downs:
                if dag_u != dag_d:
                    self.report("AM104", node, f"{up!r} and {down!r} belong to different DAGs")
                    continue
                self.dags[dag_u].add_edge(up, down)
                if label:
                    self.dags[dag_u].edge_labels[(up, down)] = label
        return right

    def _ends(self, value: Value, side: str, node: cst.CSTNode) -> list[tuple[int, str]]:
        if isinstance(value, TaskRef | XComArg):
            return [(value.dag, value.task_id)]
        if isinstance(value, GroupRef):
            draft = self.dags[value.dag]
            ids = draft.leaves(value.group_id) if side == "leaves" else draft.roots(value.group_id)
            return [(value.dag, t) for t in ids]
        if isinstance(value, Unknown):
            self.report("AM104", node, f"dependency on a value that is not a task ({value.why})")
        elif value is not None:
            self.report("AM104", node, f"dependency on {type(value).__name__}, which is not a task")
        return []

    def chain(self, args: list[Value], node: cst.CSTNode) -> None:
        for left, right in zip(args, args[1:], strict=False):
            if isinstance(left, list | tuple) and isinstance(right, list | tuple):
                if len(left) != len(right):
                    self.report("AM104", node, "chain() of lists of different lengths (Airflow rejects it)")
                    continue
                for a, b in zip(left, right, strict=True):
                    self.link(a, b, node)
            else:
                self.link(left, right, node)


@dataclass(frozen=True)
class _DecoratorFactory:
    """``task(python_callable=f)`` or ``task.virtualenv(...)`` used as a call rather than ``@``."""

    name: str
    kwargs: dict[str, Any]


def _dotted(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    return ""


def _plain(value: Value, depth: int = 0) -> bool:
    """A value made only of str, numbers, booleans, None, lists, tuples and dicts, all the way down: the only
    values that Python operations (format, %, +) may run on, so that no internal object is ever rendered."""
    if isinstance(value, str | int | float | bool | type(None)):
        return True
    if depth > 50:
        return False
    if isinstance(value, list | tuple):
        return all(_plain(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(_plain(k, depth + 1) and _plain(v, depth + 1) for k, v in value.items())
    return False


_FORMAT_FIELD = re.compile(r"(\d+|[A-Za-z_]\w*)?")
_WIDE = re.compile(r"\d+")


def _too_wide(spec: str) -> bool:
    return any(int(m.group()) > MAX_WIDTH for m in _WIDE.finditer(spec) if len(m.group()) < 12) or bool(
        re.search(r"\d{12,}", spec))


def _safe_format(fmt: str) -> bool:
    """Whether every replacement field of ``fmt`` names an argument (no attribute or index walk) and no width is
    over MAX_WIDTH."""
    try:
        fields = list(string.Formatter().parse(fmt))
    except ValueError:
        return False
    for _, field_name, spec, _ in fields:
        if field_name is None:
            continue
        if not _FORMAT_FIELD.fullmatch(field_name) or (spec and (not _safe_format(spec) or _too_wide(spec))):
            return False
    return True


def _affordable(op: str, left: Value, right: Value) -> bool:
    """Whether ``left op right`` stays within the evaluator's budget, judged before it is computed."""
    if op == "Multiply":
        for seq, times in ((left, right), (right, left)):
            if isinstance(seq, str | list | tuple) and isinstance(times, int) and len(seq) * max(times, 0) > MAX_ITEMS:
                return False
    if op == "Power" and isinstance(left, int) and isinstance(right, int) and abs(left) > 1:
        return right < 0 or right * abs(left).bit_length() <= MAX_INT_BITS
    if op == "Modulo" and isinstance(left, str):
        return not re.search(r"%[-#0 +]*(\*|\d{6,})", left)
    if op in ("Add",) and isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple):
        return len(left) + len(right) <= MAX_ITEMS * 10
    return True


def _bounded(value: Value) -> Value:
    """``value`` when it is within the size limits, else Unknown."""
    if isinstance(value, str | list | tuple | dict) and len(value) > MAX_ITEMS * 10:
        return Unknown("a value over the evaluator's size limit")
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
        return Unknown("an integer over the evaluator's size limit")
    return value


def _hashable(value: Value) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _task_list(value: Value) -> bool:
    return isinstance(value, list | tuple) and bool(value) and all(is_task_like(v) for v in value)


def _flatten(value: Value) -> list[Value]:
    if isinstance(value, list | tuple):
        return [v for item in value for v in _flatten(item)]
    return [value]


def _xcom_producers(value: Value) -> list[XComArg]:
    found: list[XComArg] = []
    if isinstance(value, XComArg):
        found.append(value)
    elif isinstance(value, list | tuple | set):
        for item in value:
            found.extend(_xcom_producers(item))
    elif isinstance(value, dict):
        for item in value.values():
            found.extend(_xcom_producers(item))
    return found


def _timedelta(days: float = 0, seconds: float = 0, microseconds: float = 0, milliseconds: float = 0,
               minutes: float = 0, hours: float = 0, weeks: float = 0) -> Duration:
    return Duration(_dt.timedelta(days=days, seconds=seconds, microseconds=microseconds, milliseconds=milliseconds,
                                  minutes=minutes, hours=hours, weeks=weeks).total_seconds())


def _datetime(year: int, month: int = 1, day: int = 1, hour: int = 0, minute: int = 0, second: int = 0,
              *rest: Any, tz: Any = None, tzinfo: Any = None) -> DateTime:
    zone = tz if isinstance(tz, str) else (tzinfo if isinstance(tzinfo, str) else None)
    return DateTime(_dt.datetime(year, month, day, hour, minute, second).isoformat(), zone)


def _time(hour: int = 0, minute: int = 0, second: int = 0, *rest: Any, **kw: Any) -> TimeOfDay:
    if not all(isinstance(v, int) for v in (hour, minute, second)):
        raise TypeError("dynamic time")
    return TimeOfDay(hour, minute, second)


def _days_ago(n: int, *rest: Any, **kw: Any) -> Unknown:
    return Unknown("days_ago() depends on the day the file is parsed")


def _path(*parts: Any) -> PurePosixPath:
    if not all(isinstance(p, str | PurePosixPath) for p in parts):
        raise TypeError("dynamic path")
    return PurePosixPath(*parts)


_KNOWN_CALLS: dict[str, Any] = {
    "pathlib.Path": _path,
    "pathlib.PurePath": _path,
    "os.path.basename": os.path.basename,
    "os.path.dirname": os.path.dirname,
    "os.path.splitext": lambda p: list(os.path.splitext(p)),
    "os.path.join": os.path.join,
    "textwrap.dedent": textwrap.dedent,
    "textwrap.indent": textwrap.indent,
    "datetime.timedelta": _timedelta,
    "datetime.datetime": _datetime,
    "pendulum.datetime": _datetime,
    "pendulum.duration": _timedelta,
    "datetime.time": _time,
    "datetime.datetime.now": lambda *a, **k: ParseTime(),
    "datetime.datetime.utcnow": lambda *a, **k: ParseTime(),
    "pendulum.now": lambda *a, **k: ParseTime(),
    "pendulum.time": _time,
    "airflow.utils.dates.days_ago": _days_ago,
    "pendulum.timezone": lambda name: name,
}

_STR_METHODS = {"lower", "upper", "strip", "lstrip", "rstrip", "replace", "join", "split", "title",
                "startswith", "endswith", "zfill"}

def _range(*args: int) -> list[int]:
    span = range(*args)
    if len(span) > MAX_ITEMS:
        raise ValueError("range over the evaluator's size limit")
    return list(span)


_BUILTINS: dict[str, Any] = {
    "range": _range,
    "len": len,
    "str": str,
    "int": int,
    "float": float,
    "bool": bool,
    "list": lambda *a: list(*a),
    "tuple": lambda *a: tuple(*a),
    "dict": lambda *a, **k: dict(*a, **k),
    "enumerate": lambda *a, **k: list(enumerate(*a, **k)),
    "zip": lambda *a: list(zip(*a, strict=False)),
    "sorted": lambda *a, **k: sorted(*a, **k),
    "reversed": lambda a: list(reversed(a)),
    "min": min,
    "max": max,
    "abs": abs,
}
