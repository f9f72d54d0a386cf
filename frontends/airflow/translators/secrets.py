"""Credentials written in DAG code never reach a manifest: they become references to Kubernetes Secrets.

A value is treated as a credential when its key names one (password, token, secret, api key…) or it is a URI with
a password (``postgresql://user:pw@host/db``). The manifest then reads it from the Secret ``airflow-credentials``
under a key derived from the DAG, task and variable, and a warning (AM121) tells the user to create that Secret.
"""

from __future__ import annotations

import re
from typing import Any

from frontends.airflow.model import TaskDraft
from frontends.airflow.translate import TranslateContext
from migrator.ir import SecretRef, Text

SECRET_NAME = "airflow-credentials"
_SENSITIVE_KEY = re.compile(r"(pass(word|wd)?|secret|token|api[-_]?key|private[-_]?key|credential|auth)", re.I)
_URI_WITH_PASSWORD = re.compile(r"^[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@", re.I)


def looks_secret(key: str, value: Any) -> bool:
    if not isinstance(value, str) or not value or "{{" in value:
        return False
    return bool(_SENSITIVE_KEY.search(key)) or bool(_URI_WITH_PASSWORD.match(value))


def secret_key(ctx: TranslateContext, task: TaskDraft, name: str) -> str:
    return re.sub(r"[^-._a-zA-Z0-9]", "_", f"{ctx.dag_id}.{task.task_id}.{name}")


def secret_env(name: str, value: Any, task: TaskDraft, ctx: TranslateContext) -> Text | None:
    """The reference that replaces a credential, or None when ``value`` is not one."""
    if not looks_secret(name, value):
        return None
    key = secret_key(ctx, task, name)
    ctx.secrets.append((task.task_id, name, key))
    return (SecretRef(SECRET_NAME, key),)
