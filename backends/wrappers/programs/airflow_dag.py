"""argo-migrate's airflow-dag program: run one whole DAG on an existing Airflow over its REST API, from an Argo step.

Standard library only (it runs in a plain python image). Everything comes from the environment:

- the Secret ``airflow-api``: AIRFLOW_URL (the base URL, without /api/...), and AIRFLOW_TOKEN or
  AIRFLOW_USERNAME/AIRFLOW_PASSWORD; none of them is ever printed;
- AM_MODE: ``run`` (trigger, follow, mirror) or ``stop`` (the exit hook: fail a run still going);
- AM_API (``v2`` for Airflow 3, ``v1`` for Airflow 2), AM_DAG_ID, AM_CONF (a JSON object), AM_DAG_RUN_ID (empty:
  derived from AM_WORKFLOW_UID and AM_RUN_KEY, the calling node's name), AM_POLL_MIN_SECONDS, AM_POLL_MAX_SECONDS,
  AM_NETWORK_RETRY_SECONDS, AM_UNPAUSE, AM_OUTPUTS (the folder for the output parameters), AM_STEP_STATUS (stop
  mode).

Exit codes: 0 the DAG run succeeded; 1 it failed; 2 a configuration error Airflow or the Secret reports at once
(bad credentials, unknown or paused DAG, malformed conf); 75 Airflow stayed unreachable for the whole retry budget; 143 the
step was stopped (SIGTERM), after the Airflow run was marked failed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import signal
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, NoReturn

TERMINAL = ("success", "failed")
# Runs a retried step may create after finding its earlier ones failed: ``<id>``, ``<id>__try2``, ...
MAX_TRIES = 50
REQUEST_TIMEOUT_S = 30.0
STOP_BUDGET_S = 20.0  # Argo's grace period is 30 s: stopping must be done well within it
STOP_REQUEST_TIMEOUT_S = 8.0


class Fatal(Exception):
    """A failure that retrying cannot mend; the message is safe to print."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


class Unreachable(Exception):
    """Airflow did not answer (connection refused, timeout, 5xx) for the whole retry budget."""


class Stopped(BaseException):
    """SIGTERM/SIGINT: a BaseException so that no ``except Exception`` of a request swallows it."""


def log(message: str) -> None:
    print("airflow-dag: " + message, flush=True)


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def seconds(name: str, default: str) -> float:
    text = env(name) or default
    try:
        value = float(text)
    except ValueError:
        raise Fatal(f"{name} must be a number of seconds, not {text!r}") from None
    if value < 0:
        raise Fatal(f"{name} must not be negative")
    return value


