"""Credentials in operator arguments: the detection itself is language-neutral (:mod:`migrator.secrets`, an IR pass
over every string that reaches a manifest). What is Airflow's is only this: an environment value under a
credential's name is kept as its literal text even when its Jinja has no translation, since the pass replaces it
whole by a Secret reference, so that the task need not be wrapped for it.
"""

from __future__ import annotations

from typing import Any

from frontends.airflow.model import TaskDraft
from frontends.airflow.translate import TranslateContext, Untranslatable, templated
from migrator.ir import Text
from migrator.secrets import sensitive_name


def env_text(name: str, value: Any, task: TaskDraft, ctx: TranslateContext, field_name: str) -> Text:
    try:
        return templated(value, task, ctx, field_name)
    except Untranslatable:
        if sensitive_name(name) and isinstance(value, str) and value.strip():
            return (value,)
        raise
