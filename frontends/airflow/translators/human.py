"""Human-in-the-loop operators → Argo suspend templates: the run waits until someone resumes it in the Argo UI or
CLI, and the choices Airflow would offer become input parameters of the resume (with their allowed values)."""

from __future__ import annotations

from typing import Any

from frontends.airflow.model import TaskDraft
from frontends.airflow.translate import TranslateContext, Translation, Untranslatable
from migrator.ir import Wait


def _options(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise Untranslatable("AM103", "options are only known at run time")


def hitl(task: TaskDraft, ctx: TranslateContext) -> Translation:
    options = _options(task.arg("options"))
    subject = task.arg("subject")
    description = subject if isinstance(subject, str) else None
    inputs: list[tuple[str, str | None, tuple[str, ...], str | None]] = []
    if options:
        defaults = task.arg("defaults")
        default = defaults[0] if isinstance(defaults, list) and defaults else (
            defaults if isinstance(defaults, str) else options[0])
        inputs.append(("chosen_option", str(default), options, description))
    params = task.arg("params")
    if isinstance(params, dict):
        for name, value in params.items():
            if isinstance(value, dict) and value.get("__param__"):
                value = value.get("default")
            inputs.append((str(name), None if value is None else str(value), (), None))
    note = ("AM120", "waits for a person to resume the workflow (argo resume / the Argo UI)")
    return Translation(Wait(inputs=tuple(inputs)), notes=(note,))


def approval(task: TaskDraft, ctx: TranslateContext) -> Translation:
    note = ("AM120", "approval becomes a suspend: resume to approve, stop the workflow to reject")
    return Translation(Wait(), notes=(note,))
