"""Records the DAGs, tasks and dependencies Airflow would build from a DAG file, by evaluating the file statically
(evaluator.py walks the LibCST tree in order, the way Python would run the module) — without importing or executing
anything.

The evaluator understands the subset of Python that DAG files use to build DAGs (constants, f-strings, loops over
literals, ``with`` contexts, helper functions of the same file); this module gives what they build its Airflow
meaning: DAG and TaskGroup contexts, operators and TaskFlow decorators, ``>>`` chains, ``chain()`` and
``set_upstream``. Every value that depends on run time is an :class:`~frontends.airflow.values.Unknown`, and where
such a value matters a diagnostic says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import libcst as cst

from frontends.airflow.evaluator import Evaluator, ModuleImport, Scope
from frontends.airflow.model import DagDraft, TaskDraft
from frontends.airflow.static_ops import KNOWN_CALLS, MAX_STEPS, BudgetExceeded
from frontends.airflow.values import (
    AirflowVariable,
    BoundMethod,
    DagRef,
    FuncDef,
    GroupItem,
    GroupRef,
    LabelValue,
    LocalClass,
    Mapped,
    Qual,
    TaskRef,
    Unknown,
    Value,
    XComArg,
    is_task_like,
)
from migrator.diagnostics import Diagnostic

DECORATOR_ROOTS = ("task", "dag", "task_group", "setup", "teardown", "asset")
# Airflow 2 and 3 register these context managers and functions under many module paths; the last segment of an
# airflow.* qualified name identifies them.
_DAG_CLASSES = {"DAG"}
_GROUP_CLASSES = {"TaskGroup"}


# Text that shows a statement may create DAGs, tasks or dependencies (used only to decide whether to warn).
_BUILDS_MARKERS = ("task_id", ">>", "<<", "DAG(", "@dag", "@task", "Operator(", "Sensor(", "TaskGroup(", "chain(",
                   "set_downstream", "set_upstream", "@asset", "@task_group")


@dataclass
class _Context:
    dag: int | None = None
    groups: list[tuple[str, bool, dict[str, Any]]] = field(default_factory=list)  # (group id, prefix, default_args)
    mapped_group: tuple[str, dict[str, Any]] | None = None  # (group id, its .expand arguments)


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


def _days_ago(n: int, *rest: Any, **kw: Any) -> Unknown:
    return Unknown("days_ago() depends on the day the file is parsed")


class DagBuilder(Evaluator):
    module_name = "airflow_dag_module"
    known_calls = {**KNOWN_CALLS, "airflow.utils.dates.days_ago": _days_ago}

    def __init__(self, path: str, module: cst.Module, source: str | None = None, tree: Any = None) -> None:
        super().__init__(path, module, source, tree)
        self.dags: list[DagDraft] = []
        self.ctx = _Context()
        self._group_prefix: dict[tuple[int, str], Any] = {}
        self._group_defaults: dict[tuple[int, str], dict[str, Any]] = {}

    # --- entry -------------------------------------------------------------------------------------------------

    def run(self) -> Interpretation:
        try:
            self.exec_module()
        except BudgetExceeded:
            self.report("AM126", self.statement, f"evaluating this file takes more than {MAX_STEPS:,} steps (a very large "
                        "loop or recursion); it is not migrated, as what it builds cannot all be seen")
            self.dags = []
        return Interpretation(self.dags, self.diagnostics, self.imports, self.future_imports, self.module)

    # --- what the evaluator assumed or skipped, where it matters to the DAGs -----------------------------------

    def optional_import_assumed(self, node: cst.Try) -> None:
        self.report("AM123", node, "an optional import is assumed to be available; where it is not, "
                    "Airflow runs the except branch instead")

    def statement_skipped(self, node: cst.While | cst.Match | cst.TryStar) -> None:
        if self._builds_tasks(node):
            self.report("AM115", node, f"a {type(node).__name__.lower()} statement that creates tasks is not "
                        "evaluated statically; its tasks are missing")

    def loop_skipped(self, node: cst.For) -> None:
        if self._builds_tasks(node.body):
            self.report("AM103", node.iter, "loop over a value only known at run time; tasks created in this "
                        "loop are missing")

    def branches_skipped(self, node: cst.If) -> None:
        if self._builds_tasks(node):
            self.report("AM103", node.test, "condition only known at run time; tasks created under it are "
                        "missing")

    def _builds_tasks(self, node: cst.CSTNode) -> bool:
        code = self.module.code_for_node(node)
        return any(marker in code for marker in _BUILDS_MARKERS)

    # --- statements --------------------------------------------------------------------------------------------

    def decorator_kind(self, value: Value) -> str | None:
        return decorator_name(value) if isinstance(value, Qual) else None

    def function_defined(self, func: FuncDef) -> None:
        if func.decorator == "asset":
            self.make_asset(func)

    def set_attribute(self, owner: Value, attr: str, value: Value) -> None:
        if isinstance(owner, DagRef) and attr in ("doc_md", "description"):
            self.dags[owner.dag].kwargs.setdefault(attr, value)
        elif isinstance(owner, TaskRef | XComArg):
            # ``task.trigger_rule = ...`` after construction: the same as passing it to the constructor.
            self.dags[owner.dag].tasks[owner.task_id].kwargs[attr] = value

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

    # --- values ------------------------------------------------------------------------------------------------

    def getitem(self, container: Value, index: Value, node: cst.CSTNode) -> Value:
        if isinstance(container, XComArg) and isinstance(index, str):
            return XComArg(container.dag, container.task_id, index)
        return super().getitem(container, index, node)

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
        return super().binary(op, left, right, node)

    def attribute(self, owner: Value, attr: str, node: cst.CSTNode) -> Value:
        if isinstance(owner, Qual):
            if owner.last == "TriggerRule" and _airflow(owner):
                return attr.lower()  # a str enum: TriggerRule.ALL_DONE == "all_done"
            if attr in ("partial", "expand", "expand_kwargs") and owner.last[:1].isupper():
                return BoundMethod(owner, attr)  # SomeOperator.partial(...): dynamic task mapping
        if isinstance(owner, TaskRef):
            if attr == "output":
                return XComArg(owner.dag, owner.task_id)
            return BoundMethod(owner, attr)
        if isinstance(owner, DagRef):
            draft = self.dags[owner.dag]
            if attr == "dag_id":
                return draft.dag_id
            return BoundMethod(owner, attr)
        if isinstance(owner, XComArg | GroupRef | Mapped):
            return BoundMethod(owner, attr)
        return super().attribute(owner, attr, node)

    # --- calls -------------------------------------------------------------------------------------------------

    def call_class(self, cls: LocalClass, args: list[Value], kwargs: dict[str, Value], node: cst.Call,
                   splat: bool) -> Value:
        if "task_id" in kwargs or splat:
            return self.make_task(cls.name, "", kwargs, node, splat=splat)
        return super().call_class(cls, args, kwargs, node, splat)

    def call_qual(self, func: Qual, args: list[Value], kwargs: dict[str, Value], node: cst.Call,
                  splat: bool) -> Value:
        if func.name in self.known_calls:
            return super().call_qual(func, args, kwargs, node, splat)
        last = func.last
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
        return super().call_qual(func, args, kwargs, node, splat)

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
        return super().call_method(method, args, kwargs, node)

    def call_function(self, func: FuncDef, args: list[Value], kwargs: dict[str, Value], node: cst.Call,
                      expanded: dict[str, Value] | None = None) -> Value:
        deco = func.decorator
        if deco == "dag":
            return self.make_dag_from_function(func, kwargs, node)
        if deco == "task_group":
            return self.make_group_from_function(func, args, kwargs, node, expanded)
        if deco is not None:
            return self.make_taskflow(func, args, kwargs, node, expanded)
        return super().call_function(func, args, kwargs, node)

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
        passed = [kwargs, [v for _, v in (call_args or [])], expanded or {}, group_args]
        for producer in _xcom_producers(passed):
            if producer.dag == dag_index and producer.task_id in draft.tasks:
                draft.add_edge(producer.task_id, full_id, data=True)
        # A task group's result passed as an argument: its leaves are upstream, as in Airflow (the value itself
        # is only known at run time, which the translator reports).
        for group in _xcom_producers(passed, GroupRef):
            if group.dag == dag_index:
                for leaf in draft.leaves(group.group_id):
                    draft.add_edge(leaf, full_id, data=True)
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


def _task_list(value: Value) -> bool:
    return isinstance(value, list | tuple) and bool(value) and all(is_task_like(v) for v in value)


def _flatten(value: Value) -> list[Value]:
    if isinstance(value, list | tuple):
        return [v for item in value for v in _flatten(item)]
    return [value]


def _xcom_producers(value: Value, kind: type = XComArg) -> list[Any]:
    """Every value of ``kind`` inside ``value`` (lists, tuples, sets and dict values searched)."""
    found: list[Any] = []
    if isinstance(value, kind):
        found.append(value)
    elif isinstance(value, list | tuple | set):
        for item in value:
            found.extend(_xcom_producers(item, kind))
    elif isinstance(value, dict):
        for item in value.values():
            found.extend(_xcom_producers(item, kind))
    return found
