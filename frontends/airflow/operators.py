"""The Airflow construct registry: one row per operator or decorator, with its translator and documentation.

The support matrix in the docs and README is generated from ``REGISTRY`` (``argo-migrate matrix airflow``), so the
table and the code cannot disagree. A construct without a row runs the original operator with Airflow in a pod
(the ``airflow-task`` wrapper) and says so with AM102.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import libcst as cst

from frontends.airflow import jinja
from frontends.airflow.model import TaskDraft
from frontends.airflow.values import FuncDef, Unknown, XComArg
from migrator.ir import (
    Action,
    ContainerRun,
    Native,
    Noop,
    OutputRef,
    PyArg,
    PythonCall,
    Status,
    Text,
    Wrapped,
    WrappedStatus,
    text,
)

BASH_IMAGE = "bash:5.2"


@dataclass(frozen=True)
class Translation:
    action: Action
    status: Status = Native()
    outputs: tuple[str, ...] = ()
    notes: tuple[tuple[str, str], ...] = ()  # (code, message) diagnostics at the task's position


@dataclass
class TranslateContext:
    """What a translator may know beyond its own task: the file, the DAG's params, the other tasks."""

    path: str
    dag_id: str
    params: set[str]
    python_tasks: set[str]  # task ids whose return value is a native output
    extract_python: Callable[[FuncDef], Any]
    file_name: str = ""
    consumed: set[str] = field(default_factory=set)


Translator = Callable[[TaskDraft, TranslateContext], Translation]


@dataclass(frozen=True)
class OperatorRow:
    names: tuple[str, ...]  # operator class names, or "@task…" decorator names
    translate: Translator
    status: str  # native | wrapped
    handles: frozenset[str]  # operator arguments the translator reads
    doc: str
    example: str


