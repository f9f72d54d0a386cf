"""The ``airflow-dag`` wrapper's WorkflowTemplate, run by ``argo-migrate run --local`` against a real Airflow on
127.0.0.1 (tests/engines/airflow_api.py): Airflow 3.3.2 over API v2 (a JWT from /auth/token) and Airflow 2.10.5
over API v1 (basic auth), one server per major for the whole module (Airflow 2 comes up while Airflow 3's tests
run).

Each test writes the template that ``workflow_template(WrapperOptions())`` returns and runs it with
``--secret airflow-api=DIR`` (DIR holds url, username and password). What each asserts about a DAG run is what
Airflow itself reports over its REST API, not what the wrapper says about itself. The DAGs are in
``tests/fixtures/airflow_dag/``.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from backends.wrappers import WrapperOptions
from backends.wrappers.airflow_dag import DOC, arguments, workflow_template
from backends.wrappers.catalogue import inputs_of, template_name
from migrator.ir import Wrapped
from tests.engines.airflow_api import AirflowApi, free_port, start_airflow, stop_airflow
from tests.engines.tools import wait_for

FIXTURES = Path(__file__).parent / "fixtures" / "airflow_dag"
DAGS = ("am_succeeds", "am_fails", "am_sleeps", "am_migrated")
CLI = str(Path(sys.executable).with_name("argo-migrate"))
PROGRAM = Path(__file__).resolve().parents[1] / "backends" / "wrappers" / "programs" / "airflow_dag.py"
FAST = {"poll-min-seconds": "0.5", "poll-max-seconds": "2"}


def dag_files(major: int) -> list[Path]:
    return sorted(FIXTURES.glob("*.py")) + sorted((FIXTURES / f"airflow{major}").glob("*.py"))


class Servers:
    """The majors the selected tests use. Starting is CPU-bound, so one server starts at a time: the next one
    starts as soon as the current one is ready, and comes up while the current one's tests run (they mostly
    wait for Airflow)."""

    def __init__(self, wanted: list[int]) -> None:
        self.wanted = wanted
        self.started: dict[int, AirflowApi] = {}

    def ready(self, major: int) -> AirflowApi:
        if major not in self.started:
            self.started[major] = start_airflow(major, dag_files(major))
        server = self.started[major]
        server.wait_ready(DAGS)
        following = [m for m in self.wanted if m not in self.started]
        if following:
            self.started[following[0]] = start_airflow(following[0], dag_files(following[0]))
        return server

    def close(self) -> None:
        for server in self.started.values():
            stop_airflow(server)


@pytest.fixture(scope="module")
def servers(request: pytest.FixtureRequest) -> Iterator[Servers]:
    module = request.node.nodeid
    wanted = [major for major in (3, 2)
              if any(i.nodeid.startswith(module) and f"[airflow{major}]" in i.nodeid for i in request.session.items)]
    started = Servers(wanted)
    try:
        yield started
    finally:
        started.close()


@pytest.fixture(scope="module", params=[3, 2], ids=["airflow3", "airflow2"])
def airflow(request: pytest.FixtureRequest, servers: Servers) -> Iterator[AirflowApi]:
    server = servers.ready(request.param)
    yield server
    stop_airflow(server)  # pytest runs one major's tests together: its server is not needed any more


@pytest.fixture(autouse=True)
def _idle(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test starts with the scheduler free (Airflow 2 runs one task at a time) and leaves it so."""
    yield
    if "airflow" in request.fixturenames:
        request.getfixturevalue("airflow").quiesce()


