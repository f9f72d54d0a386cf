"""Shell commands → container templates running ``bash -c``: BashOperator, ``@task.bash``, BashSensor."""

from __future__ import annotations

from typing import Any

from frontends.airflow.model import TaskDraft
from frontends.airflow.translate import TranslateContext, Translation, Untranslatable, mapping, templated
from frontends.airflow.translators.python import SOFT_FAIL_NOTE, Variant, poll_settings, translate_callable
from frontends.airflow.translators.secrets import env_text
from migrator.ir import ContainerRun, ItemRef, PythonCall, Text, text
from migrator.runtime import shell_write

BASH_IMAGE = "bash:5.2"


def _command(task: TaskDraft, ctx: TranslateContext, value: Any) -> Text:
    if isinstance(value, str) and value.strip().endswith((".sh", ".bash")):
        raise Untranslatable("AM111", "bash_command names a script file that Airflow renders as a template")
    return templated(value, task, ctx, "bash_command")


def _env(task: TaskDraft, ctx: TranslateContext) -> tuple[tuple[str, Text], ...]:
    env_value = task.arg("env")
    if env_value is None:
        return ()
    if not isinstance(env_value, dict):
        raise Untranslatable("AM103", "env is only known at run time")
    pairs: list[tuple[str, Text]] = []
    for key in sorted(env_value, key=str):
        pairs.append((str(key), env_text(str(key), env_value[key], task, ctx, f"env[{key!r}]")))
    return tuple(pairs)


def bash_operator(task: TaskDraft, ctx: TranslateContext) -> Translation:
    mapped = mapping(task, ctx)
    if mapped is not None and mapped.own:
        if set(mapped.refs) != {"bash_command"}:
            raise Untranslatable("AM115", "mapping over BashOperator arguments other than bash_command")
        command: Text = (mapped.refs["bash_command"],)
    else:
        command = _command(task, ctx, task.arg("bash_command"))
    action = ContainerRun(BASH_IMAGE, (text("bash"), text("-c")), (command,), _env(task, ctx))
    return Translation(action, loop=mapped.loop if mapped else None)


def bash_decorator(task: TaskDraft, ctx: TranslateContext) -> Translation:
    """The function runs first and returns the command; the command then runs with bash in the same step."""
    assert task.function is not None
    translation = translate_callable(task.function, task.call_args, task, ctx, Variant(result="bash"))
    action = translation.action
    assert isinstance(action, PythonCall)
    env = _env(task, ctx)
    if env:
        from dataclasses import replace

        translation = replace(translation, action=replace(action, env=action.env + env))
    return translation


def bash_sensor(task: TaskDraft, ctx: TranslateContext) -> Translation:
    """Poke until the command exits 0, every poke_interval seconds, failing after timeout."""
    interval, timeout, soft = poll_settings(task)
    command = _command(task, ctx, task.arg("bash_command"))
    on_timeout = (f'{shell_write("proceed", "false")}; exit 0'
                  if soft else 'echo "argo-migrate: sensor timed out" >&2; exit 1')
    loop = (
        f"deadline=$(( $(date +%s) + {timeout} ))\n"
        'until bash -c "$AM_SENSOR_COMMAND"; do\n'
        f'  if [ "$(date +%s)" -ge "$deadline" ]; then {on_timeout}; fi\n'
        f"  sleep {interval}\n"
        "done\n"
    )
    if soft:
        loop += shell_write("proceed", "true") + "\n"
    env = (("AM_SENSOR_COMMAND", command), *_env(task, ctx))
    action = ContainerRun(BASH_IMAGE, (text("bash"), text("-c")), (text(loop),), env)
    if not soft:
        return Translation(action)
    return Translation(action, outputs=("proceed",), gates={d: "proceed" for d in ctx.downstream},
                       notes=(SOFT_FAIL_NOTE,))


__all__ = ["ItemRef", "bash_decorator", "bash_operator", "bash_sensor"]
