"""The airflow-task wrapper: one Airflow task's own operator, run in a pod by the Airflow of the image.

No scheduler, no metadata database, no ``airflow tasks test`` (which exits 0 when the task fails and starts from an
empty database): the in-pod program (``programs/airflow_task.py``) loads the DAG file with the image's Airflow,
builds the task's context from the parameters (logical date, params, ``dag_run.conf``, run id, map index), answers
XCom pulls from the ``xcom`` parameter, and runs the task as Airflow does — Airflow 3 through the Task SDK's own
task runner (templates, pre/post execute, callbacks, retries' callback, deferral run in-process), Airflow 2 through
the task instance's own execution with its database calls answered from memory. The step's outcome is the task's:
a failure fails the step, ``AirflowSkipException`` ends it with ``skipped=true``; its XComs are output parameters.

Two WorkflowTemplates, one per Airflow major (a DAG file parses under one of them only):
``argo-migrate-airflow-task-airflow3`` (``options.airflow3_image``) and ``…-airflow2`` (``options.airflow2_image``).

Connections and Variables come from Airflow's environment-variable backends: the caller adds
``AIRFLOW_CONN_<ID>`` / ``AIRFLOW_VAR_<KEY>`` from Secrets through the ``pod-spec-patch`` parameter (the template's
``podSpecPatch``; a WorkflowTemplate's own env is fixed), shaped as
``{"containers": [{"name": "main", "env": [{"name": "AIRFLOW_CONN_WAREHOUSE", "valueFrom": {"secretKeyRef":
{"name": "airflow-conn-warehouse", "key": "uri"}}}]}]}`` — one Secret per connection id, named
``airflow-conn-<id>`` (the id lower-cased, runs of other characters than a-z, 0-9 and ``-`` made one ``-``), key
``uri`` holding the connection's URI (or its JSON form).
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from backends.wrappers import WrapperOptions
from backends.wrappers.catalogue import (
    Output,
    Param,
    SecretUse,
    WrapperDoc,
    base_template,
    inputs_of,
    param_env,
    program,
    template_name,
)
from migrator.ir import Wrapped

ENGINE = "airflow-task"
MAJORS = (3, 2)
DAGS_MOUNT = "/opt/airflow/dags"
OUTPUTS = "/tmp/argo-migrate"
# Each output's value when the task process could not write it (a DAG import error, a kill): well-formed JSON,
# so a failed step never turns into a missing-output error and a downstream `when` still parses.
OUTPUT_DEFAULTS = {"return_value": "null", "xcom": "{}", "skipped": "false", "skip-tasks": "[]"}

DOC = WrapperDoc(
    engine=ENGINE,
    summary="Run one Airflow task's own operator in a pod with the Airflow of the image (2.x or 3.x; one template "
            "per major), without scheduler or metadata database: the context comes from the parameters, upstream "
            "XComs from `xcom`, Connections and Variables from AIRFLOW_CONN_*/AIRFLOW_VAR_* (Secrets added with "
            "`pod-spec-patch`). The step fails when the task fails, ends with skipped=true when it skips, and "
            "gives the task's XComs as output parameters.",
    parameters=(
        Param("dag-id", "the DAG's dag_id"),
        Param("task-id", "the task's task_id (a task group's tasks: group_id.task_id)"),
        Param("dag-file", "the DAG file, relative to the DAG folder; empty: parse the whole folder", ""),
        Param("map-index", "a mapped task's map index (Airflow's numbering of the expansion); -1: not mapped",
              "-1"),
        Param("map-item", "instead of map-index: the item (JSON) this expansion runs with, for a task mapped over "
              "one argument or with expand_kwargs; the index is that of its first occurrence", ""),
        Param("logical-date", "the run's date, ISO 8601: with run-type manual the logical date, with scheduled "
              "the time the run was due (a CronWorkflow's workflow.scheduledTime); empty: the workflow's "
              "creation time", ""),
        Param("run-type", "manual, or scheduled: the logical date and data interval are then those Airflow's "
              "scheduler gives the run due at logical-date (the DAG's timetable decides)", "manual"),
        Param("run-id", "the run id the task sees; empty: Airflow's own (<run type>__<date>)", ""),
        Param("params", "JSON object: values for the DAG's params (checked against their schemas)", "{}"),
        Param("dag-run-conf", "JSON object: dag_run.conf (overrides params, as in Airflow)", "{}"),
        Param("xcom", "JSON object of upstream XComs, {task_id: {key: value}} with values as Airflow stores them "
              "(an upstream wrapped task's `xcom` output fits as it is); a mapped upstream gives a list, one such "
              "object (or its JSON text, or null) per map index", "{}"),
        Param("retries", "the task's retries: Argo retries the step this many times, when the task fails with a "
              "retry due (exit status 3: not after AirflowFailException, as in Airflow)", "0"),
        Param("retry-delay", "seconds between tries (the task's retry_delay)", "0"),
        Param("try-number", "the try the task sees; empty: 1 + Argo's retry count. While tries are left a failure "
              "runs on_retry_callback, on the last one on_failure_callback", ""),
        Param("dags-config-map", "the ConfigMap holding the DAG files (mounted at " + DAGS_MOUNT + ")",
              "argo-migrate-dags"),
        Param("dags-folder", "the DAG folder in the pod, importable as Airflow's is; the ConfigMap written by "
              "argo-migrate (files under flat keys and argo-migrate-index.json) is rebuilt with its sub-folders "
              "(utils/, …); for an image holding the DAGs itself, the folder there", DAGS_MOUNT),
        Param("pod-spec-patch", "the step's podSpecPatch (JSON): how a caller adds env such as "
              "AIRFLOW_CONN_<ID> from the Secret airflow-conn-<id> (key uri), AIRFLOW_VAR_<KEY>, or volumes",
              "{}"),
    ),
    secrets=(
        SecretUse("airflow-conn-<connection id>", ("uri",),
                  "one per Airflow connection the task uses, read as AIRFLOW_CONN_<ID> (env added with "
                  "pod-spec-patch); a connection missing fails the task as in Airflow", optional=True),
    ),
    outputs=(
        Output("return_value", "parameter", "the task's return value as Airflow stores the XCom (JSON text); "
               "null when it pushed none"),
        Output("xcom", "parameter", "every XCom the task pushed, {key: value} (JSON)"),
        Output("skipped", "parameter", "true when the task skipped (AirflowSkipException), else false"),
        Output("skip-tasks", "parameter", "JSON list of the downstream task ids a branch or short-circuit task "
               "decided to skip"),
    ),
    stop="The step forwards Argo's SIGTERM to the task process once, as Airflow's supervisor does: the "
         "operator's on_kill runs (a BashOperator's command is killed, a provider's remote job is cancelled where "
         "its operator implements on_kill); a task still running 10 s later is killed. The step exits 143.",
    local="tests/test_wrapper_airflow_task.py runs the program with real Airflow 3.3.2 and 2.10.5 (cached "
          "virtualenvs standing for the images) on fixture DAGs, Airflow's example_xcom and a repro: every task's "
          "state and XComs equal those of Airflow's own dag.test() (failing, skipping, branching, mapped, "
          "deferred, templated, connection-using tasks), the scheduled run's dates equal the timetable's, no "
          "metadata database is touched, no password is printed, SIGTERM reaches on_kill; and it runs both "
          "WorkflowTemplates through `run --local` by templateRef (XComs from step to step, a mapped step, a "
          "Secret, retries)."
)


def image(options: WrapperOptions, major: int) -> str:
    return options.airflow_image_for(major)


def variant(options: WrapperOptions, major: int) -> dict[str, Any]:
    """The WorkflowTemplate running tasks of Airflow ``major`` (3 or 2)."""
    if major not in MAJORS:
        raise ValueError(f"Airflow {major}: the airflow-task wrapper has templates for Airflow 3 and 2")
    doc = dataclasses.replace(DOC, parameters=tuple(
        dataclasses.replace(p, default=options.dags_config_map) if p.name == "dags-config-map" else p
        for p in DOC.parameters))
    main = {
        "name": "main",
        "inputs": inputs_of(doc),
        "podSpecPatch": "{{inputs.parameters.pod-spec-patch}}",
        # Airflow retries a task whose try failed while retries are left (up_for_retry: exit status 3) and never
        # after AirflowFailException or the last try (exit status 1).
        "retryStrategy": {"limit": "{{inputs.parameters.retries}}", "retryPolicy": "OnFailure",
                          "expression": "asInt(lastRetry.exitCode) == 3",
                          "backoff": {"duration": "{{inputs.parameters.retry-delay}}"}},
        # On the template, not the WorkflowTemplate's spec: a caller's templateRef brings the template's volumes.
        # Optional: an image that holds the DAGs itself is called with dags-folder naming them, and no ConfigMap.
        "volumes": [{"name": "dags", "configMap": {"name": "{{inputs.parameters.dags-config-map}}",
                                                   "optional": True}}],
        "script": {
            "image": image(options, major),
            "command": ["python"],
            "source": program("airflow_task.py"),
            "env": [
                param_env("AM_DAG_ID", "dag-id"), param_env("AM_TASK_ID", "task-id"), param_env("AM_DAG_FILE", "dag-file"),
                param_env("AM_DAGS_FOLDER", "dags-folder"), param_env("AM_MAP_INDEX", "map-index"),
                param_env("AM_MAP_ITEM", "map-item"), param_env("AM_LOGICAL_DATE", "logical-date"),
                param_env("AM_RUN_TYPE", "run-type"), param_env("AM_RUN_ID", "run-id"), param_env("AM_PARAMS", "params"),
                param_env("AM_DAG_RUN_CONF", "dag-run-conf"), param_env("AM_XCOM", "xcom"),
                param_env("AM_TRY_NUMBER", "try-number"), param_env("AM_RETRY_DELAY", "retry-delay"),
                {"name": "AM_OUTPUTS", "value": OUTPUTS},
                # Globals, substituted in the template itself (a parameter's default is not substituted again).
                {"name": "AM_WORKFLOW_CREATED", "value": "{{workflow.creationTimestamp}}"},
                {"name": "AM_RETRY", "value": "{{retries}}"},
            ],
            "volumeMounts": [{"name": "dags", "mountPath": DAGS_MOUNT, "readOnly": True}],
        },
        "outputs": {"parameters": [
            {"name": name, "valueFrom": {"path": f"{OUTPUTS}/{name}", "default": default}}
            for name, default in OUTPUT_DEFAULTS.items()
        ]},
    }
    document = base_template(name_for(major), doc, [main])
    document["metadata"]["labels"]["argo-migrate.io/airflow-major"] = str(major)
    return document


def name_for(major: int) -> str:
    return template_name(ENGINE, f"airflow{major}")


def workflow_template(options: WrapperOptions) -> list[dict[str, Any]]:
    """Both variants, Airflow 3's first (a DAG file parses under one major only)."""
    return [variant(options, major) for major in MAJORS]