class Airflow:
    def __init__(self) -> None:
        self.api = env("AM_API", "v2")
        if self.api not in ("v1", "v2"):
            raise Fatal(f"api must be v2 (Airflow 3) or v1 (Airflow 2), not {self.api!r}")
        url = env("AIRFLOW_URL")
        if not url:
            raise Fatal("the Secret airflow-api has no key 'url' (Airflow's base URL, e.g. http://airflow:8080)")
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise Fatal("the Secret airflow-api's key 'url' is not an http(s) URL")
        # A URL's user:password would end up in messages; credentials belong in their own keys.
        netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
        self.base = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
        self.token = os.environ.get("AIRFLOW_TOKEN", "").strip()
        self.user = os.environ.get("AIRFLOW_USERNAME", "").strip()
        self.password = os.environ.get("AIRFLOW_PASSWORD", "")
        if not self.token and not self.user:
            raise Fatal("the Secret airflow-api needs key 'token', or keys 'username' and 'password'")
        self.secrets: list[str] = [s for s in (self.token, self.password, parts.password) if s]
        self.poll_max = seconds("AM_POLL_MAX_SECONDS", "60")
        self.retry_budget = seconds("AM_NETWORK_RETRY_SECONDS", "300")
        self.bearer = ""  # the JWT fetched from /auth/token (API v2 with a username)
        self.timeout = REQUEST_TIMEOUT_S

    def where(self) -> str:
        return self.base

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text

    def _authorization(self) -> str:
        if self.token:
            return "Bearer " + self.token
        if self.api == "v2":
            if not self.bearer:
                self.bearer = self._fetch_token()
            return "Bearer " + self.bearer
        return "Basic " + base64.b64encode(f"{self.user}:{self.password}".encode()).decode()

    def _fetch_token(self) -> str:
        body = {"username": self.user, "password": self.password}
        status, payload = self._send("POST", self.base + "/auth/token", body, None)
        if status in (401, 403):
            raise Fatal(f"Airflow at {self.where()} refused the username/password of the Secret airflow-api "
                        f"(HTTP {status} from /auth/token)")
        if status >= 400 or not isinstance(payload, dict) or not payload.get("access_token"):
            raise Fatal(f"Airflow at {self.where()} gave no token from /auth/token (HTTP {status}"
                        f"{self.detail(payload)}); is this Airflow 3 (api v2)?")
        return str(payload["access_token"])

    def detail(self, payload: Any) -> str:
        if isinstance(payload, dict):
            text = payload.get("detail") or payload.get("title") or ""
            if not isinstance(text, str):
                text = json.dumps(text)
            return ": " + self.scrub(text)[:300] if text else ""
        return ""

    def _send(self, method: str, url: str, body: Any, authorization: str | None) -> tuple[int, Any]:
        """(status, parsed JSON or None), retrying what a later attempt can mend until the budget is spent."""
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        if authorization:
            headers["Authorization"] = authorization
        first_failure: float | None = None
        wait = 1.0
        while True:
            request = urllib.request.Request(url, data=data, headers=headers, method=method)
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return int(response.status), _json(response.read())
            except urllib.error.HTTPError as error:
                status, payload = error.code, _json(error.read())
                if status < 500 and status != 429:
                    return status, payload
                problem = f"HTTP {status}{self.detail(payload)}"
            except (urllib.error.URLError, OSError) as error:
                reason = getattr(error, "reason", error)
                problem = self.scrub(f"{type(reason).__name__}: {reason}")
            now = time.monotonic()
            first_failure = first_failure if first_failure is not None else now
            if now - first_failure >= self.retry_budget:
                raise Unreachable(f"Airflow at {self.where()} did not answer {method} {self.path_of(url)} for "
                                  f"{self.retry_budget:g} s (last: {problem})")
            log(f"{method} {self.path_of(url)}: {problem}; retrying in {wait:g} s")
            time.sleep(min(wait, max(0.0, first_failure + self.retry_budget - now)))
            wait = min(wait * 2, max(self.poll_max, 1.0))

    def path_of(self, url: str) -> str:
        return url[len(self.base):]

    def call(self, method: str, path: str, body: Any = None, allow: tuple[int, ...] = ()) -> tuple[int, Any]:
        """The JSON answer of ``/api/<api><path>``; a status in ``allow`` is returned as ``(status, payload)``."""
        url = f"{self.base}/api/{self.api}{path}"
        status, payload = self._send(method, url, body, self._authorization())
        if status in (401, 403) and self.bearer:  # the JWT expired during a long run: one fresh token
            self.bearer = ""
            status, payload = self._send(method, url, body, self._authorization())
        if status in allow:
            return status, payload
        if status in (401, 403):
            raise Fatal(f"Airflow at {self.where()} refused the credentials (HTTP {status} on {method} "
                        f"/api/{self.api}{path}): check the Secret airflow-api")
        if status == 404:
            raise Fatal(f"not found at {self.where()}: {method} /api/{self.api}{path}{self.detail(payload)}")
        if status >= 400:
            raise Fatal(f"Airflow at {self.where()} rejected {method} /api/{self.api}{path} (HTTP {status}"
                        f"{self.detail(payload)})")
        return status, payload


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8", "replace")) if raw else None
    except ValueError:
        return None


def quote(text: str) -> str:
    return urllib.parse.quote(text, safe="")


