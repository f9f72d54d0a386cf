"""The ``airflow-dag`` wrapper: run a whole DAG on an existing Airflow over its REST API, from an Argo step.

``main`` is a steps template with one step, ``run`` (the program ``programs/airflow_dag.py``): it creates a DAG run
(``conf`` from the parameter ``conf``), follows it with a growing poll interval and mirrors its end exactly
(``success`` → the step succeeds; ``failed`` → the step fails), printing every task instance's state and handing
them, the run's state and its id out as output parameters. API v2 (Airflow 3, a JWT from ``/auth/token``) or v1
(Airflow 2, basic auth), by the parameter ``api``.

The run's id is deterministic, ``argo-migrate__<workflow uid>__<checksum of the calling node's name>``, so a retried
step (a lost pod) attaches to the run its first attempt created instead of triggering another (Airflow answers 409
to the second create); only when that run failed does a retry make a new one (``…__try2``). Stopping is covered
twice, as for every wrapper: the program traps SIGTERM and marks the run failed (``PATCH {"state": "failed"}``)
before exiting 143, and ``run``'s exit hook ``stop`` does the same by the run's id whenever ``run`` did not
succeed, for a pod killed without a chance to trap anything; a run that already ended keeps its state.

An unknown DAG, refused credentials and a paused DAG (whose run would wait forever; ``unpause=true`` unpauses it)
fail the step at once; a network error or an HTTP 5xx is retried with a doubling backoff for
``network-retry-seconds``.

Credentials come only from the Secret ``airflow-api`` (``url``, and ``token`` or ``username``/``password``), as
environment variables from ``secretKeyRef``; the program never prints them.
"""

from __future__ import annotations

from typing import Any

from backends.wrappers import WrapperOptions
from backends.wrappers.catalogue import (
    Output,
    Param,
    SecretUse,
    WrapperDoc,
    base_template,
    inputs_of,
    params_env,
    program,
    template_name,
)
from migrator.ir import Wrapped

ENGINE = "airflow-dag"
SECRET = "airflow-api"
PROGRAM = "airflow_dag.py"
RESULTS = "/tmp/argo-migrate-airflow-dag"
OUTPUTS = ("state", "dag-run-id", "task-states")
UID = {"name": "AM_WORKFLOW_UID", "value": "{{workflow.uid}}"}

DOC = WrapperDoc(
    engine=ENGINE,
    summary="Trigger a whole DAG on an existing Airflow over its REST API (v2 for Airflow 3, v1 for Airflow 2), "
            "follow the run and mirror its end into the step (success or failure, every task's state reported); "
            "stopping the workflow marks the Airflow run failed. Exit codes: 0 the run succeeded, 1 it failed, 2 "
            "Airflow refused the credentials or the request (unknown or paused DAG, bad conf), 75 Airflow did not "
            "answer within network-retry-seconds, 143 stopped.",
    parameters=(
        Param("dag-id", "the DAG to run"),
        Param("api", "v2 (Airflow 3: a token from /auth/token) or v1 (Airflow 2: basic auth)", "v2"),
        Param("conf", "the run's conf, a JSON object (Airflow's dag_run.conf)", "{}"),
        Param("dag-run-id", "the run's id (empty: argo-migrate__<workflow uid>__<checksum of the calling node>, so "
                            "a retried step finds its run again; give one to name it yourself)", ""),
        Param("poll-min-seconds", "the first interval between two looks at the run; it grows by half each time",
              "2"),
        Param("poll-max-seconds", "the longest interval between two looks at the run", "60"),
        Param("unpause", "true: unpause the DAG when it is paused (else a paused DAG fails the step at once, exit "
                         "code 2: its run would wait forever)", "false"),
        Param("network-retry-seconds", "how long a request is retried while Airflow does not answer (connection "
                                       "refused, timeout, HTTP 5xx) before the step fails with exit code 75",
              "300"),
    ),
    secrets=(SecretUse(SECRET, ("url", "token", "username", "password"),
                       "url: Airflow's base URL (e.g. http://airflow-api-server.airflow:8080); then token (a bearer "
                       "token) or username and password (Airflow 3: exchanged for a JWT at /auth/token; Airflow 2: "
                       "basic auth, with the basic_auth API backend enabled); read as environment variables, "
                       "never printed"),),
    outputs=(
        Output("state", "parameter", "the DAG run's final state: success or failed (after a stop: its state once "
                                     "marked failed)"),
        Output("dag-run-id", "parameter", "the DAG run's id in Airflow"),
        Output("task-states", "parameter", 'every task instance\'s final state, a JSON object '
                                           '({"task": "success", "mapped[0]": "failed", "never": null})'),
    ),
    stop="SIGTERM makes the step mark the Airflow run failed (PATCH state=failed, which also fails its running "
         "tasks) before exiting 143; the run step's exit hook does the same by the run's id whenever the step did "
         "not succeed, for a pod that was killed; a finished run keeps its state",
    local="tests/test_wrapper_airflow_dag.py: Airflow 3.3.2 (api-server, scheduler, dag-processor) and Airflow "
          "2.10.5 (webserver, scheduler) on 127.0.0.1 with SQLite, started by tests/engines/airflow_api.py",
)

