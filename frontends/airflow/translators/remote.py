"""Work that runs elsewhere: SSHOperator (the ssh integration wrapper) and Spark (a SparkApplication resource).

SSH: the command runs on the connection's host over ssh from a pod; the private key, user and host come from the
Kubernetes Secret ``airflow-conn-<ssh_conn_id>`` (keys ``host``, ``login``, ``private_key``), never from the DAG.
Spark: the Spark operator's SparkApplication is created and watched; its ``status.applicationState.state``
decides the step (COMPLETED succeeds, FAILED/SUBMISSION_FAILED fails).
"""

from __future__ import annotations

import json
import re
from typing import Any

from frontends.airflow.model import TaskDraft
from frontends.airflow.translate import TranslateContext, Translation, Untranslatable, templated
from migrator.ir import Resource, Wrapped, WrappedStatus, plain

SPARK_SUCCESS = "status.applicationState.state == COMPLETED"
SPARK_FAILURE = "status.applicationState.state in (FAILED, SUBMISSION_FAILED, UNKNOWN)"


def _conn_secret(conn: str) -> str:
    return "airflow-conn-" + re.sub(r"[^a-z0-9-]", "-", conn.lower())


def ssh_operator(task: TaskDraft, ctx: TranslateContext) -> Translation:
    conn = task.arg("ssh_conn_id")
    if not isinstance(conn, str):
        raise Untranslatable("AM103", "ssh_conn_id is only known at run time")
    command = plain(templated(task.arg("command"), task, ctx, "command"))
    if command is None:
        raise Untranslatable("AM111", "an ssh command with run-time values is not translated yet")
    payload = (("secret", _conn_secret(conn)), ("command", command))
    reason = f"runs on the host of connection {conn!r} over ssh"
    return Translation(Wrapped("ssh", payload), WrappedStatus("ssh", reason), notes=(("AM501", reason),))


def _spark_app(name: str, spec: dict[str, Any]) -> str:
    manifest = {
        "apiVersion": "sparkoperator.k8s.io/v1beta2",
        "kind": "SparkApplication",
        "metadata": {"generateName": re.sub(r"[^a-z0-9-]", "-", name.lower()).strip("-") + "-"},
        "spec": spec,
    }
    return json.dumps(manifest, sort_keys=True)


def spark_submit(task: TaskDraft, ctx: TranslateContext) -> Translation:
    application = task.arg("application")
    if not isinstance(application, str):
        raise Untranslatable("AM103", "application is only known at run time")
    conf = task.arg("conf") or {}
    args = task.arg("application_args") or []
    if not isinstance(conf, dict) or not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise Untranslatable("AM103", "conf/application_args are only known at run time")
    spec: dict[str, Any] = {
        "type": "Python" if application.endswith(".py") else "Scala",
        "mode": "cluster",
        "image": "{{workflow.parameters.spark_image}}",
        "mainApplicationFile": application,
        "sparkConf": {str(k): str(v) for k, v in conf.items()},
        "arguments": args,
        "driver": {"cores": 1, "memory": str(task.arg("driver_memory") or "1g")},
        "executor": {"instances": int(task.arg("num_executors") or 1), "cores": int(task.arg("executor_cores") or 1),
                     "memory": str(task.arg("executor_memory") or "1g")},
    }
    if isinstance(task.arg("java_class"), str):
        spec["mainClass"] = task.arg("java_class")
    from migrator.ir import Parameter

    ctx.parameters.append(Parameter("spark_image", "apache/spark:3.5.1", "image of the SparkApplications"))
    manifest = _spark_app(str(task.arg("name") or task.task_id), spec)
    return Translation(Resource(manifest, "create", SPARK_SUCCESS, SPARK_FAILURE))


def spark_kubernetes(task: TaskDraft, ctx: TranslateContext) -> Translation:
    spec = task.arg("template_spec")
    if isinstance(spec, dict):
        body = spec.get("spec", spec)
        try:
            return Translation(Resource(_spark_app(task.task_id, body), "create", SPARK_SUCCESS, SPARK_FAILURE))
        except TypeError as exc:
            raise Untranslatable("AM103", "template_spec holds values only known at run time") from exc
    raise Untranslatable("AM115", "application_file is read by Airflow at run time; give template_spec instead")