def major_of(action: Wrapped) -> int:
    """The Airflow major the frontend found for the task's DAG file (payload ``major``; 3 when it says none)."""
    return 2 if action.get("major", "3").strip() == "2" else 3


def template_for(action: Wrapped, options: WrapperOptions) -> str:
    return name_for(major_of(action))


def choice(action: Wrapped, options: WrapperOptions) -> str:
    major = major_of(action)
    file = action.get("file") or "the DAG file"
    if options.airflow_image_override:
        return f"{file}: its wrapped tasks run in {options.airflow_image_override} (--airflow-image)"
    why = action.get("major_why")
    return (f"{file}: its wrapped tasks run with Airflow {major} ({image(options, major)})"
            + (f": {why}" if why else ""))


def connection_secret(conn_id: str) -> str:
    """The Secret holding a connection's URI (key ``uri``): ``airflow-conn-`` + the id as a Kubernetes name."""
    slug = re.sub(r"[^a-z0-9-]+", "-", conn_id.lower()).strip("-") or "default"
    return f"airflow-conn-{slug}"[:253]


def needs(action: Wrapped, options: WrapperOptions) -> list[str]:
    """What the cluster must hold for this task: the DAG files' ConfigMap and a Secret per connection it names."""
    found = [f"ConfigMap {options.dags_config_map} (the DAG files)"]
    for conn_id in filter(None, (c.strip() for c in action.get("connections").split(","))):
        found.append(f"Secret {connection_secret(conn_id)} (key uri: the URI of Airflow connection {conn_id})")
    return found


def arguments(action: Wrapped, options: WrapperOptions) -> tuple[tuple[str, str], ...]:
    """The parameters a frontend's action fixes; the rest (xcom, pod-spec-patch, map-index…) are the caller's, or
    keep their defaults."""
    return (("dag-id", action.get("dag_id")), ("task-id", action.get("task_id")), ("dag-file", action.get("file")))
