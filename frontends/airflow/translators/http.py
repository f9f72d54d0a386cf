"""HTTP calls → Argo http templates: HttpOperator / SimpleHttpOperator, and HttpSensor (retried until it succeeds).

``http_conn_id`` names a connection whose base URL Argo cannot look up: it becomes the workflow parameter
``conn_<id>_base_url`` (default empty) so that the URL is supplied at submission, never guessed.
"""

from __future__ import annotations

import json
import re

from frontends.airflow.model import TaskDraft
from frontends.airflow.translate import TranslateContext, Translation, Untranslatable, templated
from frontends.airflow.translators.python import poll_settings
from migrator.ir import HttpRequest, Parameter, ParamRef, Retry, Text


def _base(task: TaskDraft, ctx: TranslateContext) -> Text:
    conn = task.arg("http_conn_id", "http_default")
    if not isinstance(conn, str):
        raise Untranslatable("AM103", "http_conn_id is only known at run time")
    name = "conn_" + re.sub(r"[^A-Za-z0-9_]", "_", conn) + "_base_url"
    ctx.parameters.append(Parameter(name, "", f"base URL of the Airflow connection {conn!r}"))
    return (ParamRef(name),)


def _request(task: TaskDraft, ctx: TranslateContext, success: str | None) -> HttpRequest:
    endpoint = task.arg("endpoint", "")
    url = _base(task, ctx) + templated(endpoint or "", task, ctx, "endpoint")
    headers = task.arg("headers") or {}
    if not isinstance(headers, dict):
        raise Untranslatable("AM103", "headers are only known at run time")
    data = task.arg("data")
    body: Text | None = None
    if isinstance(data, dict):
        try:
            encoded = json.dumps(data, sort_keys=True)
        except (TypeError, ValueError):
            raise Untranslatable("AM103", "data holds values that are not JSON (a date, a dynamic value); the "
                                 "request body is only known at run time") from None
        body = templated(encoded, task, ctx, "data")
    elif data is not None:
        body = templated(data, task, ctx, "data")
    method = task.arg("method", "POST")
    if not isinstance(method, str):
        raise Untranslatable("AM103", "method is only known at run time")
    if task.arg("response_check") is not None or task.arg("response_filter") is not None:
        raise Untranslatable("AM115", "response_check/response_filter callables are not translated yet")
    return HttpRequest(
        method=method.upper(), url=url,
        headers=tuple((str(k), templated(v, task, ctx, f"headers[{k!r}]")) for k, v in sorted(headers.items())),
        body=body, success_condition=success,
    )


def http_operator(task: TaskDraft, ctx: TranslateContext) -> Translation:
    return Translation(_request(task, ctx, "response.statusCode >= 200 && response.statusCode < 400"))


def http_sensor(task: TaskDraft, ctx: TranslateContext) -> Translation:
    interval, timeout, _ = poll_settings(task)
    request = _request(task, ctx, "response.statusCode >= 200 && response.statusCode < 300")
    request = HttpRequest(request.method if task.arg("method") else "GET", request.url, request.headers, request.body,
                          request.success_condition, timeout)
    # Airflow pokes every poke_interval until timeout: an Argo retry loop with a fixed backoff does the same.
    tries = max(1, timeout // max(interval, 1))
    return Translation(request, retry=Retry(limit=tries, delay_seconds=interval))
