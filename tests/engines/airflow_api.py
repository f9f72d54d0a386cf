"""A real Airflow serving its REST API on 127.0.0.1, for the ``airflow-dag`` wrapper's tests.

:func:`start_airflow` starts one from an oracle virtualenv (``tests/oracles/airflow_env.py``) with a SQLite
metadata database under a temporary folder, :meth:`AirflowApi.wait_ready` waits until the given DAGs are served,
:func:`stop_airflow` stops it (:func:`airflow_api` does all three around a block):

- Airflow 3: ``api-server`` (API v2; the simple auth manager, whose one user ``admin`` gets a random password
  through its passwords file; ``POST /auth/token`` hands out JWTs), ``scheduler`` with the LocalExecutor (which
  Airflow 3 accepts on SQLite; its tasks talk to the api-server's execution API, hence the shared JWT secret and
  ``execution_api_server_url``) and ``dag-processor``;
- Airflow 2: ``webserver`` (API v1 with the basic-auth backend; a FAB user ``admin`` with a random password) and
  ``scheduler`` with the SequentialExecutor (the only one Airflow 2 allows on SQLite; it runs one task at a time,
  as an ``airflow tasks run`` subprocess found on PATH).

Nothing listens on 0.0.0.0: the API binds 127.0.0.1 and the scheduler runs with ``--skip-serve-logs``. The migrated
database (and Airflow 2's user) is made once per virtualenv and cached in ``.cache/engines/airflow-api/``: a fresh
copy per server saves the 7-13 s that ``db migrate`` and ``users create`` take; the password is set anew each
time (Airflow 2's user row is updated, Airflow 3 reads it from the passwords file).

Why the other settings: DAGs start unpaused (``dags_are_paused_at_creation``), so the wrapper can trigger them at
once; ``job_heartbeat_sec=1`` lets Airflow 2 kill a task whose run was marked failed within a second or two
(the SequentialExecutor's scheduler waits for that task before it does anything else); one API worker, one
parsing process and no re-parsing (the files do not change), so that an idle server costs a few per cent of a
core and two can run side by side.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.oracles.airflow_env import AIRFLOW2, AIRFLOW3, REPO, OracleEnv, ensure

CACHE = REPO / ".cache" / "engines" / "airflow-api"
USER = "admin"
START_TIMEOUT_S = 120
# Bumped when the cached database's recipe changes (what is migrated, which user exists).
RECIPE = "1"


class EngineError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class AirflowApi:
    """A running Airflow: its URL and credentials, and a small client for the tests' own look at it."""

    major: int
    url: str
    password: str
    home: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _token: str = ""

    @property
    def api(self) -> str:
        return "v2" if self.major == 3 else "v1"

    @property
    def username(self) -> str:
        return USER

    def secret_dir(self, folder: Path, **override: str) -> Path:
        """The Secret ``airflow-api`` as the runner's ``--secret`` folder: keys url, username, password."""
        folder.mkdir(parents=True, exist_ok=True)
        for key, value in {"url": self.url, "username": USER, "password": self.password, **override}.items():
            (folder / key).write_text(value)
        return folder

    def _authorization(self) -> str:
        if self.major == 2:
            return "Basic " + base64.b64encode(f"{USER}:{self.password}".encode()).decode()
        if not self._token:
            body = json.dumps({"username": USER, "password": self.password}).encode()
            request = urllib.request.Request(self.url + "/auth/token", body, {"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=30) as response:
                self._token = json.load(response)["access_token"]
        return "Bearer " + self._token

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        """``(status, JSON)`` of ``/api/<v1|v2><path>``."""
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": self._authorization(), "Content-Type": "application/json"}
        request = urllib.request.Request(f"{self.url}/api/{self.api}{path}", data, headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            raw = error.read()
            try:
                return error.code, json.loads(raw or b"null")
            except ValueError:
                return error.code, raw.decode(errors="replace")

    def run(self, dag_id: str, run_id: str) -> dict[str, Any] | None:
        status, payload = self.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}")
        return payload if status == 200 else None

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        status, payload = self.call("GET", f"/dags/{dag_id}/dagRuns?limit=100")
        if status != 200:
            raise EngineError(f"listing the runs of {dag_id}: HTTP {status} {payload}")
        return list(payload["dag_runs"])

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str | None]:
        status, payload = self.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")
        if status != 200:
            raise EngineError(f"listing the task instances of {dag_id}/{run_id}: HTTP {status} {payload}")
        return {ti["task_id"]: ti["state"] for ti in payload["task_instances"]}

    def wait_ready(self, dag_ids: tuple[str, ...], timeout: float = START_TIMEOUT_S) -> None:
        """Until every process runs and the API serves each of ``dag_ids`` (parsed by the DAG processor)."""
        def served() -> bool:
            for name, proc in self.processes.items():
                if proc.poll() is not None:
                    raise EngineError(f"airflow {name} exited with {proc.returncode}:\n"
                                      + (self.home / "logs" / f"{name}.log").read_text(errors="replace")[-3000:])
            return all(self.call("GET", f"/dags/{dag_id}")[0] == 200 for dag_id in dag_ids)
        self.wait_for(f"Airflow {self.major} serving {', '.join(dag_ids)}", served, timeout)

    def wait_for(self, what: str, ready: Callable[[], bool], timeout: float = 60) -> None:
        wait_until(ready, timeout, what, self.home / "logs")

    def quiesce(self, timeout: float = 60) -> None:
        """Until no run is queued or running (a test leaves the scheduler free for the next)."""
        def idle() -> bool:
            status, payload = self.call("GET", "/dags/~/dagRuns?state=running&state=queued&limit=1")
            return status == 200 and payload["total_entries"] == 0
        self.wait_for("no queued or running DAG run", idle, timeout)


def wait_until(ready: Callable[[], bool], timeout: float, what: str, logs: Path) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if ready():
                return
        except (OSError, urllib.error.URLError, ValueError, KeyError):
            pass
        time.sleep(0.25)
    tails = "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-2500:]}"
                      for log in sorted(logs.glob("*.log")))
    raise EngineError(f"{what}: not within {timeout:g} s; the logs end:\n{tails}")