def run_ids() -> list[str]:
    """The deterministic ids this step's runs take, in order: a retried step finds its earlier runs by them."""
    explicit = env("AM_DAG_RUN_ID")
    if explicit:
        base = explicit
    else:
        uid, node = env("AM_WORKFLOW_UID"), env("AM_RUN_KEY")
        if not uid or not node:
            raise Fatal("no dag-run-id, and no workflow uid or run key to derive it from")
        digest = hashlib.sha256(node.encode()).hexdigest()[:10]
        base = f"argo-migrate__{uid}__{digest}"
    return [base] + [f"{base}__try{n}" for n in range(2, MAX_TRIES + 1)]


def task_states(airflow: Airflow, dag_path: str) -> dict[str, str | None]:
    """Every task instance of the run: ``{"task": state, "mapped[3]": state}``, in Airflow's order."""
    states: dict[str, str | None] = {}
    offset = 0
    while True:
        _, page = airflow.call("GET", f"{dag_path}/taskInstances?limit=100&offset={offset}")
        instances = (page or {}).get("task_instances") or []
        for ti in instances:
            name = str(ti.get("task_id"))
            index = ti.get("map_index", -1)
            if isinstance(index, int) and index >= 0:
                name += f"[{index}]"
            states[name] = ti.get("state")
        offset += len(instances)
        if not instances or offset >= int((page or {}).get("total_entries") or 0):
            return states


def write_outputs(values: dict[str, str]) -> None:
    folder = env("AM_OUTPUTS")
    if not folder:
        return
    os.makedirs(folder, exist_ok=True)
    for name, value in values.items():
        with open(os.path.join(folder, name), "w", encoding="utf-8") as handle:
            handle.write(value)


def report(airflow: Airflow, dag_path: str, run_id: str, state: str) -> None:
    """Print every task instance's state and write the outputs; the states are best effort after a stop."""
    try:
        states = task_states(airflow, dag_path)
    except (Fatal, Unreachable) as why:
        log(f"could not list the task instances: {why}")
        states = {}
    for name, task_state in states.items():
        log(f"  task {name}: {task_state or 'no status'}")
    write_outputs({"state": state, "dag-run-id": run_id, "task-states": json.dumps(states, sort_keys=False)})


def check_dag(airflow: Airflow, dag: str) -> None:
    """Fail at once on an unknown DAG; a paused DAG would leave the run queued forever: unpause it when asked."""
    _, payload = airflow.call("GET", f"/dags/{quote(dag)}")
    if not (payload or {}).get("is_paused"):
        return
    if env("AM_UNPAUSE", "false").lower() != "true":
        raise Fatal(f"DAG {dag} is paused in Airflow at {airflow.where()}: its run would wait forever; unpause it "
                    "there, or pass unpause=true")
    airflow.call("PATCH", f"/dags/{quote(dag)}?update_mask=is_paused", {"is_paused": False})
    log(f"unpaused DAG {dag} (unpause=true)")


def trigger(airflow: Airflow, dag: str, conf: dict[str, Any]) -> tuple[str, str]:
    """Create this step's run, or attach to the one an earlier attempt of the step created."""
    body: dict[str, Any] = {"conf": conf}
    if airflow.api == "v2":
        body["logical_date"] = None  # required in v2; null: a run with no data interval, as a manual trigger
    for run_id in run_ids():
        status, payload = airflow.call("POST", f"/dags/{quote(dag)}/dagRuns", {**body, "dag_run_id": run_id},
                                       allow=(409,))
        if status != 409:
            log(f"triggered {dag} at {airflow.where()}: run {run_id}")
            return run_id, str((payload or {}).get("state") or "queued")
        _, existing = airflow.call("GET", f"/dags/{quote(dag)}/dagRuns/{quote(run_id)}")
        state = str((existing or {}).get("state"))
        if state != "failed":
            log(f"attached to run {run_id} of {dag}, triggered by an earlier attempt of this step ({state})")
            return run_id, state
        log(f"run {run_id} of {dag} (an earlier attempt of this step) failed; triggering a new one")
    raise Fatal(f"this step already made {MAX_TRIES} runs of {dag}, all failed")


