"""The Airflow construct registry: one row per operator or decorator, with its translator and documentation.

The support matrix in the README is generated from ``REGISTRY`` (``argo-migrate matrix airflow``), so the table and
the code cannot disagree. A construct without a row runs the original operator with Airflow in a pod (the
``airflow-task`` wrapper) and says so with AM102. Users add rows for their own operators through the
``argo_migrate.operators`` entry point (see ``plugins.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from frontends.airflow.translate import Translator
from frontends.airflow.translators import (
    bash,
    branching,
    control,
    email,
    http,
    human,
    kubernetes,
    python,
    remote,
    sensors,
    workflows,
)


@dataclass(frozen=True)
class OperatorRow:
    names: tuple[str, ...]  # operator class names, or "@task…" decorator names
    translate: Translator
    status: str  # native | wrapped (what the row produces when the task's arguments are static)
    handles: frozenset[str]  # operator arguments the translator reads
    doc: str
    example: str


def row(names: tuple[str, ...], translate: Translator, handles: set[str], doc: str, example: str,
        status: str = "native") -> OperatorRow:
    return OperatorRow(names, translate, status, frozenset(handles), doc, example)


_PY = {"python_callable", "op_args", "op_kwargs", "templates_dict", "show_return_value_in_logs"}
_SENSOR = {"poke_interval", "timeout", "mode", "soft_fail", "deferrable", "exponential_backoff", "max_wait"}

REGISTRY: list[OperatorRow] = [
    row(("BashOperator",), bash.bash_operator, {"bash_command", "env", "append_env"},
        "Container running `bash -c <bash_command>`; `env` becomes the container environment (credentials as "
        "Secret references); `.expand(bash_command=[...])` fans out with `withItems`.",
        'BashOperator(task_id="hello", bash_command="echo hello")'),
    row(("@task.bash",), bash.bash_decorator, {"env"},
        "Script that calls the function for the command, then runs it with `bash -c` and exits with its code.",
        '@task.bash def hello(): return "echo hello"'),
    row(("BashSensor",), bash.bash_sensor, {"bash_command", "env", *_SENSOR},
        "Container re-running the command every `poke_interval` until it exits 0, failing after `timeout`.",
        'BashSensor(task_id="ready", bash_command="test -f /data/ready")'),
    row(("PythonOperator",), python.python_operator, _PY,
        "Script carrying the callable's source with the imports, constants and helpers it uses; `op_args`/"
        "`op_kwargs` are passed (Jinja translated); the return value becomes output `return_value`; the parts of "
        "the Airflow context it reads (ds, ti.xcom_pull, params, dag_run.conf…) are rebuilt in the script.",
        'PythonOperator(task_id="p", python_callable=f, op_args=[1])'),
    row(("@task", "@task.python", "@setup", "@teardown"), python.task_decorator, {"multiple_outputs"},
        "TaskFlow function → script; arguments that are other tasks' outputs arrive from "
        "`{{tasks.<producer>.outputs.parameters.return_value}}`; `multiple_outputs` keys become outputs; "
        "`.expand()` → `withItems`/`withParam`.",
        "@task def extract(): return {'a': 1}"),
    row(("@asset",), python.asset_decorator, set(),
        "An `@asset` function is a DAG of one task named after it; the function runs as a script when it takes "
        "no Airflow objects. Asset schedules are reported (AM108).",
        '@asset(uri="s3://bucket/x", schedule=None) def x(): ...'),
    row(("PythonVirtualenvOperator",), python.virtualenv_operator, {*_PY, "requirements", "system_site_packages",
                                                                    "python_version", "serializer"},
        "Script run by `uv run --script` with the requirements as PEP 723 inline metadata.",
        'PythonVirtualenvOperator(task_id="v", python_callable=f, requirements=["pandas"])'),
    row(("@task.virtualenv",), python.virtualenv_decorator, {"requirements"},
        "As PythonVirtualenvOperator.", '@task.virtualenv(requirements=["pandas"]) def f(): ...'),
    row(("ExternalPythonOperator",), python.external_python_operator, {*_PY, "python", "expect_airflow"},
        "Script in the task image's Python (the worker's interpreter path has no meaning in a pod; AM119).",
        'ExternalPythonOperator(task_id="e", python="/venv/bin/python", python_callable=f)'),
    row(("@task.external_python",), python.external_python_decorator, {"python"},
        "As ExternalPythonOperator.", '@task.external_python(python="/venv/bin/python") def f(): ...'),
    row(("@task.docker", "@task.kubernetes"), python.container_decorator, {"image"},
        "Script in the image the decorator names.", '@task.docker(image="python:3.12") def f(): ...'),
    row(("BranchPythonOperator",), python.branch_operator, _PY,
        "Script whose returned task id(s) set one output per downstream task; each downstream task gets "
        "`when: {{tasks.<branch>.outputs.parameters.follow_N}} == true`, so unchosen ones are Skipped.",
        'BranchPythonOperator(task_id="b", python_callable=choose)'),
    row(("@task.branch",), python.branch_decorator, set(), "As BranchPythonOperator.",
        '@task.branch def choose(): return "a"'),
    row(("BranchPythonVirtualenvOperator", "@task.branch_virtualenv"), python.branch_virtualenv,
        {*_PY, "requirements"}, "A branch run by `uv run --script` with its requirements.",
        '@task.branch_virtualenv(requirements=["numpy"]) def choose(): ...'),
    row(("BranchExternalPythonOperator", "@task.branch_external_python"), python.branch_external,
        {*_PY, "python"}, "A branch in the task image's Python.",
        '@task.branch_external_python(python="/venv/bin/python") def choose(): ...'),
    row(("ShortCircuitOperator",), python.short_circuit_operator, {*_PY, "ignore_downstream_trigger_rules"},
        "Script writing output `proceed`; downstream tasks (all descendants unless "
        "`ignore_downstream_trigger_rules=False`) get `when: ... proceed == true`.",
        'ShortCircuitOperator(task_id="check", python_callable=lambda: True)'),
    row(("@task.short_circuit",), python.short_circuit_decorator, {"ignore_downstream_trigger_rules"},
        "As ShortCircuitOperator.", "@task.short_circuit def check(): return True"),
    row(("PythonSensor",), python.python_sensor, {*_PY, *_SENSOR},
        "Script calling the callable every `poke_interval` until it returns true, failing after `timeout`.",
        'PythonSensor(task_id="s", python_callable=ready)'),
    row(("@task.sensor",), python.sensor_decorator, set(_SENSOR),
        "As PythonSensor (a `PokeReturnValue`'s `is_done` is honoured).", "@task.sensor def ready(): ..."),
    row(("EmptyOperator", "DummyOperator"), control.empty_operator, set(),
        "A template that does nothing (`true` in a tiny image); it only takes part in ordering.",
        'EmptyOperator(task_id="start")'),
    row(("LatestOnlyOperator",), control.latest_only, set(),
        "Nothing to do: Argo runs no backfills, so every run is the latest (AM120).",
        'LatestOnlyOperator(task_id="latest_only")'),
    row(("ExternalTaskMarker",), control.external_task_marker, {"external_dag_id", "external_task_id",
                                                                "recursion_depth", "logical_date"},
        "Nothing to do: it only steers Airflow's cross-DAG clearing (AM120).",
        'ExternalTaskMarker(task_id="m", external_dag_id="child", external_task_id="t")'),
    row(("SubDagOperator",), control.sub_dag, {"subdag"},
        "Airflow 2's sub-DAGs are built at import time by code argo-migrate does not run: the operator runs with "
        "Airflow in a pod and the sub-DAG is reported (AM103). Prefer TaskGroups.",
        'SubDagOperator(task_id="section", subdag=subdag(...))', status="wrapped"),
    row(("BranchDateTimeOperator",), branching.branch_datetime,
        {"follow_task_ids_if_true", "follow_task_ids_if_false", "target_lower", "target_upper",
         "use_task_logical_date"},
        "Generated branch script comparing the clock (or the logical date) with the bounds.",
        'BranchDateTimeOperator(task_id="b", target_lower=time(9), target_upper=time(17), ...)'),
    row(("BranchDayOfWeekOperator",), branching.branch_day_of_week,
        {"follow_task_ids_if_true", "follow_task_ids_if_false", "week_day", "use_task_logical_date"},
        "Generated branch script testing the day of the week.",
        'BranchDayOfWeekOperator(task_id="b", week_day="Monday", ...)'),
    row(("TimeDeltaSensor", "TimeDeltaSensorAsync", "WaitSensor"), sensors.time_delta_sensor,
        {"delta", "time_to_wait", *_SENSOR}, "Argo `suspend` with `duration` = the delta.",
        'TimeDeltaSensor(task_id="wait", delta=timedelta(minutes=5))'),
    row(("TimeSensor", "TimeSensorAsync"), sensors.time_sensor, {"target_time", *_SENSOR},
        "Polling script waiting for the time of day (UTC) on the run's date.",
        'TimeSensor(task_id="at_nine", target_time=time(9, 0))'),
    row(("DateTimeSensor", "DateTimeSensorAsync"), sensors.date_time_sensor, {"target_time", *_SENSOR},
        "Polling script waiting for a fixed moment.",
        'DateTimeSensor(task_id="t", target_time=datetime(2025, 1, 1))'),
    row(("DayOfWeekSensor",), sensors.day_of_week_sensor, {"week_day", "use_task_logical_date", *_SENSOR},
        "Polling script waiting for the day of the week.", 'DayOfWeekSensor(task_id="monday", week_day="Monday")'),
    row(("FileSensor",), sensors.file_sensor, {"filepath", "fs_conn_id", "recursive", *_SENSOR},
        "Polling script waiting for the path (glob) in the pod; mount the volume that holds it (AM119).",
        'FileSensor(task_id="f", filepath="/data/ready")'),
    row(("TriggerDagRunOperator",), workflows.trigger_dag_run,
        {"trigger_dag_id", "conf", "wait_for_completion", "poke_interval", "allowed_states", "failed_states",
         "reset_dag_run", "logical_date", "trigger_run_id", "deferrable", "skip_when_already_exists"},
        "Resource template creating a Workflow from the target's WorkflowTemplate (`conf` → parameter "
        "`dag_run_conf`); with `wait_for_completion`, it succeeds or fails with that Workflow.",
        'TriggerDagRunOperator(task_id="t", trigger_dag_id="target", conf={"k": "v"})'),
    row(("ExternalTaskSensor",), workflows.external_task_sensor,
        {"external_dag_id", "external_task_id", "external_task_ids", "external_task_group_id", "allowed_states",
         "failed_states", "execution_delta", "execution_date_fn", *_SENSOR},
        "Container polling (kubectl) until the latest run of the target's workflow has succeeded (AM119).",
        'ExternalTaskSensor(task_id="s", external_dag_id="upstream")'),
    row(("HITLOperator", "HITLEntryOperator"), human.hitl, {"subject", "body", "options", "defaults", "params",
                                                            "multiple", "respondents", "execution_timeout"},
        "Argo `suspend` without duration; options become a resume input parameter with an `enum`.",
        'HITLOperator(task_id="ask", subject="Go?", options=["yes", "no"])'),
    row(("ApprovalOperator",), human.approval, {"subject", "body", "defaults", "respondents"},
        "Argo `suspend`: resume to approve, stop to reject.", 'ApprovalOperator(task_id="approve", subject="OK?")'),
    row(("KubernetesPodOperator",), kubernetes.kubernetes_pod,
        {"image", "cmds", "arguments", "env_vars", "container_resources", "node_selector", "tolerations",
         "affinity", "volumes", "volume_mounts", "image_pull_policy", "service_account_name", "security_context",
         "container_security_context", "name", "namespace", "get_logs", "is_delete_operator_pod",
         "on_finish_action", "in_cluster", "kubernetes_conn_id", "labels", "annotations"},
        "Container template with the same image, command, arguments, environment, resources, node selector, "
        "tolerations, affinity and volumes.",
        'KubernetesPodOperator(task_id="k", image="alpine", cmds=["echo"], arguments=["hi"])'),
    row(("DockerOperator",), kubernetes.docker_operator, {"image", "command", "entrypoint", "environment",
                                                          "docker_url", "auto_remove", "api_version"},
        "Container template with the same image, command and environment.",
        'DockerOperator(task_id="d", image="alpine", command="echo hi")'),
    row(("HttpOperator", "SimpleHttpOperator"), http.http_operator,
        {"endpoint", "method", "data", "headers", "http_conn_id", "log_response", "extra_options"},
        "Argo `http` template; the connection's base URL is the workflow parameter `conn_<id>_base_url`.",
        'HttpOperator(task_id="h", endpoint="api/run", method="POST")'),
    row(("HttpSensor",), http.http_sensor, {"endpoint", "method", "data", "headers", "http_conn_id",
                                            "extra_options", *_SENSOR},
        "Argo `http` template with a success condition, retried every `poke_interval` until `timeout`.",
        'HttpSensor(task_id="up", endpoint="health")'),
    row(("EmailOperator",), email.email_operator, {"to", "subject", "html_content", "cc", "bcc", "files",
                                                   "mime_subtype", "conn_id"},
        "Container sending the mail over SMTP with curl; server and credentials from the Secret `airflow-smtp`.",
        'EmailOperator(task_id="mail", to="team@example.com", subject="Done", html_content="ok")'),
    row(("SSHOperator",), remote.ssh_operator, {"ssh_conn_id", "command", "remote_host", "environment",
                                                "cmd_timeout", "get_pty"},
        "The ssh wrapper: `ssh user@host <command>` from a pod, key and host from the Secret "
        "`airflow-conn-<ssh_conn_id>`.", 'SSHOperator(task_id="s", ssh_conn_id="hpc", command="sbatch job.sh")',
        status="wrapped"),
    row(("SparkSubmitOperator",), remote.spark_submit, {"application", "conf", "java_class", "application_args",
                                                        "name", "num_executors", "executor_cores",
                                                        "executor_memory", "driver_memory", "conn_id"},
        "Resource template creating a SparkApplication (Spark operator) and waiting for its completion.",
        'SparkSubmitOperator(task_id="s", application="local:///app.py")'),
    row(("SparkKubernetesOperator",), remote.spark_kubernetes, {"application_file", "template_spec",
                                                                "namespace", "kubernetes_conn_id"},
        "Resource template creating the given SparkApplication and waiting for its completion.",
        'SparkKubernetesOperator(task_id="s", template_spec={...})'),
]

BY_NAME: dict[str, OperatorRow] = {name: r for r in REGISTRY for name in r.names}

# Arguments every operator accepts that the common part of the build translates (retries, trigger rules…) or that
# carry no behaviour Argo could reproduce (documentation, UI colours).
COMMON_ARGS = frozenset({
    "task_id", "retries", "retry_delay", "retry_exponential_backoff", "max_retry_delay", "execution_timeout",
    "trigger_rule", "default_args", "dag", "task_group", "pool",
})
COSMETIC_ARGS = frozenset({
    "owner", "doc", "doc_md", "doc_rst", "doc_json", "doc_yaml", "task_display_name", "ui_color", "ui_fgcolor",
    "start_date", "tags", "description", "do_xcom_push", "multiple_outputs", "map_index_template",
})