# (variable, key of the Secret, optional): a token or a username and password, whichever the Secret has.
_SECRET_KEYS = (("AIRFLOW_URL", "url", False), ("AIRFLOW_TOKEN", "token", True),
                ("AIRFLOW_USERNAME", "username", True), ("AIRFLOW_PASSWORD", "password", True))

# What the exit hook needs to find the run again.
_STOP_PARAMS = ("dag-id", "api", "dag-run-id", "network-retry-seconds")


def _secret_env() -> list[dict[str, Any]]:
    return [{"name": var, "valueFrom": {"secretKeyRef": {"name": SECRET, "key": key,
                                                         **({"optional": True} if optional else {})}}}
            for var, key, optional in _SECRET_KEYS]


def _script(image: str, env: list[dict[str, Any]]) -> dict[str, Any]:
    return {"image": image, "command": ["python"], "source": program(PROGRAM), "env": [*env, *_secret_env()]}


def _run_template(image: str) -> dict[str, Any]:
    names = tuple(p.name for p in DOC.parameters) + ("run-key",)
    env = params_env(names) + [{"name": "AM_MODE", "value": "run"}, {"name": "AM_OUTPUTS", "value": RESULTS}, UID]
    return {
        "name": "run",
        "inputs": {"parameters": [{"name": n} for n in names]},
        "outputs": {"parameters": [{"name": n, "valueFrom": {"path": f"{RESULTS}/{n}", "default": ""}}
                                   for n in OUTPUTS]},
        # A lost pod (Error), never a failed run (Failed): the rerun attaches to the run the first pod created.
        "retryStrategy": {"limit": "2", "retryPolicy": "OnError"},
        "script": _script(image, env),
    }


def _stop_template(image: str) -> dict[str, Any]:
    names = _STOP_PARAMS + ("run-key", "step-status")
    return {
        "name": "stop",
        "inputs": {"parameters": [{"name": n} for n in names]},
        "script": _script(image, params_env(names) + [{"name": "AM_MODE", "value": "stop"}, UID]),
    }


def _main_template() -> dict[str, Any]:
    # One value for the run step and its hook: the node that called main (node.name is unique in the workflow for
    # every call, in a loop too); the program adds the workflow's uid.
    run_key = {"name": "run-key", "value": "{{node.name}}"}
    passed = [{"name": p.name, "value": "{{inputs.parameters.%s}}" % p.name} for p in DOC.parameters]
    hook = [{"name": n, "value": "{{inputs.parameters.%s}}" % n} for n in _STOP_PARAMS]
    hook += [run_key, {"name": "step-status", "value": "{{steps.run.status}}"}]
    return {
        "name": "main",
        "inputs": inputs_of(DOC),
        "outputs": {"parameters": [{"name": n, "valueFrom": {"parameter": "{{steps.run.outputs.parameters.%s}}" % n}}
                                   for n in OUTPUTS]},
        "steps": [[{
            "name": "run",
            "template": "run",
            "arguments": {"parameters": [*passed, run_key]},
            "hooks": {"exit": {"template": "stop", "arguments": {"parameters": hook}}},
        }]],
    }


def workflow_template(options: WrapperOptions) -> dict[str, Any]:
    image = options.python_image
    return base_template(template_name(ENGINE), DOC, [_main_template(), _run_template(image), _stop_template(image)])


def arguments(action: Wrapped, options: WrapperOptions) -> tuple[tuple[str, str], ...]:
    """The Airflow frontend's payload: ``dag_id``, ``api`` and the workflow parameter that carries the conf."""
    conf = action.get("conf_parameter")
    return (("dag-id", action.get("dag_id")), ("api", action.get("api", "v2")),
            *((("conf", "{{workflow.parameters.%s}}" % conf),) if conf else ()))


def needs(action: Wrapped, options: WrapperOptions) -> list[str]:
    return [f"Secret {SECRET} (keys url, and token or username and password: the Airflow that runs the DAGs, "
            f"API {action.get('api', 'v2')})"]