class Untranslatable(Exception):
    """Raised inside a translator: the task is wrapped with this diagnostic code and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def wrap(task: TaskDraft, ctx: TranslateContext, code: str, reason: str) -> Translation:
    action = Wrapped("airflow-task", (("dag_id", ctx.dag_id), ("task_id", task.task_id), ("file", ctx.file_name)))
    return Translation(action, WrappedStatus("airflow-task", reason), notes=((code, reason),))


def templated(value: Any, ctx: TranslateContext, field_name: str) -> Text:
    """A templated operator field as IR text: Jinja translated by the table in ``jinja.py``, or Untranslatable."""
    if isinstance(value, XComArg):
        return (_output_ref(value, ctx),)
    if isinstance(value, Unknown):
        raise Untranslatable("AM103", f"{field_name} is only known at run time ({value.why})")
    if not isinstance(value, str | int | float):
        raise Untranslatable("AM103", f"{field_name} is not a string")
    value = str(value)
    result = jinja.translate(value, ctx.params)
    if result.text is None:
        raise Untranslatable("AM111", f"{field_name}: {result.problem}")
    return result.text


def _output_ref(value: XComArg, ctx: TranslateContext) -> OutputRef:
    if value.task_id not in ctx.python_tasks or value.key != "return_value":
        raise Untranslatable("AM117", f"the output {value.task_id}.{value.key} has no native translation yet")
    return OutputRef(value.task_id, value.key)


# --- translators -------------------------------------------------------------------------------------------------


def bash_operator(task: TaskDraft, ctx: TranslateContext) -> Translation:
    command = task.arg("bash_command")
    if isinstance(command, str) and command.strip().endswith((".sh", ".bash")):
        raise Untranslatable("AM111", "bash_command names a script file that Airflow renders as a template")
    return _bash(templated(command, ctx, "bash_command"), task, ctx)


def _bash(command: Text, task: TaskDraft, ctx: TranslateContext) -> Translation:
    env_value = task.arg("env")
    env: list[tuple[str, Text]] = []
    if isinstance(env_value, dict):
        for key in sorted(env_value, key=str):
            env.append((str(key), templated(env_value[key], ctx, f"env[{key!r}]")))
    elif env_value is not None:
        raise Untranslatable("AM103", "env is only known at run time")
    return Translation(ContainerRun(BASH_IMAGE, (text("bash"), text("-c")), (command,), tuple(env)))


def bash_decorator(task: TaskDraft, ctx: TranslateContext) -> Translation:
    func = task.function
    assert func is not None
    body = func.node.body.body
    statements = [s for s in body if not _is_docstring(s)]
    if len(statements) != 1 or not _returns_constant(statements[0]):
        raise Untranslatable("AM103", "the @task.bash function computes its command at run time")
    line = statements[0]
    assert isinstance(line, cst.SimpleStatementLine)
    ret = line.body[0]
    assert isinstance(ret, cst.Return) and isinstance(ret.value, cst.SimpleString)
    value = ret.value.evaluated_value
    if not isinstance(value, str):
        raise Untranslatable("AM103", "the @task.bash function does not return a plain string")
    return _bash(templated(value, ctx, "bash command"), task, ctx)


def _is_docstring(stmt: Any) -> bool:
    return (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1
            and isinstance(stmt.body[0], cst.Expr) and isinstance(stmt.body[0].value, cst.SimpleString))


def _returns_constant(stmt: Any) -> bool:
    return (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1
            and isinstance(stmt.body[0], cst.Return) and isinstance(stmt.body[0].value, cst.SimpleString))


def empty_operator(task: TaskDraft, ctx: TranslateContext) -> Translation:
    return Translation(Noop())


def python_operator(task: TaskDraft, ctx: TranslateContext) -> Translation:
    func = task.arg("python_callable")
    if not isinstance(func, FuncDef):
        raise Untranslatable("AM112", "python_callable is not a function defined in this file")
    args: list[tuple[str | None, Any]] = []
    op_args, op_kwargs = task.arg("op_args") or [], task.arg("op_kwargs") or {}
    if not isinstance(op_args, list | tuple) or not isinstance(op_kwargs, dict):
        raise Untranslatable("AM103", "op_args/op_kwargs are only known at run time")
    args += [(None, a) for a in op_args]
    args += [(str(k), v) for k, v in op_kwargs.items()]
    return _python(func, args, ctx)


def task_decorator(task: TaskDraft, ctx: TranslateContext) -> Translation:
    assert task.function is not None
    if dict(task.function.decorator_kwargs).get("multiple_outputs"):
        raise Untranslatable("AM115", "multiple_outputs is not translated yet")
    return _python(task.function, task.call_args, ctx)


def _python(func: FuncDef, args: list[tuple[str | None, Any]], ctx: TranslateContext) -> Translation:
    source = ctx.extract_python(func)
    if source.problem:
        raise Untranslatable("AM113", f"the callable {source.problem}")
    py_args: list[PyArg] = []
    for name, value in args:
        if isinstance(value, XComArg):
            py_args.append(PyArg(name, ref=_output_ref(value, ctx)))
        elif _literal(value):
            if isinstance(value, str) and jinja.has_jinja(value):
                raise Untranslatable("AM111", "a templated argument of the callable has no translation yet")
            py_args.append(PyArg(name, literal=repr(value)))
        else:
            raise Untranslatable("AM103", f"argument {name or len(py_args)} of the callable is only known at run "
                                 "time")
    call = PythonCall(func.name, source.source, source.preamble, tuple(py_args))
    return Translation(call, outputs=("return_value",))


def _literal(value: Any) -> bool:
    if isinstance(value, str | int | float | bool | type(None)):
        return True
    if isinstance(value, list | tuple):
        return all(_literal(v) for v in value)
    if isinstance(value, dict):
        return all(_literal(k) and _literal(v) for k, v in value.items())
    return False


REGISTRY: list[OperatorRow] = [
    OperatorRow(
        ("BashOperator",), bash_operator, "native", frozenset({"bash_command", "env", "append_env"}),
        "Container template running `bash -c <bash_command>` with `env` as container environment.",
        'BashOperator(task_id="hello", bash_command="echo hello")',
    ),
    OperatorRow(
        ("@task.bash",), bash_decorator, "native", frozenset(),
        "A `@task.bash` function that returns a constant command becomes the same container as BashOperator.",
        '@task.bash\ndef hello(): return "echo hello"',
    ),
    OperatorRow(
        ("PythonOperator",), python_operator, "native", frozenset({"python_callable", "op_args", "op_kwargs"}),
        "Script template carrying the callable's source, the imports, constants and helpers it uses; the return "
        "value becomes the `return_value` output parameter.",
        'PythonOperator(task_id="p", python_callable=f, op_args=[1])',
    ),
    OperatorRow(
        ("@task", "@task.python"), task_decorator, "native", frozenset({"multiple_outputs"}),
        "TaskFlow function → script template; arguments that are other tasks' outputs become input parameters fed "
        "from `{{tasks.<producer>.outputs.parameters.return_value}}`.",
        "@task\ndef extract(): return {'a': 1}",
    ),
    OperatorRow(
        ("EmptyOperator", "DummyOperator"), empty_operator, "native", frozenset(),
        "A template that does nothing (`true` in a tiny image); it only takes part in ordering.",
        'EmptyOperator(task_id="start")',
    ),
]

BY_NAME: dict[str, OperatorRow] = {name: row for row in REGISTRY for name in row.names}

# Arguments every operator accepts that the common part of the build translates (retries, trigger rules…) or that
# carry no behaviour Argo could reproduce (documentation, UI colours).
COMMON_ARGS = frozenset({
    "task_id", "retries", "retry_delay", "retry_exponential_backoff", "max_retry_delay", "execution_timeout",
    "trigger_rule", "default_args", "dag",
})
COSMETIC_ARGS = frozenset({
    "owner", "doc", "doc_md", "doc_rst", "doc_json", "doc_yaml", "task_display_name", "ui_color", "ui_fgcolor",
    "start_date", "tags", "description", "email", "do_xcom_push",
})