def follow(airflow: Airflow, dag: str, run_id: str, state: str) -> str:
    path = f"/dags/{quote(dag)}/dagRuns/{quote(run_id)}"
    wait = seconds("AM_POLL_MIN_SECONDS", "2")
    last = ""
    while state not in TERMINAL:
        if state != last:
            log(f"run {run_id}: {state}")
            last = state
        time.sleep(wait)
        wait = min(max(wait, 0.1) * 1.5, airflow.poll_max)
        _, payload = airflow.call("GET", path)
        state = str((payload or {}).get("state"))
    return state


def stop_runs(airflow: Airflow, dag: str, ids: list[str], budget_s: float) -> None:
    """Mark failed every run of ``ids`` that is still queued or running (a finished run keeps its state)."""
    airflow.retry_budget = min(airflow.retry_budget, budget_s)
    airflow.timeout = STOP_REQUEST_TIMEOUT_S
    for run_id in ids:
        path = f"/dags/{quote(dag)}/dagRuns/{quote(run_id)}"
        status, payload = airflow.call("GET", path, allow=(404,))
        if status == 404:
            if run_id == ids[0]:
                log(f"no run {run_id} of {dag} exists: nothing to stop")
            return
        state = str((payload or {}).get("state"))
        if state in TERMINAL:
            log(f"run {run_id} of {dag} already ended {state}: left as it is")
            continue
        airflow.call("PATCH", path, {"state": "failed"})
        log(f"marked run {run_id} of {dag} failed (it was {state})")


def on_signal(signum: int, frame: object) -> NoReturn:
    raise Stopped()


def run_mode(airflow: Airflow, dag: str) -> int:
    try:
        conf = json.loads(os.environ.get("AM_CONF") or "{}")
    except ValueError as error:
        raise Fatal(f"conf is not JSON: {error}") from None
    if not isinstance(conf, dict):
        raise Fatal("conf must be a JSON object (Airflow's dag_run.conf)")
    check_dag(airflow, dag)
    run_id = ""
    try:
        run_id, state = trigger(airflow, dag, conf)
        state = follow(airflow, dag, run_id, state)
    except Stopped:
        log("stopped: marking this step's Airflow run failed")
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        # Before the trigger answered, the run may exist or not: its deterministic id finds it either way.
        ids = [run_id] if run_id else run_ids()
        path = f"/dags/{quote(dag)}/dagRuns/{quote(run_id)}"
        try:
            stop_runs(airflow, dag, ids, STOP_BUDGET_S)
            if run_id:
                report(airflow, path, run_id, str((airflow.call("GET", path)[1] or {}).get("state")))
        except (Fatal, Unreachable) as why:
            log(f"could not stop the Airflow run: {why}")
        return 143
    log(f"run {run_id} of {dag} ended: {state}")
    # The run is over: a stop now has nothing left to stop, and must not cut the report short.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    report(airflow, f"/dags/{quote(dag)}/dagRuns/{quote(run_id)}", run_id, state)
    return 0 if state == "success" else 1


def stop_mode(dag: str) -> int:
    status = env("AM_STEP_STATUS")
    if status == "Succeeded":
        return 0
    log(f"the run step ended {status or 'without a status'}: failing its Airflow run if it is still going")
    stop_runs(Airflow(), dag, run_ids(), STOP_BUDGET_S)
    return 0


def main() -> int:
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        dag = env("AM_DAG_ID")
        if not dag:
            raise Fatal("dag-id is empty")
        if env("AM_MODE", "run") == "stop":
            # Finishing is the point of the hook, and it gives up within STOP_BUDGET_S, inside Argo's grace.
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            return stop_mode(dag)
        return run_mode(Airflow(), dag)
    except Fatal as why:
        log(f"error: {why}")
        return why.code
    except Unreachable as why:
        log(f"error: {why}")
        return 75
    except Stopped:
        log("stopped before any Airflow run was triggered")
        return 143


if __name__ == "__main__":
    sys.exit(main())