def write_template(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "airflow-dag.yaml"
    path.write_text(yaml.safe_dump(workflow_template(WrapperOptions()), sort_keys=False))
    return path


def argv(airflow: AirflowApi, tmp_path: Path, dag: str, params: dict[str, str] | None = None,
         secret: Path | None = None) -> tuple[list[str], Path]:
    run = tmp_path / "run"
    values = {"dag-id": dag, "api": airflow.api, **FAST, **(params or {})}
    out = [CLI, "run", "--local", str(write_template(tmp_path)), "--workdir", str(run), "--timeout", "240",
           "--report", str(tmp_path / "report.json"),
           "--secret", f"airflow-api={secret or airflow.secret_dir(tmp_path / 'secret')}"]
    for name, value in values.items():
        out += ["-p", f"{name}={value}"]
    return out, run


def run_wrapper(airflow: AirflowApi, tmp_path: Path, dag: str, params: dict[str, str] | None = None,
                secret: Path | None = None) -> tuple[subprocess.CompletedProcess[str], dict[str, Any], Path]:
    command, run = argv(airflow, tmp_path, dag, params, secret)
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    return done, json.loads((run / "run.json").read_text()), run


def step_log(run: Path, key: str = "run") -> str:
    attempts = sorted((run / "nodes" / key).glob("attempt-*"))
    return "".join((attempts[-1] / name).read_text() for name in ("stdout.log", "stderr.log"))



def triggered_run(run: Path) -> str:
    """The run id the step printed when it triggered (the log is the first place it appears)."""
    def found() -> str | None:
        log = run / "nodes" / "run" / "attempt-0" / "stdout.log"
        text = log.read_text() if log.exists() else ""
        for line in text.splitlines():
            if ": run argo-migrate__" in line and "triggered" in line:
                return line.rsplit(": run ", 1)[1].strip()
        return None
    return str(wait_for(found, 60, "the step to trigger its DAG run"))


def running_task(airflow: AirflowApi, dag: str, run_id: str, task: str) -> None:
    wait_for(lambda: airflow.task_states(dag, run_id).get(task) == "running", 90, f"{dag}.{task} running")


def step_pid(script: Path) -> int:
    """The process running the step's script (the runner starts it as ``python <attempt>/script``)."""
    def found() -> int | None:
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if str(script).encode() in (entry / "cmdline").read_bytes().split(b"\0"):
                        return int(entry.name)
                except OSError:
                    continue
        return None
    pid = wait_for(found, 30, f"the process of {script}")
    assert pid is not None
    return pid


def files_holding(folder: Path, text: str) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file() and text.encode() in path.read_bytes()]


# ------------------------------------------------------------------------------------------------ the template