def _environment(env: OracleEnv, home: Path, dags: Path, port: int, major: int) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items()
            if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV") and not k.startswith("AIRFLOW")}
    common = {
        "AIRFLOW_HOME": str(home),
        # The executors start `airflow` by name: the venv's must be found first.
        "PATH": os.pathsep.join([str(env.venv / "bin"), base.get("PATH", "/usr/bin:/bin")]),
        "PYTHONDONTWRITEBYTECODE": "1",
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__SCHEDULER__JOB_HEARTBEAT_SEC": "1",
    }
    # The DAG files never change while a server runs: parse them once, with one process, to leave the CPU to
    # the tests (both majors may run at once).
    parsing = "DAG_PROCESSOR" if major == 3 else "SCHEDULER"
    common.update({f"AIRFLOW__{parsing}__MIN_FILE_PROCESS_INTERVAL": "3600",
                   f"AIRFLOW__{parsing}__PARSING_PROCESSES": "1"})
    if major == 3:
        return {**base, **common,
                "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
                "AIRFLOW__CORE__AUTH_MANAGER":
                    "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:admin",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(port),
                "AIRFLOW__API__WORKERS": "1",
                "AIRFLOW__API__SECRET_KEY": secrets.token_hex(16),
                "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32)}
    return {**base, **common,
            "AIRFLOW__CORE__EXECUTOR": "SequentialExecutor",
            "AIRFLOW__API__AUTH_BACKENDS": "airflow.api.auth.backend.basic_auth",
            "AIRFLOW__WEBSERVER__SECRET_KEY": secrets.token_hex(16),
            "AIRFLOW__WEBSERVER__WORKERS": "1",
            "AIRFLOW__WEBSERVER__WEB_SERVER_HOST": "127.0.0.1",
            "AIRFLOW__WEBSERVER__WEB_SERVER_PORT": str(port)}


def _airflow(env: OracleEnv) -> str:
    return str(env.venv / "bin" / "airflow")


def _run(argv: list[str], environment: dict[str, str], what: str, cwd: Path, timeout: float = 180) -> None:
    done = subprocess.run(argv, env=environment, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise EngineError(f"{what} failed (exit {done.returncode}):\n{(done.stdout + done.stderr)[-3000:]}")


def _database(env: OracleEnv, major: int, environment: dict[str, str], home: Path) -> None:
    """The migrated database at ``home/airflow.db``: a copy of the cached one, made first if need be."""
    marker = json.loads(env.marker.read_text())
    key = f"{env.name}-{RECIPE}-{hashlib.sha256(json.dumps(marker['freeze']).encode()).hexdigest()[:16]}"
    cached = CACHE / f"{key}.db"
    if not cached.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        _run([_airflow(env), "db", "migrate"], environment, "airflow db migrate", home)
        if major == 2:
            _run([_airflow(env), "users", "create", "--username", USER, "--password", secrets.token_hex(16),
                  "--role", "Admin", "--email", "admin@example.invalid", "--firstname", "a", "--lastname", "b"],
                 environment, "airflow users create", home)
        tmp = cached.with_suffix(f".{os.getpid()}.tmp")
        shutil.copyfile(home / "airflow.db", tmp)
        os.replace(tmp, cached)
    else:
        shutil.copyfile(cached, home / "airflow.db")


def _set_password(env: OracleEnv, major: int, environment: dict[str, str], home: Path, password: str) -> None:
    if major == 3:
        path = home / "passwords.json"
        path.write_text(json.dumps({USER: password}))
        path.chmod(0o600)
        return
    # FAB's hash of the password, written with Airflow's own libraries (one interpreter start, no CLI parsing).
    script = ("import sqlite3, sys; from werkzeug.security import generate_password_hash; "
              "db = sqlite3.connect(sys.argv[1]); "
              "db.execute('update ab_user set password=? where username=?', "
              "(generate_password_hash(sys.stdin.read()), sys.argv[2])); db.commit()")
    done = subprocess.run([str(env.python), "-c", script, str(home / "airflow.db"), USER], input=password,
                          env=environment, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise EngineError(f"setting the Airflow 2 user's password failed:\n{done.stderr[-2000:]}")


def _spawn(argv: list[str], log: Path, environment: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True, env=environment, cwd=cwd)


def _ours(home: Path) -> list[int]:
    """Processes started with this server's AIRFLOW_HOME: task processes that left our process groups."""
    mark = f"AIRFLOW_HOME={home}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if mark in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def _stop(server: AirflowApi, grace: float = 15) -> None:
    for proc in server.processes.values():
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    end = time.monotonic() + grace
    for proc in server.processes.values():
        try:
            proc.wait(timeout=max(0.1, end - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
    for proc in server.processes.values():
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if proc.poll() is None:
            proc.wait(timeout=10)
    for pid in _ours(server.home):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def start_airflow(major: int, dag_files: Sequence[Path]) -> AirflowApi:
    """Airflow ``major`` (3 or 2) starting to serve ``dag_files`` (copied into its own DAGs folder, so that each
    major gets the files it can import); :meth:`AirflowApi.wait_ready` waits for it, :func:`stop_airflow` ends
    it. Starting returns at once, so that one server can come up while another is used."""
    env = AIRFLOW3 if major == 3 else AIRFLOW2
    ensure(env)
    home = Path(tempfile.mkdtemp(prefix=f"am-airflow{major}-"))
    (home / "logs").mkdir()
    (home / "dags").mkdir()
    for path in dag_files:
        shutil.copyfile(path, home / "dags" / path.name)
    port = free_port()
    environment = _environment(env, home, home / "dags", port, major)
    server = AirflowApi(major, f"http://127.0.0.1:{port}", secrets.token_urlsafe(18), home)
    try:
        _database(env, major, environment, home)
        _set_password(env, major, environment, home, server.password)
        airflow, logs = _airflow(env), home / "logs"
        if major == 3:
            server.processes["api-server"] = _spawn(
                [airflow, "api-server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
                logs / "api-server.log", environment, home)
            server.processes["dag-processor"] = _spawn([airflow, "dag-processor"], logs / "dag-processor.log",
                                                       environment, home)
        else:
            server.processes["webserver"] = _spawn(
                [airflow, "webserver", "--hostname", "127.0.0.1", "--port", str(port), "--workers", "1"],
                logs / "webserver.log", environment, home)
        server.processes["scheduler"] = _spawn([airflow, "scheduler", "--skip-serve-logs"],
                                               logs / "scheduler.log", environment, home)
    except BaseException:
        stop_airflow(server)
        raise
    return server


def stop_airflow(server: AirflowApi) -> None:
    _stop(server)
    shutil.rmtree(server.home, ignore_errors=True)


@contextmanager
def airflow_api(major: int, dag_files: Sequence[Path], dag_ids: tuple[str, ...]) -> Iterator[AirflowApi]:
    """Airflow ``major`` serving ``dag_files``, ready once each of ``dag_ids`` is served; stopped afterwards."""
    server = start_airflow(major, dag_files)
    try:
        server.wait_ready(dag_ids)
        yield server
    finally:
        stop_airflow(server)
