"""The Python a TaskFlow or PythonOperator task carries: the callable's source plus what it needs from the file.

The callable is cut out of the DAG file with its decorators removed; the module-level imports, plain constants and
helper functions it refers to come along, so the script runs alone in a plain Python image. A callable that needs
Airflow itself (the task context, ``get_current_context``, Airflow exceptions) cannot run there: that is reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from frontends.airflow.dag_builder import Interpretation
from frontends.airflow.evaluator import Scope
from frontends.airflow.values import FuncDef, Qual

# Names Airflow injects into a callable's keyword arguments from the task context.
CONTEXT_KEYS = frozenset({
    "ti", "task_instance", "ds", "ds_nodash", "ts", "ts_nodash", "ts_nodash_with_tz", "logical_date",
    "execution_date", "dag", "dag_run", "params", "run_id", "task", "data_interval_start", "data_interval_end",
    "conf", "macros", "var", "conn", "templates_dict", "prev_ds", "next_ds", "outlets", "inlets",
    "triggering_asset_events", "triggering_dataset_events", "test_mode", "map_index_template", "expanded_ti_count",
    "prev_data_interval_start_success", "prev_data_interval_end_success", "prev_start_date_success",
    "prev_end_date_success", "inlet_events", "outlet_events", "task_instance_key_str",
})


# Airflow names a callable may use, because the context shim (context_shim.py) provides them.
SHIMMED_AIRFLOW_NAMES = frozenset({"get_current_context", "PokeReturnValue"})


# Stand-ins for small Airflow classes a callable may use without needing Airflow itself.
SHIM_DEFINITIONS = {
    "PokeReturnValue": (
        "class PokeReturnValue:  # argo-migrate: stands in for airflow.sdk.PokeReturnValue\n"
        "    def __init__(self, is_done, xcom_value=None):\n"
        "        self.is_done = is_done\n"
        "        self.xcom_value = xcom_value\n"
    ),
}


@dataclass(frozen=True)
class XComUse:
    task_ids: tuple[str, ...] | None  # None: not a literal (cannot be translated)
    key: str | None
    many: bool = False  # task_ids was a list: the call returns a list


@dataclass(frozen=True)
class PythonSource:
    source: str
    preamble: str
    problem: str | None = None  # why the callable cannot run without Airflow
    context_params: tuple[str, ...] = ()  # parameters Airflow fills from the task context
    context_kwargs: str | None = None  # the **kwargs parameter that receives the whole context, if it is used
    current_context: bool = False  # calls get_current_context()
    xcom_pulls: tuple[XComUse, ...] = ()
    xcom_pushes: tuple[str | None, ...] = ()  # keys pushed with ti.xcom_push (None: not a literal)

    @property
    def uses_context(self) -> bool:
        return bool(self.context_params or self.context_kwargs or self.current_context)


class _Names(cst.CSTVisitor):
    """Names a function reads, and names it binds itself (parameters, assignments, loops, imports, defs)."""

    def __init__(self) -> None:
        self.used: set[str] = set()
        self.bound: set[str] = set()

    def visit_Name(self, node: cst.Name) -> None:
        self.used.add(node.value)

    def visit_Param(self, node: cst.Param) -> None:
        self.bound.add(node.name.value)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._bind(node.target)

    def visit_For(self, node: cst.For) -> None:
        self._bind(node.target)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._bind(node.target)

    def visit_AsName(self, node: cst.AsName) -> None:
        self._bind(node.name)

    def visit_ImportAlias(self, node: cst.ImportAlias) -> None:
        if node.asname is None and isinstance(node.name, cst.Name):
            self.bound.add(node.name.value)
        elif node.asname is None and isinstance(node.name, cst.Attribute):
            root: cst.BaseExpression = node.name
            while isinstance(root, cst.Attribute):
                root = root.value
            if isinstance(root, cst.Name):
                self.bound.add(root.value)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.bound.add(node.name.value)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)  # ``x.attr`` reads x, not a variable called attr
        return False

    def _bind(self, target: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name):
            self.bound.add(target.value)
        elif isinstance(target, cst.Tuple | cst.List):
            for el in target.elements:
                self._bind(el.value)


class _XCom(cst.CSTVisitor):
    """Calls of ``xcom_pull`` / ``xcom_push`` with their literal arguments."""

    def __init__(self) -> None:
        self.pulls: list[XComUse] = []
        self.pushes: list[str | None] = []

    def visit_Call(self, node: cst.Call) -> None:
        if not isinstance(node.func, cst.Attribute):
            return
        method = node.func.attr.value
        positional = [a.value for a in node.args if a.keyword is None]
        keywords = {a.keyword.value: a.value for a in node.args if a.keyword is not None}
        if method == "xcom_pull":
            ids_node = keywords.get("task_ids", positional[0] if positional else None)
            key_node = keywords.get("key", positional[1] if len(positional) > 1 else None)
            key = "return_value" if key_node is None else _string(key_node)
            if isinstance(ids_node, cst.List | cst.Tuple):
                ids = [_string(e.value) for e in ids_node.elements]
                literal = None if any(i is None for i in ids) else tuple(i for i in ids if i is not None)
                self.pulls.append(XComUse(literal, key, many=True))
            else:
                single = _string(ids_node) if ids_node is not None else None
                self.pulls.append(XComUse((single,) if single else None, key))
        elif method == "xcom_push":
            key_node = keywords.get("key", positional[0] if positional else None)
            self.pushes.append(_string(key_node) if key_node is not None else None)


def _string(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def _free_names(node: cst.FunctionDef) -> set[str]:
    names = _Names()
    node.visit(names)
    return names.used - names.bound - {node.name.value}


def plain_literal(value: object) -> bool:
    """A value that ``repr`` turns into Python source that rebuilds it."""
    if isinstance(value, str | int | float | bool | type(None)):
        return True
    if isinstance(value, list | tuple):
        return all(plain_literal(v) for v in value)
    if isinstance(value, dict):
        return all(plain_literal(k) and plain_literal(v) for k, v in value.items())
    return False


def extract(func: FuncDef, info: Interpretation, module_scope: Scope) -> PythonSource:
    module = info.module
    imports = {imp.bound: imp.line for imp in info.imports}
    import_lines: list[str] = []
    constants: list[str] = []
    helpers: list[str] = []
    seen: set[str] = set()
    problem: str | None = None

    current_context = False
    shimmed: set[str] = set()

    def visit(node: cst.FunctionDef) -> None:
        nonlocal problem, current_context
        free = _free_names(node)
        for name in sorted(free):
            if name in seen:
                continue
            seen.add(name)
            if name in imports:
                value = module_scope.names.get(name)
                if isinstance(value, Qual) and (value.name == "airflow" or value.name.startswith("airflow.")):
                    if value.last == "get_current_context":
                        current_context = True
                    elif value.last in SHIMMED_AIRFLOW_NAMES:
                        shimmed.add(value.last)
                    else:
                        problem = problem or f"uses the Airflow API {value.name!r}"
                    continue
                import_lines.append(imports[name])
                continue
            value = module_scope.names.get(name)
            if isinstance(value, FuncDef) and value.decorator is None:
                visit(value.node.with_changes(decorators=[]))
                helpers.append(_code(module, value.node))
            elif name in module_scope.names and plain_literal(value):
                constants.append(f"{name} = {value!r}")

    bare = func.node.with_changes(decorators=[])
    visit(bare)
    params = func.node.params
    context_params = [p.name.value for p in (*params.params, *params.kwonly_params) if p.name.value in CONTEXT_KEYS]
    star = params.star_kwarg
    context_kwargs = None
    if isinstance(star, cst.Param):
        body = _Names()
        func.node.body.visit(body)
        if star.name.value in body.used:
            context_kwargs = star.name.value
    xcom = _XCom()
    bare.visit(xcom)
    stand_ins = [SHIM_DEFINITIONS[name] for name in sorted(shimmed)]
    preamble = "\n".join([*info.future_imports, *sorted(set(import_lines)), *stand_ins, *constants, *helpers])
    return PythonSource(_code(module, func.node), preamble, problem, tuple(context_params), context_kwargs,
                        current_context, tuple(xcom.pulls), tuple(xcom.pushes))


def _code(module: cst.Module, node: cst.FunctionDef) -> str:
    bare = node.with_changes(decorators=[], leading_lines=[])
    return module.code_for_node(bare).strip("\n") + "\n"
