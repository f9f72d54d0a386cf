"""What every translator shares: its result, what it may know of the DAG, and the helpers for templated fields."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from frontends.airflow import jinja
from frontends.airflow.model import TaskDraft
from frontends.airflow.python_source import PythonSource
from frontends.airflow.values import AirflowVariable, FuncDef, GroupItem, Unknown, XComArg
from migrator.ir import (
    Action,
    ItemRef,
    Loop,
    Native,
    OutputRef,
    Parameter,
    ParamRef,
    Ref,
    Resources,
    Retry,
    SecretRef,
    Status,
    Text,
)
from migrator.secrets import sensitive_name

if TYPE_CHECKING:
    from frontends.airflow.wrapping import FileFacts


@dataclass(frozen=True)
class Translation:
    action: Action
    status: Status = Native()
    outputs: tuple[str, ...] = ()
    notes: tuple[tuple[str, str], ...] = ()  # (code, message) diagnostics at the task's position
    loop: Loop | None = None
    # Conditions this task puts on others: downstream task id → the output of this task that must be "true"; with
    # ``gate_descendants`` every descendant is gated by the (single) output.
    gates: dict[str, str] = field(default_factory=dict)
    gate_descendants: bool = False
    retry: Retry | None = None  # overrides the task's own retries (a sensor's polling, say)
    resources: Resources | None = None
    arguments: tuple[tuple[str, Text], ...] = ()  # values passed to the action's inputs (a wrapper's parameters)


@dataclass
class TranslateContext:
    """What a translator may know beyond its own task: the file, the DAG's params, the tasks before it."""

    path: str
    dag_id: str
    file_name: str
    airflow3: bool
    params: dict[str, bool]  # DAG param name → whether its value is JSON rather than a plain string
    outputs: dict[str, set[str]]  # task id → outputs it declares (tasks already translated)
    extract_python: Callable[[FuncDef], PythonSource]
    # Whether a task is upstream of the task being translated: asked only about producers of outputs, so that
    # translating N tasks never computes N ancestor sets.
    is_upstream: Callable[[str], bool] = lambda _: False
    downstream: list[str] = field(default_factory=list)  # direct downstream task ids of the task
    consumed_keys: dict[str, set[str]] = field(default_factory=dict)  # producer → XCom keys read downstream
    mapped_group_of: dict[str, str] = field(default_factory=dict)  # task id → the mapped @task_group it is in
    parameters: list[Parameter] = field(default_factory=list)  # workflow parameters the translations need
    reads_date: bool = False
    secret_variables: list[str] = field(default_factory=list)  # Variables read from jinja.VARIABLES_SECRET
    file_facts: FileFacts | None = None  # what a wrapped task of this file needs (its Airflow major, Variables)
    multiple_outputs: frozenset[str] = frozenset()  # tasks with multiple_outputs=True (each dict key is an XCom)

    def upstream_outputs(self) -> dict[str, set[str]]:
        return {t: names for t, names in self.outputs.items() if names and self.is_upstream(t)}


Translator = Callable[[TaskDraft, TranslateContext], Translation]


