"""Per-DAG integration: trigger the DAG on an existing Airflow over its REST API, mirror its state, stop it on stop.

Init → Main → Finalize in one step: the step creates a DAG run (``conf`` from the workflow parameter
``dag_run_conf``), polls it until it ends, exits 0 on ``success`` and 1 otherwise, and on SIGTERM (what Argo sends
when the workflow is stopped or times out) marks the Airflow run failed so that it does not keep running. API v2
(Airflow 3, token from ``/auth/token``) or v1 (Airflow 2, basic auth), by ``payload["api"]``. Credentials come from
the Secret ``airflow-api`` (keys ``url``, and ``token`` or ``username``/``password``), never from the manifest.
"""

from __future__ import annotations

from backends.wrappers import WrapperOptions, WrapperSpec
from migrator.ir import Wrapped

SECRET = "airflow-api"

SCRIPT = r'''
import base64, json, os, signal, sys, time, urllib.error, urllib.parse, urllib.request

API = os.environ["AM_AIRFLOW_API"]
DAG = os.environ["AM_DAG_ID"]
BASE = os.environ["AIRFLOW_URL"].rstrip("/")
POLL = int(os.environ.get("AM_POLL_SECONDS", "30"))


def headers():
    token = os.environ.get("AIRFLOW_TOKEN", "")
    user, password = os.environ.get("AIRFLOW_USERNAME", ""), os.environ.get("AIRFLOW_PASSWORD", "")
    if not token and API == "v2" and user:
        body = json.dumps({"username": user, "password": password}).encode()
        request = urllib.request.Request(BASE + "/auth/token", body, {"Content-Type": "application/json"})
        token = json.load(urllib.request.urlopen(request, timeout=60))["access_token"]
    if token:
        return {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
    basic = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": "Basic " + basic, "Content-Type": "application/json"}


def call(method, path, payload=None):
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(f"{BASE}/api/{API}{path}", data, HEADERS, method=method)
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


HEADERS = headers()
conf = json.loads(os.environ.get("AM_DAG_RUN_CONF") or "{}")
body = {"conf": conf, "logical_date": None} if API == "v2" else {"conf": conf}
run = call("POST", f"/dags/{urllib.parse.quote(DAG)}/dagRuns", body)
run_id = run["dag_run_id"]
path = f"/dags/{urllib.parse.quote(DAG)}/dagRuns/{urllib.parse.quote(run_id)}"
print(f"argo-migrate: started Airflow run {run_id} of {DAG}", flush=True)


def stop(signum, frame):
    try:
        call("PATCH", path, {"state": "failed"})
        print(f"argo-migrate: stopped Airflow run {run_id}", flush=True)
    finally:
        sys.exit(143)


signal.signal(signal.SIGTERM, stop)
while True:
    state = call("GET", path)["state"]
    if state in ("success", "failed"):
        print(f"argo-migrate: Airflow run {run_id} ended: {state}", flush=True)
        sys.exit(0 if state == "success" else 1)
    time.sleep(POLL)
'''


def build(action: Wrapped, options: WrapperOptions) -> WrapperSpec:
    return WrapperSpec(
        image=options.python_image,
        command=("python", "-c"),
        args=(SCRIPT.lstrip(),),
        env=(
            ("AM_AIRFLOW_API", action.get("api", "v2")),
            ("AM_DAG_ID", action.get("dag_id")),
            # The frontend names the workflow parameter that carries the run's conf (its only Airflow spelling).
            ("AM_DAG_RUN_CONF", "{{workflow.parameters.%s}}" % action.get("conf_parameter", "dag_run_conf")),
        ),
        secret_env=(
            ("AIRFLOW_URL", SECRET, "url", False),
            ("AIRFLOW_TOKEN", SECRET, "token", True),
            ("AIRFLOW_USERNAME", SECRET, "username", True),
            ("AIRFLOW_PASSWORD", SECRET, "password", True),
        ),
    )