def test_template_is_lint_clean_and_takes_the_frontends_payload(tmp_path: Path) -> None:
    path = write_template(tmp_path)
    done = subprocess.run([CLI, "lint", str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "0 errors, 0 warnings" in done.stdout + done.stderr, done.stdout + done.stderr
    manifest = yaml.safe_load(path.read_text())
    assert manifest["metadata"]["name"] == template_name("airflow-dag")
    main = next(t for t in manifest["spec"]["templates"] if t["name"] == "main")
    assert main["inputs"]["parameters"] == inputs_of(DOC)["parameters"]
    assert main["steps"][0][0]["hooks"]["exit"]["template"] == "stop"
    refs = [e["valueFrom"]["secretKeyRef"] for t in manifest["spec"]["templates"] if "script" in t
            for e in t["script"]["env"] if "valueFrom" in e]
    assert {r["name"] for r in refs} == {"airflow-api"}
    assert {r["key"] for r in refs} == {"url", "token", "username", "password"}
    # What frontends/airflow/build.py puts in the Wrapped action of a DAG run whole.
    action = Wrapped("airflow-dag", (("dag_id", "etl"), ("api", "v1"), ("file", "etl.py"),
                                     ("conf_parameter", "dag_run_conf")))
    declared = {p.name for p in DOC.parameters}
    passed = arguments(action, WrapperOptions())
    assert passed == (("dag-id", "etl"), ("api", "v1"), ("conf", "{{workflow.parameters.dag_run_conf}}"))
    assert {name for name, _ in passed} <= declared


@pytest.mark.parametrize(("change", "said"), [
    ({"AIRFLOW_URL": ""}, "the Secret airflow-api has no key 'url'"),
    ({"AIRFLOW_URL": "airflow:8080"}, "is not an http(s) URL"),
    ({"AIRFLOW_USERNAME": "", "AIRFLOW_PASSWORD": ""}, "needs key 'token', or keys 'username' and 'password'"),
    ({"AM_API": "v3"}, "api must be v2 (Airflow 3) or v1 (Airflow 2)"),
    ({"AM_CONF": "[1]"}, "conf must be a JSON object"),
    ({"AM_CONF": "{day"}, "conf is not JSON"),
], ids=["no-url", "bad-url", "no-credentials", "bad-api", "conf-not-object", "conf-not-json"])
def test_configuration_errors_fail_at_once_before_any_request(change: dict[str, str], said: str) -> None:
    # Port 9 (discard) on loopback: nothing answers, so a request would show as a retry, not as this error.
    env = {"PATH": os.environ["PATH"], "AM_MODE": "run", "AM_API": "v2", "AM_DAG_ID": "etl", "AM_CONF": "{}",
           "AM_WORKFLOW_UID": "uid", "AM_RUN_KEY": "wf", "AIRFLOW_URL": "http://127.0.0.1:9",
           "AIRFLOW_USERNAME": "admin", "AIRFLOW_PASSWORD": "pw-" + secrets.token_hex(4), **change}
    done = subprocess.run([sys.executable, str(PROGRAM)], env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 2, done.stdout + done.stderr
    assert said in done.stdout and "retrying" not in done.stdout
    assert not env["AIRFLOW_PASSWORD"] or env["AIRFLOW_PASSWORD"] not in done.stdout + done.stderr


# ------------------------------------------------------------------------------------------------ real Airflow


def test_a_run_that_succeeds_is_a_step_that_succeeds(airflow: AirflowApi, tmp_path: Path) -> None:
    # am_succeeds' only task succeeds only when the conf arrived.
    done, report, run = run_wrapper(airflow, tmp_path, "am_succeeds", {"conf": '{"day": "2024-01-01"}'})
    assert done.returncode == 0, step_log(run)
    assert report["phase"] == "Succeeded"
    outputs = report["entrypoint"]["outputs"]["parameters"]
    run_id = outputs["dag-run-id"]
    remote = airflow.run("am_succeeds", run_id)
    assert remote is not None and remote["state"] == "success" and remote["conf"] == {"day": "2024-01-01"}
    assert outputs["state"] == "success"
    assert json.loads(outputs["task-states"]) == airflow.task_states("am_succeeds", run_id) == {"echo_conf": "success"}
    assert "task echo_conf: success" in step_log(run)
    assert report["nodes"]["run.onExit"]["phase"] == "Succeeded"
    assert "stopped" not in step_log(run, "run.onExit") and "marked" not in step_log(run, "run.onExit")
    assert files_holding(run, airflow.password) == [] and airflow.password not in done.stdout + done.stderr


def test_a_failed_run_fails_the_step_and_reports_every_task(airflow: AirflowApi, tmp_path: Path) -> None:
    done, report, run = run_wrapper(airflow, tmp_path, "am_fails")
    assert done.returncode == 1, step_log(run)
    assert report["phase"] == "Failed"
    node = report["nodes"]["run"]
    assert node["phase"] == "Failed" and node["exitCode"] == 1
    run_id = node["outputs"]["parameters"]["dag-run-id"]
    remote = airflow.run("am_fails", run_id)
    assert remote is not None and remote["state"] == "failed"
    assert node["outputs"]["parameters"]["state"] == "failed"
    states = {"boom": "failed", "after": "upstream_failed"}
    assert json.loads(node["outputs"]["parameters"]["task-states"]) == airflow.task_states("am_fails", run_id) == states
    log = step_log(run)
    assert "task boom: failed" in log and "task after: upstream_failed" in log
    # The exit hook ran (the step did not succeed) and left the finished run as it was.
    assert f"run {run_id} of am_fails already ended failed" in step_log(run, "run.onExit")


def test_stopping_the_workflow_fails_the_airflow_run(airflow: AirflowApi, tmp_path: Path) -> None:
    command, run = argv(airflow, tmp_path, "am_sleeps")
    runner = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              start_new_session=True)
    try:
        run_id = triggered_run(run)
        running_task(airflow, "am_sleeps", run_id, "sleep")
        runner.send_signal(signal.SIGTERM)  # what `argo stop` amounts to: the runner sends SIGTERM to the step
        out, _ = runner.communicate(timeout=60)
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()
    assert runner.returncode == 143, out
    remote = airflow.run("am_sleeps", run_id)
    assert remote is not None and remote["state"] == "failed"
    assert airflow.task_states("am_sleeps", run_id)["sleep"] == "failed"
    assert f"marked run {run_id} of am_sleeps failed (it was running)" in step_log(run)


def test_a_killed_step_has_its_run_failed_by_the_exit_hook(airflow: AirflowApi, tmp_path: Path) -> None:
    # SIGKILL leaves the program no chance to trap anything: only the exit hook can stop the Airflow run.
    command, run = argv(airflow, tmp_path, "am_sleeps")
    runner = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              start_new_session=True)
    try:
        run_id = triggered_run(run)
        running_task(airflow, "am_sleeps", run_id, "sleep")
        os.kill(step_pid(run / "nodes" / "run" / "attempt-0" / "script"), signal.SIGKILL)
        out, _ = runner.communicate(timeout=90)
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()
    assert runner.returncode == 1, out
    report = json.loads((run / "run.json").read_text())
    # Failed, as Argo marks a container killed by a signal; an Error would be retried (retryPolicy OnError).
    assert report["nodes"]["run"]["phase"] == "Failed"
    assert report["nodes"]["run.onExit"]["phase"] == "Succeeded", step_log(run, "run.onExit")
    remote = airflow.run("am_sleeps", run_id)
    assert remote is not None and remote["state"] == "failed"
    assert f"marked run {run_id} of am_sleeps failed (it was running)" in step_log(run, "run.onExit")


def test_bad_credentials_fail_at_once_and_leak_nowhere(airflow: AirflowApi, tmp_path: Path) -> None:
    wrong = "wrong-" + secrets.token_hex(8)
    secret = airflow.secret_dir(tmp_path / "secret", password=wrong)
    before = airflow.runs("am_succeeds")
    started = time.monotonic()
    done, report, run = run_wrapper(airflow, tmp_path, "am_succeeds", secret=secret)
    assert time.monotonic() - started < 30  # no retry of a refusal (the retry budget is 300 s)
    assert done.returncode == 1
    node = report["nodes"]["run"]
    assert node["phase"] == "Failed" and node["exitCode"] == 2
    # Airflow 3 refuses the token request; Airflow 2 the API call itself.
    said = "refused the username/password" if airflow.major == 3 else "refused the credentials (HTTP 401"
    assert said in step_log(run), step_log(run)
    assert airflow.runs("am_succeeds") == before
    for text in (wrong, airflow.password):
        assert files_holding(run, text) == [] and files_holding(tmp_path / "report.json", text) == []
        assert text not in done.stdout + done.stderr


def test_an_unknown_dag_fails_at_once(airflow: AirflowApi, tmp_path: Path) -> None:
    done, report, run = run_wrapper(airflow, tmp_path, "am_no_such_dag")
    assert done.returncode == 1
    assert report["nodes"]["run"]["exitCode"] == 2
    assert "not found at" in step_log(run) and "am_no_such_dag" in step_log(run)


def test_a_paused_dag_fails_at_once_unless_unpause_is_asked(airflow: AirflowApi, tmp_path: Path) -> None:
    pause = "/dags/am_sleeps?update_mask=is_paused"
    assert airflow.call("PATCH", pause, {"is_paused": True})[0] == 200
    try:
        before = airflow.runs("am_sleeps")
        done, report, run = run_wrapper(airflow, tmp_path, "am_sleeps")
        assert done.returncode == 1 and report["nodes"]["run"]["exitCode"] == 2
        assert "DAG am_sleeps is paused" in step_log(run), step_log(run)
        assert airflow.runs("am_sleeps") == before
        # With unpause=true the run is triggered on the unpaused DAG (then stopped: its end is not the point).
        proc, lines = start_program(program_env(airflow, "am_sleeps", AM_UNPAUSE="true"))
        assert airflow.call("GET", "/dags/am_sleeps")[1]["is_paused"] is False
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 143, "".join(lines) + out
        assert any("unpaused DAG am_sleeps (unpause=true)" in line for line in lines), lines
        assert "triggered am_sleeps" in lines[-1]
    finally:
        airflow.call("PATCH", pause, {"is_paused": False})


def test_an_unreachable_api_is_retried_then_fails_clearly(airflow: AirflowApi, tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    secret = airflow.secret_dir(tmp_path / "secret", url=f"http://127.0.0.1:{port}")
    started = time.monotonic()
    done, report, run = run_wrapper(airflow, tmp_path, "am_succeeds", {"network-retry-seconds": "2"}, secret)
    assert 2 <= time.monotonic() - started < 30
    assert done.returncode == 1
    assert report["nodes"]["run"]["exitCode"] == 75
    log = step_log(run)
    assert log.count("retrying in") >= 2, log
    assert f"Airflow at http://127.0.0.1:{port} did not answer" in log and "for 2 s" in log


class LateProxy:
    """A TCP forwarder to Airflow that starts listening only ``delay`` seconds after it is made: until then a
    connection is refused, as when the API server is restarting."""

    def __init__(self, target: int, delay: float) -> None:
        self.port, self.target = free_port(), target
        self.accepted = 0
        self.server: socket.socket | None = None
        self.closed = threading.Event()
        threading.Timer(delay, self._listen).start()

    def _listen(self) -> None:
        if self.closed.is_set():
            return
        server = socket.create_server(("127.0.0.1", self.port))
        self.server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()

    def _accept(self, server: socket.socket) -> None:
        while not self.closed.is_set():
            try:
                client, _ = server.accept()
            except OSError:
                return
            self.accepted += 1
            upstream = socket.create_connection(("127.0.0.1", self.target))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self.closed.set()
        if self.server is not None:
            self.server.close()


def test_an_api_that_answers_late_is_retried_until_it_does(airflow: AirflowApi) -> None:
    """The program itself against an API that refuses connections for 3 s: it retries, then triggers the run
    (then it is stopped: following a run to its end is what the other tests show)."""
    proxy = LateProxy(int(airflow.url.rsplit(":", 1)[1]), delay=3)
    try:
        proc, lines = start_program(program_env(airflow, "am_sleeps", AIRFLOW_URL=f"http://127.0.0.1:{proxy.port}"))
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    finally:
        proxy.close()
    assert any("Connection refused; retrying in" in line for line in lines[:-1]), lines
    assert "triggered am_sleeps" in lines[-1] and proxy.accepted > 0, lines
    run_id = lines[-1].rsplit(": run ", 1)[1].strip()
    assert airflow.run("am_sleeps", run_id) is not None
    assert proc.returncode == 143, "".join(lines) + out


def program_env(airflow: AirflowApi, dag: str, **more: str) -> dict[str, str]:
    """The environment the run template gives the program (a retried pod gets the same one)."""
    return {"PATH": os.environ["PATH"], "AM_MODE": "run", "AM_API": airflow.api, "AM_DAG_ID": dag,
            "AM_CONF": '{"day": "2024-01-01"}', "AM_POLL_MIN_SECONDS": "0.5", "AM_POLL_MAX_SECONDS": "2",
            "AM_WORKFLOW_UID": "uid-" + secrets.token_hex(4), "AM_RUN_KEY": "wf.run", "AM_DAG_RUN_ID": "",
            "AIRFLOW_URL": airflow.url, "AIRFLOW_USERNAME": airflow.username, "AIRFLOW_PASSWORD": airflow.password,
            **more}


def start_program(env: dict[str, str]) -> tuple[subprocess.Popen[str], list[str]]:
    """The program started, and its output up to the line saying which run it triggered."""
    proc = subprocess.Popen([sys.executable, str(PROGRAM)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    lines = [proc.stdout.readline()]
    while lines[-1] and "triggered" not in lines[-1]:
        lines.append(proc.stdout.readline())
    return proc, lines


def test_a_retried_step_attaches_to_the_run_it_triggered(airflow: AirflowApi, tmp_path: Path) -> None:
    """The program itself, twice with the same run id, as a retried pod runs it: the first attempt is killed right
    after it triggered; the second must follow that run, not start another."""
    env = program_env(airflow, "am_succeeds")
    first, lines = start_program(env)
    first.kill()
    first.communicate(timeout=30)
    assert "triggered am_succeeds" in lines[-1], lines
    run_id = lines[-1].rsplit(": run ", 1)[1].strip()
    second = subprocess.run([sys.executable, str(PROGRAM)], env=env, capture_output=True, text=True, timeout=180)
    assert second.returncode == 0, second.stdout + second.stderr
    assert f"attached to run {run_id} of am_succeeds" in second.stdout
    assert [r["dag_run_id"] for r in airflow.runs("am_succeeds") if r["dag_run_id"].startswith(run_id)] == [run_id]
    remote = airflow.run("am_succeeds", run_id)
    assert remote is not None and remote["state"] == "success"


def test_a_dag_migrated_with_the_integrate_strategy_runs_whole_on_airflow(airflow: AirflowApi, tmp_path: Path) -> None:
    """The Airflow frontend's payload (dag_id, api, the dag_run_conf parameter) through the templateRef the
    backend writes, end to end: the migrated workflow, as written, run against the real Airflow."""
    source = FIXTURES / f"airflow{airflow.major}" / "am_migrated.py"
    out = tmp_path / "out"
    done = subprocess.run([CLI, "airflow", str(source), "--strategy", "integrate", "-o", str(out), "--quiet"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode in (0, 1), done.stdout + done.stderr  # 1: the DAG is wrapped, not translated
    documents = list(yaml.safe_load_all((out / "am-migrated.yaml").read_text()))
    wrapper = next(d for d in documents if d["metadata"]["name"] == template_name("airflow-dag"))
    call = next(t for t in documents[0]["spec"]["templates"] if t["name"] == "main")["dag"]["tasks"][0]
    assert call["templateRef"] == {"name": template_name("airflow-dag"), "template": "main"}
    assert {p["name"]: p["value"] for p in call["arguments"]["parameters"]}["api"] == airflow.api
    # Only the polling is made quicker than the template's defaults, as a caller may.
    main = next(t for t in wrapper["spec"]["templates"] if t["name"] == "main")
    for param in main["inputs"]["parameters"]:
        param["default"] = FAST.get(param["name"], param.get("default"))
    manifest = tmp_path / "am-migrated.yaml"
    manifest.write_text(yaml.safe_dump_all(documents, sort_keys=False))
    run = tmp_path / "run"
    done = subprocess.run([CLI, "run", "--local", str(manifest), "--workdir", str(run), "--timeout", "240",
                           "-p", 'dag_run_conf={"day": "2024-01-01"}',
                           "--secret", f"airflow-api={airflow.secret_dir(tmp_path / 'secret')}"],
                          capture_output=True, text=True, timeout=300)
    report = json.loads((run / "run.json").read_text())
    step = next(k for k in report["nodes"] if k.endswith(".run"))
    assert done.returncode == 0, step_log(run, step)
    run_id = report["nodes"][step]["outputs"]["parameters"]["dag-run-id"]
    remote = airflow.run("am_migrated", run_id)
    assert remote is not None and remote["state"] == "success" and remote["conf"] == {"day": "2024-01-01"}


def test_a_retry_after_a_failed_run_triggers_a_new_one(airflow: AirflowApi) -> None:
    """A retried step whose earlier run failed does not attach to that run (it would fail at once): it triggers
    ``<id>__try2``. The program is stopped as soon as it triggered, which also spares waiting for the run."""
    run_id = "am-test-" + secrets.token_hex(4)
    body: dict[str, Any] = {"dag_run_id": run_id, "conf": {}}
    if airflow.major == 3:
        body["logical_date"] = None
    assert airflow.call("POST", "/dags/am_sleeps/dagRuns", body)[0] in (200, 201)
    assert airflow.call("PATCH", f"/dags/am_sleeps/dagRuns/{run_id}", {"state": "failed"})[0] == 200
    proc, lines = start_program(program_env(airflow, "am_sleeps", AM_DAG_RUN_ID=run_id))
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 143, "".join(lines) + out
    assert f"run {run_id} of am_sleeps (an earlier attempt of this step) failed; triggering a new one" in lines[0]
    assert lines[-1].rstrip().endswith(f"run {run_id}__try2"), lines
    assert sorted(r["dag_run_id"] for r in airflow.runs("am_sleeps") if r["dag_run_id"].startswith(run_id)) == \
        [run_id, f"{run_id}__try2"]
    for each in (run_id, f"{run_id}__try2"):
        remote = airflow.run("am_sleeps", each)
        assert remote is not None and remote["state"] == "failed"