class Untranslatable(Exception):
    """Raised inside a translator: the task is wrapped with this diagnostic code and message."""

    def __init__(self, code: str, message: str, producer: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        # The upstream task whose XCom could not be passed natively: wrapped too, it gives Airflow's own XComs.
        self.producer = producer


def wrap(task: TaskDraft, ctx: TranslateContext, code: str, reason: str) -> Translation:
    """The task runs its own operator with Airflow (the ``airflow-task`` wrapper): upstream XComs, Connections and
    Variables passed as ``wrapping`` finds them; a mapped task loops, each iteration naming its map index."""
    from frontends.airflow import wrapping

    facts = ctx.file_facts or wrapping.FileFacts(ctx.file_name, wrapping.Major(3, wrapping.DEFAULT.why), ())
    action, status, arguments = wrapping.wrapped(task, ctx.dag_id, facts, ctx.upstream_outputs(), reason,
                                                 ctx.multiple_outputs)
    notes: tuple[tuple[str, str], ...] = ((code, reason),)
    loop: Loop | None = None
    if task.expanded is not None:
        try:
            found = _mapping(dict(task.expanded), ctx)
        except Untranslatable as why:
            notes += (("AM115", f"the mapping (.expand) of this wrapped task is not reproduced: {why.message}"),)
        else:
            if found.loop.items is not None:
                # Airflow numbers the expansion in this order; each iteration passes its index.
                loop = Loop(items=tuple(str(i) for i in range(len(found.loop.items))))
                arguments += (("map-index", (ItemRef(),)),)
            else:
                loop = found.loop
                arguments += (("map-item", (ItemRef(),)),)
    return Translation(action, status, outputs=wrapping.OUTPUTS, notes=notes, loop=loop, arguments=arguments)


def output_ref(value: XComArg, ctx: TranslateContext) -> OutputRef:
    if not ctx.is_upstream(value.task_id):
        raise Untranslatable("AM117", f"the output of {value.task_id!r} is read by a task that is not downstream")
    if value.key not in ctx.outputs.get(value.task_id, set()):
        raise Untranslatable("AM117", f"the output {value.task_id}.{value.key} has no native translation yet",
                             producer=value.task_id)
    return OutputRef(value.task_id, value.key)


def variable_ref(value: AirflowVariable, ctx: TranslateContext) -> ParamRef | SecretRef:
    """An Airflow Variable read at run time: a workflow parameter fed from the ConfigMap of variables, or, when its
    name says it is a credential, a reference to the Secret of variables (never a parameter anyone can read)."""
    if sensitive_name(value.key):
        ctx.secret_variables.append(value.key)
        return SecretRef(jinja.VARIABLES_SECRET, value.key)
    name = "var_" + re.sub(r"[^A-Za-z0-9_]", "_", value.key)
    ctx.parameters.append(Parameter(name, None, f"Airflow Variable {value.key!r}",
                                    (jinja.VARIABLES_CONFIG_MAP, value.key)))
    return ParamRef(name)


def templated(value: Any, task: TaskDraft, ctx: TranslateContext, field_name: str) -> Text:
    """A templated operator field as IR text: Jinja translated by the table in ``jinja.py``, or Untranslatable."""
    if isinstance(value, XComArg):
        return (output_ref(value, ctx),)
    if isinstance(value, AirflowVariable):
        return (variable_ref(value, ctx),)
    if isinstance(value, Unknown):
        raise Untranslatable("AM103", f"{field_name} is only known at run time ({value.why})")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise Untranslatable("AM103", f"{field_name} is not a string")
    own = task.arg("params")
    task_params = {str(k): v for k, v in own.items() if isinstance(v, str | int | float | bool)} \
        if isinstance(own, dict) else {}
    jctx = jinja.JinjaContext(ctx.dag_id, task.task_id, set(ctx.params), ctx.upstream_outputs(), task_params)
    result = jinja.translate(str(value), jctx)
    if result.text is None:
        raise Untranslatable("AM111", f"{field_name}: {result.problem}")
    ctx.parameters.extend(result.parameters)
    ctx.secret_variables.extend(result.secret_variables)
    ctx.reads_date = ctx.reads_date or result.reads_date
    return result.text


# --- dynamic task mapping ----------------------------------------------------------------------------------------


@dataclass
class Mapping:
    """How a mapped task fans out, and what each expanded argument becomes inside one instance."""

    loop: Loop
    refs: dict[str, Ref]  # expanded argument name → its per-instance reference
    # The task's own .expand() (its arguments); False for a task of a mapped @task_group, whose arguments refer to
    # the group's items (GroupItem values) instead.
    own: bool = True


MAX_ITEMS = 10_000


def mapping(task: TaskDraft, ctx: TranslateContext) -> Mapping | None:
    """``.expand(x=[...])`` → withItems; ``.expand(x=upstream_output)`` → withParam; None when the task itself is
    not mapped (a task of a mapped task group is not: its group loops, see :func:`group_mapping`)."""
    if task.expanded is not None:
        return _mapping(dict(task.expanded), ctx)
    return None


def group_mapping(task: TaskDraft, ctx: TranslateContext) -> Mapping | None:
    """The loop of the mapped task group ``task`` belongs to, and what each of the group's arguments is inside one
    iteration (an item reference), or None outside any mapped group."""
    if task.group_expanded is None:
        return None
    found = _mapping(dict(task.group_expanded), ctx)
    found.own = False
    return found


def group_item_ref(value: GroupItem, found: Mapping | None) -> Ref:
    if found is None or found.own or value.key not in found.refs:
        raise Untranslatable("AM115", f"the mapped task group's {value.key!r} cannot be passed here")
    return found.refs[value.key]


def _mapping(expanded: dict[str, Any], ctx: TranslateContext) -> Mapping:
    if "__expand_kwargs__" in expanded:
        rows = expanded["__expand_kwargs__"]
        if isinstance(rows, XComArg):
            raise Untranslatable("AM115", "expand_kwargs over a task output is not translated yet")
        if not isinstance(rows, list) or not all(isinstance(r, dict) and _json_ok(r) for r in rows):
            raise Untranslatable("AM103", "expand_kwargs over a value only known at run time")
        keys = sorted({k for r in rows for k in r})
        items = tuple(json.dumps(r, sort_keys=True) for r in rows)
        return Mapping(Loop(items=items), {k: ItemRef(k) for k in keys})
    dynamic = {k: v for k, v in expanded.items() if isinstance(v, XComArg)}
    literal = {k: v for k, v in expanded.items() if k not in dynamic}
    if dynamic:
        if len(dynamic) > 1 or literal:
            raise Untranslatable("AM115", "mapping over a task output combined with other arguments is not "
                                 "translated yet")
        (name, value), = dynamic.items()
        return Mapping(Loop(over=output_ref(value, ctx)), {name: ItemRef()})
    for name, value in literal.items():
        if not isinstance(value, list | tuple) or not _json_ok(list(value)):
            raise Untranslatable("AM103", f"expand({name}=...) over a value only known at run time")
    if len(literal) == 1:
        (name, values), = literal.items()
        return Mapping(Loop(items=tuple(json.dumps(v, sort_keys=True) for v in values)), {name: ItemRef()})
    names = sorted(literal)
    # Several expanded arguments: Airflow maps over their cross product.
    product = list(itertools.product(*(literal[n] for n in names)))
    if len(product) > MAX_ITEMS:
        raise Untranslatable("AM115", f"mapping over {len(product)} combinations")
    items = tuple(json.dumps(dict(zip(names, combo, strict=True)), sort_keys=True) for combo in product)
    return Mapping(Loop(items=items), {n: ItemRef(n) for n in names})


def _json_ok(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True
