"""Airflow Jinja in templated fields → IR text with typed references, by a table of recognised expressions.

Only what is translated exactly is accepted; anything else makes the caller wrap the task, because Argo passes
unknown ``{{…}}`` tags through literally and raw Jinja must never reach a container. The table (each row is a
function below, registered in ``TABLE``):

| Jinja | IR | Argo (rendered by the backend) |
|---|---|---|
| ``ds``, ``ds_nodash``, ``ts``, ``ts_nodash``, ``ts_nodash_with_tz`` | logical date, formatted | ``{{workflow.creationTimestamp.Y}}``… |
| ``logical_date``, ``execution_date``, ``data_interval_start``, ``data_interval_end`` | logical date (ISO) | idem |
| ``logical_date.strftime(FMT)``, ``macros.ds_format(ds, IN, FMT)`` | logical date in FMT | idem |
| ``macros.ds_add(ds, N)`` | logical date + N days | ``{{=sprig.date(…, sprig.dateModify(…))}}`` |
| ``run_id`` | run id | ``{{workflow.name}}`` |
| ``dag.dag_id``, ``task.task_id``, ``task_instance_key_str`` | constants (and the date) | literal text |
| ``params.NAME``, ``params['NAME']`` | workflow parameter NAME | ``{{workflow.parameters.NAME}}`` |
| ``dag_run.conf['K']``, ``dag_run.conf.get('K')``, ``dag_run.conf.K`` | key K of parameter ``dag_run_conf`` | ``{{=jsonpath(…)}}`` |
| ``var.value.X``, ``var.value['X']``, ``var.value.get('X')`` | parameter ``var_X`` from ConfigMap ``airflow-variables`` | ``{{workflow.parameters.var_X}}`` |
| ``var.json.X`` | idem (the JSON text) | idem |
| ``conn.C.host`` (``login``, ``password``, ``port``, ``schema``, ``extra``, ``conn_type``) | key of Secret ``airflow-conn-C`` | ``$(AM_SECRET_…)`` from ``secretKeyRef`` |
| ``ti.xcom_pull(task_ids='T')`` / ``task_instance.xcom_pull('T', key='K')`` | output K of upstream task T | ``{{inputs.parameters.…}}`` |

Airflow 3 schedules cron DAGs with ``CronTriggerTimetable``, so a run's logical date is its trigger time; Argo's
nearest equivalent is the workflow's creation time (UTC), which is what the backend renders. Under Airflow 2's
interval timetables ``ds`` is one interval earlier: callers diagnose that case (AM119).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import libcst as cst

from migrator.ir import OutputRef, Parameter, ParamRef, Ref, RunMeta, SecretRef, Text
from migrator.secrets import sensitive_name

VARIABLES_CONFIG_MAP = "airflow-variables"
# Variables whose names say they are credentials are read from this Secret instead (same keys).
VARIABLES_SECRET = "airflow-secret-variables"
DAG_RUN_CONF = "dag_run_conf"
CONN_FIELDS = ("host", "login", "password", "port", "schema", "extra", "conn_type")

_TAG = re.compile(r"\{\{(.*?)\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
_DATE_FORMATS = {
    "ds": "%Y-%m-%d",
    "ds_nodash": "%Y%m%d",
    "ts": "%Y-%m-%dT%H:%M:%S+00:00",
    "ts_nodash": "%Y%m%dT%H%M%S",
    "ts_nodash_with_tz": "%Y%m%dT%H%M%S+0000",
    "logical_date": "%Y-%m-%dT%H:%M:%S+00:00",
    "execution_date": "%Y-%m-%dT%H:%M:%S+00:00",
    "data_interval_start": "%Y-%m-%dT%H:%M:%S+00:00",
    "data_interval_end": "%Y-%m-%dT%H:%M:%S+00:00",
}


@dataclass
class JinjaContext:
    """What a templated field may refer to."""

    dag_id: str
    task_id: str
    params: set[str]
    # task id → outputs it declares, for the upstream tasks of this one (xcom_pull of anything else is refused)
    upstream_outputs: dict[str, set[str]] = field(default_factory=dict)
    task_params: Mapping[str, object] = field(default_factory=dict)  # the task's own params=, plain values


@dataclass
class JinjaResult:
    text: Text | None  # None when something could not be translated
    problem: str | None = None
    parameters: list[Parameter] = field(default_factory=list)  # workflow parameters the text needs
    reads_date: bool = False
    secret_variables: list[str] = field(default_factory=list)  # variables read from VARIABLES_SECRET


class _Untranslatable(Exception):
    pass


def has_jinja(value: str) -> bool:
    return _TAG.search(value) is not None


def translate(value: str, ctx: JinjaContext) -> JinjaResult:
    parts: list[str | Ref] = []
    result = JinjaResult(None)
    pos = 0
    for match in _TAG.finditer(value):
        if match.start() > pos:
            parts.append(value[pos : match.start()])
        inner = match.group(1)
        try:
            if inner is None:
                raise _Untranslatable("Jinja statements and comments have no translation")
            parts.extend(_expression(inner.strip(), ctx, result))
        except _Untranslatable as why:
            return JinjaResult(None, f"Jinja {match.group(0).strip()!r}: {why}")
        pos = match.end()
    if pos < len(value):
        parts.append(value[pos:])
    result.text = tuple(parts)
    return result


def _expression(source: str, ctx: JinjaContext, result: JinjaResult) -> list[str | Ref]:
    if "|" in source:
        raise _Untranslatable("filters are not translated")
    node = _parse(source)
    if node is None:
        raise _Untranslatable("not an expression argo-migrate understands")
    for row in TABLE:
        found = row(node, ctx, result)
        if found is not None:
            return found
    raise _Untranslatable("has no Argo translation yet")


@functools.lru_cache(maxsize=4096)
def _parse(source: str) -> cst.BaseExpression | None:
    """A DAG repeats the same few expressions (``ds``) in every task: parse each once (trees are immutable)."""
    try:
        return cst.parse_expression(source)
    except cst.ParserSyntaxError:
        return None


# --- helpers over LibCST expressions ------------------------------------------------------------------------------


def _dotted(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr.value}" if base else None
    return None


def _literal(node: cst.BaseExpression | None) -> object:
    if isinstance(node, cst.SimpleString):
        return node.evaluated_value
    if isinstance(node, cst.Integer):
        return int(node.value)
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        inner = _literal(node.expression)
        if isinstance(inner, int):
            return -inner
    if isinstance(node, cst.List | cst.Tuple):
        return [_literal(e.value) for e in node.elements]
    return _NOT_LITERAL


_NOT_LITERAL = object()


def _subscript_key(node: cst.Subscript) -> object:
    if len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
        return _literal(node.slice[0].slice.value)
    return _NOT_LITERAL


def _call(node: cst.BaseExpression) -> tuple[str, list[object], dict[str, object]] | None:
    if not isinstance(node, cst.Call):
        return None
    name = _dotted(node.func)
    if name is None:
        return None
    args = [_literal(a.value) for a in node.args if a.keyword is None]
    kwargs = {a.keyword.value: _literal(a.value) for a in node.args if a.keyword is not None}
    return name, args, kwargs


_FORMAT_DIRECTIVES = set("YmdHMSyjbBaAzZpI%")


def _date(fmt: str, result: JinjaResult, days: int = 0) -> list[str | Ref]:
    if any(d not in _FORMAT_DIRECTIVES for d in re.findall(r"%(.)", fmt)):
        raise _Untranslatable(f"the date format {fmt!r} has no Argo equivalent")
    if days and re.search(r"(?<!%)\d", re.sub(r"%.", "", fmt)):
        raise _Untranslatable(f"the date format {fmt!r} has literal digits")
    result.reads_date = True
    return [RunMeta("logical_date", fmt, days) if days else RunMeta("logical_date", fmt)]


# --- the table ---------------------------------------------------------------------------------------------------

Row = Callable[[cst.BaseExpression, JinjaContext, JinjaResult], "list[str | Ref] | None"]


def _dates(node: cst.BaseExpression, ctx: JinjaContext, result: JinjaResult) -> list[str | Ref] | None:
    name = _dotted(node)
    if name in _DATE_FORMATS:
        return _date(_DATE_FORMATS[name], result)
    return None


def _strftime(node: cst.BaseExpression, ctx: JinjaContext, result: JinjaResult) -> list[str | Ref] | None:
    call = _call(node)
    if call is None:
        return None
    name, args, _ = call
    dates = ("logical_date", "execution_date", "data_interval_start", "data_interval_end", "dag_run.logical_date")
    if name in {f"{d}.strftime" for d in dates}:
        if len(args) == 1 and isinstance(args[0], str):
            return _date(args[0], result)
    if name == "macros.ds_format" and len(args) == 3 and isinstance(args[2], str):
        first = node.args[0].value  # type: ignore[attr-defined]
        if _dotted(first) == "ds" and args[1] in ("%Y-%m-%d",):
            return _date(args[2], result)
    if name == "macros.ds_add" and len(args) == 2 and isinstance(args[1], int):
        if _dotted(node.args[0].value) == "ds":  # type: ignore[attr-defined]
            return _date("%Y-%m-%d", result, days=args[1])
    return None


def _run(node: cst.BaseExpression, ctx: JinjaContext, result: JinjaResult) -> list[str | Ref] | None:
    name = _dotted(node)
    if name in ("run_id", "dag_run.run_id"):
        return [RunMeta("run_id")]
    if name == "dag.dag_id":
        return [ctx.dag_id]
    if name == "task.task_id":
        return [ctx.task_id]
    if name == "task_instance_key_str":
        result.reads_date = True
        return [f"{ctx.dag_id}__{ctx.task_id}__", RunMeta("logical_date", "%Y%m%d")]
    return None


def _params(node: cst.BaseExpression, ctx: JinjaContext, result: JinjaResult) -> list[str | Ref] | None:
    key: object = _NOT_LITERAL
    if isinstance(node, cst.Attribute) and _dotted(node.value) == "params":
        key = node.attr.value
    elif isinstance(node, cst.Subscript) and _dotted(node.value) == "params":
        key = _subscript_key(node)
    if key is _NOT_LITERAL:
        return None
    if isinstance(key, str) and key in ctx.task_params:
        return [str(ctx.task_params[key])]  # a task's own params are constants of that task
    if not isinstance(key, str) or not re.fullmatch(r"[-A-Za-z0-9_]+", key):
        raise _Untranslatable("params with a key that is not a plain name")
    if key not in ctx.params:
        # Passed at trigger time (airflow dags trigger -c / tasks test -t): a parameter the submitter sets.
        result.parameters.append(Parameter(key, "", "not declared by the DAG: set it when submitting"))
    return [ParamRef(key)]


def _conf(node: cst.BaseExpression, ctx: JinjaContext, result: JinjaResult) -> list[str | Ref] | None:
    key: object = _NOT_LITERAL
    default: object = ""
    if isinstance(node, cst.Subscript) and _dotted(node.value) == "dag_run.conf":
        key = _subscript_key(node)
    elif isinstance(node, cst.Attribute) and _dotted(node.value) == "dag_run.conf":
        key = node.attr.value
    else:
        call = _call(node)
        if call and call[0] == "dag_run.conf.get" and call[1]:
            key = call[1][0]
            default = call[1][1] if len(call[1]) > 1 else ""
    if key is _NOT_LITERAL:
        return None
    if not isinstance(key, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key) or not isinstance(default, str):
        raise _Untranslatable("dag_run.conf with a key or default that is not a plain literal")
    result.parameters.append(Parameter(DAG_RUN_CONF, "{}", "JSON object: Airflow's dag_run.conf"))
    # jsonpath fails on a missing key, but indexing the decoded map gives nil, which ``??`` replaces by the
    # default (empty for a subscript, where Airflow would fail the task instead).
    expr = f"jsonpath(workflow.parameters.{DAG_RUN_CONF}, '$')['{key}']"
    return ["{{=" + f"{expr} ?? '{default}'" + "}}"]


def _variables(node: cst.BaseExpression, ctx: JinjaContext, result: JinjaResult) -> list[str | Ref] | None:
    key: object = _NOT_LITERAL
    for prefix in ("var.value", "var.json"):
        if isinstance(node, cst.Attribute) and _dotted(node.value) == prefix:
            key = node.attr.value
        elif isinstance(node, cst.Subscript) and _dotted(node.value) == prefix:
            key = _subscript_key(node)
        else:
            call = _call(node)
            if call and call[0] == f"{prefix}.get" and len(call[1]) == 1:
                key = call[1][0]
        if key is not _NOT_LITERAL:
            break
    if key is _NOT_LITERAL:
        return None
    if not isinstance(key, str) or not re.fullmatch(r"[-._a-zA-Z0-9]+", key):
        raise _Untranslatable("an Airflow Variable whose name is not a plain literal")
    if sensitive_name(key):
        result.secret_variables.append(key)
        return [SecretRef(VARIABLES_SECRET, key)]
    name = "var_" + re.sub(r"[^A-Za-z0-9_]", "_", key)
    result.parameters.append(Parameter(name, None, f"Airflow Variable {key!r}", (VARIABLES_CONFIG_MAP, key)))
    return [ParamRef(name)]


def _connections(node: cst.BaseExpression, ctx: JinjaContext, result: JinjaResult) -> list[str | Ref] | None:
    name = _dotted(node)
    if name is None or not name.startswith("conn."):
        return None
    parts = name.split(".")
    if len(parts) != 3 or parts[2] not in CONN_FIELDS:
        raise _Untranslatable("only conn.<id>.<field> of a connection is translated")
    return [SecretRef(f"airflow-conn-{parts[1].replace('_', '-').lower()}", parts[2])]


def _xcom(node: cst.BaseExpression, ctx: JinjaContext, result: JinjaResult) -> list[str | Ref] | None:
    call = _call(node)
    if call is None or call[0] not in ("ti.xcom_pull", "task_instance.xcom_pull"):
        return None
    _, args, kwargs = call
    task_ids = kwargs.get("task_ids", args[0] if args else _NOT_LITERAL)
    key = kwargs.get("key", args[1] if len(args) > 1 else "return_value")
    if not isinstance(task_ids, str) or not isinstance(key, str):
        raise _Untranslatable("xcom_pull of a task or key that is not a single literal")
    if task_ids not in ctx.upstream_outputs:
        raise _Untranslatable(f"xcom_pull from {task_ids!r}, which is not upstream of this task")
    if key not in ctx.upstream_outputs[task_ids]:
        raise _Untranslatable(f"{task_ids!r} has no native output {key!r}")
    return [OutputRef(task_ids, key)]


TABLE: list[Row] = [_dates, _strftime, _run, _params, _conf, _variables, _connections, _xcom]
