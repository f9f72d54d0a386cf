"""Python callables → script templates: PythonOperator, ``@task`` and their variants.

The script carries the callable's source and what it needs from the file (see ``python_source.py``); arguments that
are other tasks' outputs arrive as JSON in environment variables; a callable that reads the Airflow context gets the
rebuilt context of ``context_shim.py``. Variants differ only in the result handling (return value, branch decision,
short-circuit flag, bash command, sensor polling), the image and the requirements to install.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import libcst as cst

from frontends.airflow import context_shim, harness
from frontends.airflow.model import TaskDraft
from frontends.airflow.python_source import plain_literal
from frontends.airflow.translate import (
    TranslateContext,
    Translation,
    Untranslatable,
    group_item_ref,
    group_mapping,
    mapping,
    output_ref,
    templated,
    variable_ref,
)
from frontends.airflow.values import AirflowVariable, FuncDef, GroupItem, Unknown, XComArg
from migrator.ir import ItemRef, Parameter, PyArg, PythonCall, Text, plain


@dataclass(frozen=True)
class Variant:
    result: str = "return"  # what the return value means: see frontends/airflow/harness.py
    requirements: tuple[str, ...] = ()
    image: str | None = None
    poll: tuple[int, int] | None = None
    soft_fail: bool = False
    gate_descendants: bool = False  # short-circuit: a false result skips every descendant


def translate_callable(func: FuncDef, args: list[tuple[str | None, Any]], task: TaskDraft, ctx: TranslateContext,
                       variant: Variant = Variant()) -> Translation:
    source = ctx.extract_python(func)
    if source.problem:
        raise Untranslatable("AM113", f"the callable {source.problem}")
    env: list[tuple[str, Text]] = []
    py_args: list[PyArg] = []
    notes: list[tuple[str, str]] = []
    passed: set[str] = set()

    # A task of a mapped task group runs once per item of its group (the group loops, not the task): the group's
    # arguments are the item, and another task of the group is that same iteration's instance.
    mapped = mapping(task, ctx)
    group = group_mapping(task, ctx)
    loop = mapped.loop if mapped else None
    for key, ref in (mapped.refs.items() if mapped else []):
        py_args.append(PyArg(key, ref=ref))
        passed.add(key)

    for name, value in args:
        if isinstance(value, GroupItem):
            py_args.append(PyArg(name, ref=group_item_ref(value, group)))
        else:
            py_args.append(_argument(name, value, len(py_args), env, task, ctx))
        if name:
            passed.add(name)

    outputs: list[str] = []
    if variant.result == "return":
        # A function that never returns a value pushes no XCom: it declares no return_value.
        consumed = ctx.consumed_keys.get(task.task_id, set())
        if _returns_value(func) or "return_value" in consumed:
            outputs.append("return_value")
        outputs += sorted(consumed - {"return_value"})

    preamble = source.preamble
    if source.uses_context or source.xcom_pulls or source.xcom_pushes:
        shim, context_args, pushed = _context(source, func, passed, task, ctx)
        preamble = f"{preamble}\n\n{shim.code}" if preamble else shim.code
        env += shim.env
        py_args += context_args
        outputs += [k for k in pushed if k not in outputs]
        notes.append(("AM118", "the callable reads the Airflow context; argo-migrate rebuilds the part it uses"))

    targets: tuple[tuple[str, str], ...] = ()
    gates: dict[str, str] = {}
    if variant.result == "branch":
        targets = tuple((d, f"follow_{i}") for i, d in enumerate(ctx.downstream))
        outputs += [name for _, name in targets]
        gates = dict(targets)
    elif variant.result == "short_circuit" or variant.soft_fail:
        outputs.append("proceed")
        gates = {d: "proceed" for d in ctx.downstream}
        if variant.soft_fail:
            notes.append(SOFT_FAIL_NOTE)

    keys = tuple(o for o in outputs if o != "return_value") if variant.result == "return" else ()
    call = PythonCall(
        function=func.name, source=source.source, preamble=preamble, args=tuple(py_args), image=variant.image,
        env=tuple(env), requirements=variant.requirements, driver=harness.driver(variant.poll, variant.soft_fail),
        writers=harness.writers(variant.result, targets, variant.soft_fail, keys),
        epilogue=harness.epilogue(variant.result),
    )
    return Translation(call, outputs=tuple(outputs), notes=tuple(notes), loop=loop, gates=gates,
                       gate_descendants=variant.gate_descendants)


def _returns_value(func: FuncDef) -> bool:
    """Whether the function has a ``return <value>`` of its own (not one of a function nested in it)."""
    found = False

    class _Returns(cst.CSTVisitor):
        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:  # noqa: N802 - LibCST's visitor names
            return node is func.node

        def visit_Lambda(self, node: cst.Lambda) -> bool:  # noqa: N802
            return False

        def visit_Return(self, node: cst.Return) -> None:  # noqa: N802
            nonlocal found
            found = found or node.value is not None

    if isinstance(func.node, cst.FunctionDef):
        func.node.visit(_Returns())
        return found
    return True  # a lambda is its value


def translate_callback(func: FuncDef, task_id: str, ctx: TranslateContext) -> PythonCall:
    """A DAG callback: called with the (rebuilt) context as its one argument, as Airflow calls it."""
    source = ctx.extract_python(func)
    if source.problem:
        raise Untranslatable("AM113", f"the callback {source.problem}")
    shim = context_shim.build(ctx.dag_id, task_id, ctx.params, [], True, True)
    ctx.parameters.append(Parameter(context_shim.DAG_RUN_CONF_PARAM, "{}", "JSON object: Airflow's dag_run.conf"))
    preamble = f"{source.preamble}\n\n{shim.code}" if source.preamble else shim.code
    return PythonCall(function=func.name, source=source.source, preamble=preamble,
                      args=(PyArg(None, literal="_AIRFLOW_CONTEXT"),), env=tuple(shim.env))


def _argument(name: str | None, value: Any, index: int, env: list[tuple[str, Text]], task: TaskDraft,
              ctx: TranslateContext) -> PyArg:
    if isinstance(value, XComArg):
        return PyArg(name, ref=output_ref(value, ctx))
    if isinstance(value, AirflowVariable):
        ref = variable_ref(value, ctx)
        if value.json:
            return PyArg(name, ref=ref)  # arrives as JSON and is decoded
        var = f"AM_TEXT_{index}"
        env.append((var, (ref,)))
        return PyArg(name, literal=f"_am_os.environ[{var!r}]")
    if isinstance(value, str):
        text = templated(value, task, ctx, f"argument {name or index}")
        literal = plain(text)
        if literal is not None:
            return PyArg(name, literal=repr(literal))
        var = f"AM_TEXT_{index}"
        env.append((var, text))
        return PyArg(name, literal=f"_am_os.environ[{var!r}]")
    if plain_literal(value):
        return PyArg(name, literal=repr(value))
    why = value.why if isinstance(value, Unknown) else type(value).__name__
    raise Untranslatable("AM103", f"argument {name or index} of the callable is only known at run time ({why})")


def _context(source: Any, func: FuncDef, passed: set[str], task: TaskDraft,
             ctx: TranslateContext) -> tuple[context_shim.Shim, list[PyArg], list[str]]:
    unsupported = [p for p in source.context_params if p not in context_shim.SUPPORTED]
    unsupported += [k for k in context_shim.UNSUPPORTED if re.search(rf"['\"]{k}['\"]|\.{k}\b", source.source)]
    if unsupported:
        raise Untranslatable("AM113", f"the callable reads {', '.join(sorted(set(unsupported)))} from the Airflow "
                             "context, which argo-migrate does not rebuild")
    pulls: list[tuple[str, str]] = []
    for use in source.xcom_pulls:
        if use.task_ids is None or use.key is None:
            raise Untranslatable("AM113", "the callable calls xcom_pull with a task or key that is not a literal")
        for producer in use.task_ids:
            output_ref(XComArg(0, producer, use.key), ctx)  # raises when it cannot be wired
            pulls.append((producer, use.key))
    pushed: list[str] = []
    for key in source.xcom_pushes:
        if key is None or not re.fullmatch(r"[-A-Za-z0-9_]+", key):
            raise Untranslatable("AM113", "the callable calls xcom_push with a key that is not a plain literal")
        pushed.append(key)
    reads_conf = "dag_run" in source.source or source.context_kwargs is not None or source.current_context
    reads_params = "params" in source.source or source.context_kwargs is not None or source.current_context
    shim = context_shim.build(ctx.dag_id, task.task_id, ctx.params, sorted(set(pulls)), reads_params, reads_conf)
    if reads_conf:
        ctx.parameters.append(Parameter(context_shim.DAG_RUN_CONF_PARAM, "{}", "JSON object: Airflow's dag_run.conf"))
    ctx.reads_date = True
    args = [PyArg(p, literal=f"_AIRFLOW_CONTEXT[{p!r}]") for p in source.context_params if p not in passed]
    if source.context_kwargs is not None:
        declared = _declared(func)
        args.append(PyArg("**", literal="{k: v for k, v in _AIRFLOW_CONTEXT.items() if k not in %r}"
                          % sorted(declared | passed)))
    return shim, args, pushed


def _declared(func: FuncDef) -> set[str]:
    params = func.node.params
    return {p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)}


# --- the rows ----------------------------------------------------------------------------------------------------


def _callable(task: TaskDraft) -> FuncDef:
    func = task.arg("python_callable")
    if not isinstance(func, FuncDef):
        raise Untranslatable("AM112", "python_callable is not a function defined in this file")
    return func


def _operator_args(task: TaskDraft) -> list[tuple[str | None, Any]]:
    op_args, op_kwargs = task.arg("op_args") or [], task.arg("op_kwargs") or {}
    if not isinstance(op_args, list | tuple) or not isinstance(op_kwargs, dict):
        raise Untranslatable("AM103", "op_args/op_kwargs are only known at run time")
    if task.arg("templates_dict") is not None:
        raise Untranslatable("AM115", "templates_dict is not translated yet")
    return [*((None, a) for a in op_args), *((str(k), v) for k, v in op_kwargs.items())]


def _decorator_options(task: TaskDraft) -> dict[str, Any]:
    assert task.function is not None
    return dict(task.function.decorator_kwargs)


def _requirements(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple) and all(isinstance(r, str) for r in value):
        return tuple(value)
    raise Untranslatable("AM103", "requirements are only known at run time")


def python_operator(task: TaskDraft, ctx: TranslateContext) -> Translation:
    return translate_callable(_callable(task), _operator_args(task), task, ctx)


def task_decorator(task: TaskDraft, ctx: TranslateContext) -> Translation:
    assert task.function is not None
    return translate_callable(task.function, task.call_args, task, ctx)


def asset_decorator(task: TaskDraft, ctx: TranslateContext) -> Translation:
    """An ``@asset`` function: plain Python when it takes no arguments; Airflow passes asset objects otherwise."""
    assert task.function is not None
    if _declared(task.function):
        raise Untranslatable("AM113", "the asset function receives Airflow objects (self, context or inlet assets)")
    return translate_callable(task.function, [], task, ctx)


def virtualenv_operator(task: TaskDraft, ctx: TranslateContext) -> Translation:
    variant = Variant(requirements=_requirements(task.arg("requirements")))
    return translate_callable(_callable(task), _operator_args(task), task, ctx, variant)


def virtualenv_decorator(task: TaskDraft, ctx: TranslateContext) -> Translation:
    assert task.function is not None
    variant = Variant(requirements=_requirements(_decorator_options(task).get("requirements")))
    return translate_callable(task.function, task.call_args, task, ctx, variant)


def external_python_operator(task: TaskDraft, ctx: TranslateContext) -> Translation:
    translation = translate_callable(_callable(task), _operator_args(task), task, ctx)
    return _with_note(translation, "AM119", "the external interpreter is replaced by the task image's Python")


def external_python_decorator(task: TaskDraft, ctx: TranslateContext) -> Translation:
    assert task.function is not None
    translation = translate_callable(task.function, task.call_args, task, ctx)
    return _with_note(translation, "AM119", "the external interpreter is replaced by the task image's Python")


def container_decorator(task: TaskDraft, ctx: TranslateContext) -> Translation:
    """``@task.docker`` / ``@task.kubernetes``: the function runs in the image the decorator names."""
    assert task.function is not None
    image = _decorator_options(task).get("image")
    if not isinstance(image, str):
        raise Untranslatable("AM103", "the image is only known at run time")
    return translate_callable(task.function, task.call_args, task, ctx, Variant(image=image))


def branch_operator(task: TaskDraft, ctx: TranslateContext) -> Translation:
    return translate_callable(_callable(task), _operator_args(task), task, ctx, Variant(result="branch"))


def branch_decorator(task: TaskDraft, ctx: TranslateContext) -> Translation:
    assert task.function is not None
    return translate_callable(task.function, task.call_args, task, ctx, Variant(result="branch"))


def branch_virtualenv(task: TaskDraft, ctx: TranslateContext) -> Translation:
    if task.function is not None:
        reqs = _requirements(_decorator_options(task).get("requirements"))
        return translate_callable(task.function, task.call_args, task, ctx, Variant("branch", reqs))
    reqs = _requirements(task.arg("requirements"))
    return translate_callable(_callable(task), _operator_args(task), task, ctx, Variant("branch", reqs))


def branch_external(task: TaskDraft, ctx: TranslateContext) -> Translation:
    if task.function is not None:
        translation = translate_callable(task.function, task.call_args, task, ctx, Variant("branch"))
    else:
        translation = translate_callable(_callable(task), _operator_args(task), task, ctx, Variant("branch"))
    return _with_note(translation, "AM119", "the external interpreter is replaced by the task image's Python")


def short_circuit_operator(task: TaskDraft, ctx: TranslateContext) -> Translation:
    every = task.arg("ignore_downstream_trigger_rules", True) is not False
    variant = Variant(result="short_circuit", gate_descendants=every)
    return translate_callable(_callable(task), _operator_args(task), task, ctx, variant)


def short_circuit_decorator(task: TaskDraft, ctx: TranslateContext) -> Translation:
    assert task.function is not None
    every = _decorator_options(task).get("ignore_downstream_trigger_rules", True) is not False
    variant = Variant(result="short_circuit", gate_descendants=every)
    return translate_callable(task.function, task.call_args, task, ctx, variant)


SOFT_FAIL_NOTE = ("AM119", "soft_fail: on timeout the sensor succeeds and its downstream tasks are skipped "
                            "(Argo cannot mark the sensor itself Skipped)")


def python_sensor(task: TaskDraft, ctx: TranslateContext) -> Translation:
    interval, timeout, soft = poll_settings(task)
    variant = Variant(poll=(interval, timeout), soft_fail=soft)
    return translate_callable(_callable(task), _operator_args(task), task, ctx, variant)


def sensor_decorator(task: TaskDraft, ctx: TranslateContext) -> Translation:
    assert task.function is not None
    interval, timeout, soft = poll_settings_from({**_decorator_options(task), **task.kwargs})
    return translate_callable(task.function, task.call_args, task, ctx,
                              Variant(poll=(interval, timeout), soft_fail=soft))


def poll_settings(task: TaskDraft) -> tuple[int, int, bool]:
    return poll_settings_from(task.kwargs)


def poll_settings_from(options: dict[str, Any]) -> tuple[int, int, bool]:
    """(poke_interval, timeout, soft_fail), with Airflow's defaults of 60 s, 7 days and False."""
    from frontends.airflow.values import Duration

    def seconds(value: Any, default: int) -> int:
        if value is None:
            return default
        if isinstance(value, Duration):
            return int(value.seconds)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return int(value)
        raise Untranslatable("AM103", "a sensor interval or timeout is only known at run time")

    soft = options.get("soft_fail") is True
    return seconds(options.get("poke_interval"), 60), seconds(options.get("timeout"), 7 * 24 * 3600), soft


def _with_note(translation: Translation, code: str, message: str) -> Translation:
    from dataclasses import replace

    return replace(translation, notes=(*translation.notes, (code, message)))


__all__ = ["ItemRef", "Variant", "translate_callable"]
