"""A static evaluator of Python modules: walks the LibCST tree in order, the way Python would run the module, and
computes the values of its names — without importing or executing anything.

It understands the subset of Python that files which build objects as code use (constants, f-strings, loops over
literals, comprehensions, ``with`` statements, helper functions of the same file); every value that depends on run
time is an :class:`~frontends.airflow.values.Unknown`.

The evaluator gives no meaning to what a module builds. A subclass does: it extends the value-level methods
(:meth:`Evaluator.attribute`, :meth:`~Evaluator.getitem`, :meth:`~Evaluator.binary`, :meth:`~Evaluator.call_qual`,
:meth:`~Evaluator.call_method`, :meth:`~Evaluator.call_function`, :meth:`~Evaluator.call_class`) for the values it
adds, calling ``super()`` for the rest, and implements the hooks by which the evaluator says what it assumed or
could not run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

import libcst as cst

from frontends.airflow.positions import Positions
from frontends.airflow.static_ops import (
    BUILTINS,
    KNOWN_CALLS,
    MAX_DEPTH,
    MAX_ITEMS,
    MAX_LOOP,
    MAX_STEPS,
    STR_METHODS,
    BudgetExceeded,
    affordable,
    bounded,
    hashable,
    plain,
    safe_format,
    too_wide,
)
from frontends.airflow.values import (
    BoundMethod,
    Duration,
    FuncDef,
    LocalClass,
    ParseTime,
    Qual,
    Unknown,
    Value,
)
from migrator.diagnostics import Diagnostic, diag

# The DAGs folder of the official Airflow image (and the airflow-task wrapper's mount point).
AIRFLOW_DAGS_FOLDER = "/opt/airflow/dags"


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
        return BUILTINS.get(name, Unknown(f"name {name!r} is not defined statically"))


@dataclass
class ModuleImport:
    bound: str  # the name the import binds in the module
    line: str  # the import statement that binds just this name


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class Evaluator:
    # ``__name__`` as the evaluated module sees it: never "__main__", so that its script entry point is not run.
    module_name = "evaluated_module"
    # Qualified names whose calls the evaluator computes, by name; a subclass may add its own.
    known_calls: dict[str, Any] = KNOWN_CALLS

    def __init__(self, path: str, module: cst.Module, source: str | None = None, tree: Any = None) -> None:
        self.path = path
        self.module = module
        self.positions = Positions(module, module.code if source is None else source, tree)
        self.diagnostics: list[Diagnostic] = []
        self.imports: list[ModuleImport] = []
        self.future_imports: list[str] = []
        self.depth = 0
        self.steps = 0
        self.statement: cst.CSTNode | None = None  # the module-level statement being run, for AM126's position
        # __file__ is where Airflow imports the DAG file from: its DAGs folder (the official image's), never the
        # path typed here, which would leak this machine's folders into manifests and make the output depend on
        # where the sources are checked out. Path(__file__).stem, a common dag_id, stays known.
        self.module_scope = Scope({"__name__": self.module_name,
                                   "__file__": f"{AIRFLOW_DAGS_FOLDER}/{PurePosixPath(path).name}"})

    # --- diagnostics -------------------------------------------------------------------------------------------

    def pos(self, node: cst.CSTNode | None) -> tuple[int, int]:
        return self.positions.get(node, self.statement) if node is not None else (0, 0)

    def report(self, code: str, node: cst.CSTNode | None, message: str) -> None:
        line, col = self.pos(node)
        self.diagnostics.append(diag(code, self.path, line, col, message))

    # --- hooks: what the evaluator assumed or could not run; a subclass decides whether it matters -------------

    def optional_import_assumed(self, node: cst.Try) -> None:
        """``try: import x / except ImportError``: the body was run, as if the import were available."""

    def statement_skipped(self, node: cst.While | cst.Match | cst.TryStar) -> None:
        """A statement the evaluator does not run at all."""

    def loop_skipped(self, node: cst.For) -> None:
        """A ``for`` loop over a value only known at run time: its body was not run."""

    def branches_skipped(self, node: cst.If) -> None:
        """An ``if`` whose condition is only known at run time: none of its branches was run."""

    # --- hooks: what definitions and attribute assignments mean to a subclass ----------------------------------

    def function_defined(self, func: FuncDef) -> None:
        """A ``def`` was just bound in its scope."""

    def decorator_kind(self, value: Value) -> str | None:
        """The kind of function a decorator makes (recorded as ``FuncDef.decorator``), None for any other."""
        return None

    def set_attribute(self, owner: Value, attr: str, value: Value) -> None:
        """``owner.attr = value``: the evaluator keeps no attributes of its own."""

    # --- entry -------------------------------------------------------------------------------------------------

    def exec_module(self) -> None:
        self.exec_block(self.module.body, self.module_scope, top=True)

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
            self.function_defined(func)
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
                self.optional_import_assumed(stmt)
            self.exec_block(stmt.body.body, scope, top)
        elif isinstance(stmt, cst.While | cst.Match | cst.TryStar):
            self.statement_skipped(stmt)

    def _guards_import(self, node: cst.Try) -> bool:
        handles_import_error = any(
            h.type is not None and "ImportError" in self.module.code_for_node(h.type) for h in node.handlers)
        imports = any(isinstance(small, cst.Import | cst.ImportFrom)
                      for line in node.body.body if isinstance(line, cst.SimpleStatementLine) for small in line.body)
        return handles_import_error and imports

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
            self.set_attribute(self.eval(target.value, scope), target.attr.value, value)

    def define_function(self, node: cst.FunctionDef, scope: Scope) -> FuncDef:
        name: str | None = None
        kwargs: dict[str, Value] = {}
        for dec in node.decorators:
            expr = dec.decorator
            call_kwargs: dict[str, Value] = {}
            if isinstance(expr, cst.Call):
                call_kwargs = {a.keyword.value: self.eval(a.value, scope) for a in expr.args if a.keyword}
                expr = expr.func
            found = self.decorator_kind(self.eval(expr, scope))
            if found is not None:
                # Decorators that have a kind may stack (``@a.b`` over ``@c``): the outermost one names the kind.
                name = name or found
                kwargs = {**call_kwargs, **kwargs}
        return FuncDef(node, name, tuple(kwargs.items()))

    def exec_with(self, node: cst.With, scope: Scope) -> None:
        for item in node.items:
            value = self.eval(item.item, scope)
            if item.asname is not None:
                self.assign(item.asname.name, value, scope)
        self.exec_block(node.body.body, scope)

    def exec_for(self, node: cst.For, scope: Scope) -> None:
        iterable = self.iterate(self.eval(node.iter, scope))
        if iterable is None:
            self.loop_skipped(node)
            return
        for item in iterable[:MAX_LOOP]:
            self.assign(node.target, item, scope)
            self.exec_block(node.body.body, scope)

    def exec_if(self, node: cst.If, scope: Scope) -> None:
        test = self.eval(node.test, scope)
        if isinstance(test, Unknown):
            self.branches_skipped(node)
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
            value = node.evaluated_value
            if isinstance(value, str) and not _utf8(value):
                return Unknown("a string that is not valid Unicode (a lone surrogate)", node)
            return value
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
                    if isinstance(key, Unknown) or not hashable(key):
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
            if isinstance(value, Unknown) or not plain(value):
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
                if too_wide(spec):
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
            if isinstance(left, Unknown) or isinstance(right, Unknown) or not (plain(left) and plain(right)):
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
        return self.getitem(container, self._index(node, scope), node)

    def getitem(self, container: Value, index: Value, node: cst.CSTNode) -> Value:
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
        if not (plain(left) and plain(right)):
            return Unknown(f"{op} on non-constant values", node)
        if not affordable(op, left, right):
            return Unknown(f"{op} whose result is over the evaluator's size limit", node)
        ops = {
            "Add": lambda a, b: a + b, "Subtract": lambda a, b: a - b, "Multiply": lambda a, b: a * b,
            "Divide": lambda a, b: a / b, "FloorDivide": lambda a, b: a // b, "Modulo": lambda a, b: a % b,
            "Power": lambda a, b: a**b, "BitOr": lambda a, b: a | b, "BitAnd": lambda a, b: a & b,
        }
        try:
            return bounded(ops[op](left, right))
        except Exception:
            return Unknown(f"{op} operation", node)

    def attribute(self, owner: Value, attr: str, node: cst.CSTNode) -> Value:
        if isinstance(owner, Qual):
            return Qual(f"{owner.name}.{attr}")
        if isinstance(owner, PurePosixPath):
            if attr in ("stem", "name", "suffix"):
                return getattr(owner, attr)
            if attr == "parent":
                return owner.parent
            return Unknown(f"path attribute {attr!r}", node)
        if isinstance(owner, FuncDef | LocalClass):
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

    def call(self, node: cst.Call, scope: Scope) -> Value:
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
            return self.call_class(func, args, kwargs, node, splat)
        if isinstance(func, FuncDef):
            return self.call_function(func, args, kwargs, node)
        if callable(func) and func in BUILTINS.values():
            if splat or not all(plain(a) for a in [*args, *kwargs.values()]):
                return Unknown("builtin call on dynamic values", node)
            try:
                return func(*args, **kwargs)
            except Exception:
                return Unknown("builtin call", node)
        return Unknown("call of a dynamic value", node)

    def call_qual(self, func: Qual, args: list[Value], kwargs: dict[str, Value], node: cst.Call,
                  splat: bool) -> Value:
        known = self.known_calls.get(func.name)
        if known is not None:
            try:
                return known(*args, **kwargs)
            except Exception:
                return Unknown(f"call of {func.name}", node)
        return Unknown(f"call of {func.name}", node)

    def call_class(self, cls: LocalClass, args: list[Value], kwargs: dict[str, Value], node: cst.Call,
                   splat: bool) -> Value:
        return Unknown(f"instance of {cls.name}", node)

    def call_method(self, method: BoundMethod, args: list[Value], kwargs: dict[str, Value],
                    node: cst.Call) -> Value:
        owner, name = method.owner, method.name
        if isinstance(owner, str):
            if name == "format":
                # Only plain values, and only fields that name an argument: ``{0.__init__.__globals__}`` would
                # otherwise walk the evaluator's own objects and copy the host's environment into a manifest.
                if not all(plain(a) for a in [*args, *kwargs.values()]) or not safe_format(owner):
                    return Unknown("format with dynamic values", node)
                try:
                    return bounded(owner.format(*args, **kwargs))
                except Exception:
                    return Unknown("str.format", node)
            if name in STR_METHODS and all(plain(a) for a in args):
                grows = max([len(owner) * len(a) for a in args if isinstance(a, str)] +
                            [a for a in args if isinstance(a, int)] + [0])
                if grows > MAX_ITEMS * 10:
                    return Unknown(f"str.{name} over the evaluator's size limit", node)
                try:
                    return bounded(getattr(owner, name)(*args))
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
                return owner.get(args[0], args[1] if len(args) > 1 else None) if args and hashable(args[0]) else None
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

    def call_function(self, func: FuncDef, args: list[Value], kwargs: dict[str, Value], node: cst.Call) -> Value:
        return self.inline(func, args, kwargs, node)

    def inline(self, func: FuncDef, args: list[Value], kwargs: dict[str, Value], node: cst.CSTNode,
               scope_extra: dict[str, Value] | None = None) -> Value:
        """Run a helper function of the file on static arguments (what it builds counts like any statement's)."""
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


def _dotted(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    return ""
