"""The airflow-task wrapper against real Airflow 3.3.2 and 2.10.5 (the oracle virtualenvs stand for the images).

- every task of the fixture DAG (tests/fixtures/airflow_task/dags/am_fixture.py), run by the wrapper's program with
  the XComs its upstreams produced through the wrapper, ends as Airflow's own ``dag.test()`` ends it, with the same
  XComs; a branch's and a short-circuit's ``skip-tasks`` are the tasks dag.test skipped;
- the context: params, ``dag_run.conf``, logical date, data interval and run id of a manual run (dag.test's) and of
  the first scheduled run (the timetable's own answer);
- Airflow's example_xcom: the puller succeeds with its upstreams' XComs and fails without them, as in Airflow;
- retries: a retry due exits 3 (the WorkflowTemplate retries on it), AirflowFailException exits 1;
- the whole program: exit status, failure callback, skip, connection password and ``mask_secret`` values in no
  output, SIGTERM reaching the operator's on_kill;
- the WorkflowTemplates: lint-clean, and run through ``argo-migrate run --local`` by templateRef from a Workflow
  (failing, skipping, mapped and connection-using tasks, XComs passed from step to step).

Cached in .cache/airflow_task/: a migrated metadata database per Airflow (for dag.test) and dag.test's answers,
keyed by the fixture files, the oracle script and the installed versions.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from backends.wrappers import WrapperOptions
from backends.wrappers import airflow_task as wrapper
from backends.wrappers.catalogue import template_name
from migrator.ir import Wrapped
from tests.oracles.airflow_env import AIRFLOW2, AIRFLOW3, REPO, OracleEnv, ensure, versions

FIXTURES = Path(__file__).parent / "fixtures" / "airflow_task"
DAGS = FIXTURES / "dags"
FLAT = FIXTURES / "flat" / "am_flat.py"
PROGRAM = REPO / "backends" / "wrappers" / "programs" / "airflow_task.py"
CACHE = REPO / ".cache" / "airflow_task"
CORPORA = REPO / ".cache" / "corpora"
REPRO = Path("/work/shared/repros/airflow/r_wrapped_fail.py")
ENVS = {"airflow3": AIRFLOW3, "airflow2": AIRFLOW2}
OPTIONS = WrapperOptions()
WHEN = "2024-03-05T06:07:08Z"
CONF = {"colour": "blue"}
# A fake credential for the fixture connection; only its absence from every output matters.
PASSWORD = "fixture-pw-" + "q7" * 6
CONNECTION = f"postgresql://alice:{PASSWORD}@db.example:5432/app"
SECRETS = {"AIRFLOW_CONN_AM_DB": CONNECTION, "AIRFLOW_VAR_AM_COLOUR": "green"}
# Which fixture task reads which upstream's XComs (the test passes what the wrapper's upstream run produced).
UPSTREAM = {"double": "numbers", "total": "numbers"}


def _clean_env(home: Path, **extra: str) -> dict[str, str]:
    """An environment for an Airflow process: nothing of argo-migrate's own, a private AIRFLOW_HOME."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV") and not k.startswith(("AIRFLOW", "AM_"))}
    env.update(AIRFLOW_HOME=str(home), HOME=str(home), PYTHONDONTWRITEBYTECODE="1", **extra)
    return env


def _digest(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part + b"\0")
    return digest.hexdigest()[:20]


def _files(folder: Path) -> list[bytes]:
    return [str(p.relative_to(folder)).encode() + b"\0" + p.read_bytes()
            for p in sorted(folder.rglob("*.py")) if "__pycache__" not in p.parts]


# --- the oracle: Airflow's own dag.test() -------------------------------------------------------------------


def _migrated_database(env: OracleEnv, python: Path) -> Path:
    """An initialised metadata database for ``env``'s Airflow (built once, copied for each dag.test)."""
    target = CACHE / f"{env.name}-{_digest(*(v.encode() for v in versions(env)))}.db"
    if target.exists():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="am-airflow-db-") as home:
        database = Path(home) / "airflow.db"
        done = subprocess.run([str(python.parent / "airflow"), "db", "migrate"], capture_output=True, text=True,
                              timeout=300, env=_clean_env(Path(home), AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=
                                                          f"sqlite:///{database}"))
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        shutil.copy(database, tmp)
        os.replace(tmp, target)
    return target


def _dag_test(env: OracleEnv, python: Path, dag_file: Path, dag_id: str, conf: dict[str, Any]) -> dict[str, Any]:
    script = FIXTURES / "oracle_dag_test.py"
    key = _digest(script.read_bytes(), *_files(dag_file.parent), *(v.encode() for v in versions(env)),
                  dag_id.encode(), WHEN.encode(), json.dumps(conf).encode(), json.dumps(SECRETS).encode())
    cached = CACHE / f"dag-test-{env.name}-{dag_id}-{key}.json"
    if cached.exists():
        return dict(json.loads(cached.read_text()))
    database = _migrated_database(env, python)
    with tempfile.TemporaryDirectory(prefix="am-dag-test-") as home:
        copy = Path(home) / "airflow.db"
        shutil.copy(database, copy)
        child = _clean_env(Path(home), AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{copy}",
                           AIRFLOW__CORE__LOAD_EXAMPLES="False", AIRFLOW__CORE__DAGS_FOLDER=str(dag_file.parent),
                           PYTHONPATH=str(dag_file.parent), **SECRETS)
        done = subprocess.run([str(python), str(script), str(dag_file), dag_id, WHEN, json.dumps(conf)],
                              capture_output=True, text=True, timeout=300, env=child, cwd=home)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(result, indent=1, sort_keys=True))
    os.replace(tmp, cached)
    return dict(result)


# --- the program, many cases in one interpreter (tests/fixtures/airflow_task/batch.py) ----------------------


def _case(name: str, task_id: str, *, dag_id: str = "am_fixture", file: Path = DAGS / "am_fixture.py",
          map_index: int = -1, xcom_from: dict[str, Any] | None = None, **env: str) -> dict[str, Any]:
    base = {"AM_DAGS_FOLDER": str(file.parent), "AM_DAG_FILE": file.name, "AM_DAG_ID": dag_id,
            "AM_TASK_ID": task_id, "AM_MAP_INDEX": str(map_index), "AM_LOGICAL_DATE": WHEN,
            "AM_DAG_RUN_CONF": json.dumps(CONF)}
    return {"name": name, "env": {**base, **SECRETS, **env}, "xcom_from": xcom_from or {}}


def _fixture_cases(oracle: dict[str, Any], airflow3: bool) -> list[dict[str, Any]]:
    """Every task instance dag.test ran, upstreams first; then the context and example_xcom cases."""
    names = sorted(oracle["tasks"], key=lambda n: (n.split("[")[0] in UPSTREAM, n))
    cases = []
    for name in names:
        task_id, _, index = name.partition("[")
        xcom_from = {UPSTREAM[task_id]: UPSTREAM[task_id]} if task_id in UPSTREAM else None
        cases.append(_case(name, task_id, map_index=int(index.rstrip("]") or -1), xcom_from=xcom_from))
    first = oracle["first_scheduled"]
    cases += [
        _case("templated-params", "templated", AM_PARAMS=json.dumps({"who": "argo"})),
        _case("templated-scheduled", "templated", AM_RUN_TYPE="scheduled", AM_LOGICAL_DATE=first["run_after"],
              AM_DAG_RUN_CONF="{}"),
        _case("double-by-item", "double", AM_MAP_ITEM="3", xcom_from={"numbers": "numbers"}),
        _case("use_connection-missing", "use_connection", AIRFLOW_CONN_AM_DB=""),
        _case("sensor-reschedule", "ready", dag_id="am_stop", file=DAGS / "am_stop.py"),
        _case("flaky-try-1", "flaky", dag_id="am_flat", file=FLAT, AM_TRY_NUMBER="1"),
        _case("flaky-try-2", "flaky", dag_id="am_flat", file=FLAT, AM_TRY_NUMBER="2"),
        _case("give-up", "give_up", dag_id="am_flat", file=FLAT, AM_TRY_NUMBER="1"),
        _case("total-mapped-upstream", "total",
              AM_XCOM=json.dumps({"numbers": [{"return_value": 5}, json.dumps({"return_value": 6})]})),
    ]
    corpus = CORPORA / ("airflow3" if airflow3 else "airflow2") / "example_xcom.py"
    xcom = {"dag_id": "example_xcom", "file": corpus}
    cases += [
        _case("xcom-push", "push", **xcom),
        _case("xcom-push_by_returning", "push_by_returning", **xcom),
        _case("xcom-puller", "puller",
              xcom_from={"push": "xcom-push", "push_by_returning": "xcom-push_by_returning"}, **xcom),
        _case("xcom-puller-alone", "puller", **xcom),
    ]
    if airflow3:
        cases.append(_case("repro-boom", "boom", dag_id="r_wrapped_fail", file=REPRO))
    return cases


@pytest.fixture(scope="module", params=sorted(ENVS, reverse=True))
def major(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def python(major: str) -> Path:
    return ensure(ENVS[major])


@pytest.fixture(scope="module")
def oracle(major: str, python: Path) -> dict[str, Any]:
    return _dag_test(ENVS[major], python, DAGS / "am_fixture.py", "am_fixture", CONF)


@pytest.fixture(scope="module")
def batch(major: str, python: Path, oracle: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
          ) -> dict[str, dict[str, Any]]:
    scratch = tmp_path_factory.mktemp(f"batch-{major}")
    spec = scratch / "cases.json"
    spec.write_text(json.dumps({"program": str(PROGRAM), "scratch": str(scratch),
                                "cases": _fixture_cases(oracle, major == "airflow3")}))
    done = subprocess.run([str(python), str(FIXTURES / "batch.py"), str(spec)], capture_output=True, text=True,
                          timeout=600, env=_clean_env(scratch / "home"), cwd=scratch)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _state(result: dict[str, Any]) -> str:
    if result["code"] != 0:
        return "failed"
    return "skipped" if result["outputs"]["skipped"] == "true" else "success"


def test_every_task_ends_as_dag_test_ends_it(batch: dict[str, dict[str, Any]], oracle: dict[str, Any]) -> None:
    skipped_by = {task: name for name, r in batch.items() for task in json.loads(r["outputs"]["skip-tasks"])}
    assert set(skipped_by) == {"not_chosen", "gated"}  # the fixture's branch and short-circuit decided these
    for name, truth in oracle["tasks"].items():
        if name in skipped_by:
            # Argo does not run a task its upstream skipped; the wrapper says which, Airflow marked them skipped.
            assert truth["state"] == "skipped", (name, skipped_by[name])
            continue
        result = batch[name]
        assert (_state(result), name) == (truth["state"], name), result["log"][-3000:]
        assert json.loads(result["outputs"]["xcom"]) == truth["xcom"], name
        assert json.loads(result["outputs"]["return_value"]) == truth["xcom"].get("return_value"), name
    assert not any(r["database_used"] for r in batch.values()), "a task touched the metadata database"


def test_deferred_task_resumes_after_its_trigger(batch: dict[str, dict[str, Any]]) -> None:
    log = batch["wait"]["log"]
    assert "the task deferred; running" in log and "DateTimeTrigger" in log
    assert _state(batch["wait"]) == "success"


def test_reschedule_mode_sensor_pokes_in_place(batch: dict[str, dict[str, Any]]) -> None:
    result = batch["sensor-reschedule"]
    assert _state(result) == "success", result["log"][-3000:]
    assert "reschedule mode becomes poke mode" in result["log"]
    assert not result["database_used"]


def test_retry_due_exits_3_and_airflow_fail_exception_1(batch: dict[str, dict[str, Any]]) -> None:
    first, second, give_up = batch["flaky-try-1"], batch["flaky-try-2"], batch["give-up"]
    assert first["code"] == 3 and "on_retry_callback ran after try 1" in first["log"]  # up_for_retry
    assert second["code"] == 0 and second["outputs"]["return_value"] == "2"  # the task sees its try
    assert give_up["code"] == 1 and "no point in retrying" in give_up["log"]  # retries left, yet no retry


def test_failure_runs_the_failure_callback(batch: dict[str, dict[str, Any]]) -> None:
    log = batch["fail"]["log"]
    assert "ValueError: the fixture task fails on purpose" in log
    assert "fixture on_failure_callback ran for fail" in log


def test_params_conf_and_logical_date_reach_the_context(batch: dict[str, dict[str, Any]],
                                                        oracle: dict[str, Any]) -> None:
    manual = oracle["tasks"]["templated"]["xcom"]["return_value"].split("|")
    given = json.loads(batch["templated-params"]["outputs"]["return_value"])
    ds, start, end, who, colour, run_id = given.split("|")
    assert (ds, start, end, colour, run_id) == (manual[0], manual[1], manual[2], manual[4], manual[5])
    assert (ds, who, colour) == ("2024-03-05", "argo", "blue")
    first = oracle["first_scheduled"]
    scheduled = json.loads(batch["templated-scheduled"]["outputs"]["return_value"]).split("|")
    assert scheduled == [first["ds"], first["data_interval_start"], first["data_interval_end"], "nobody", "none",
                         first["run_id"]]


def test_mapped_task_by_item_and_list_shaped_upstream(batch: dict[str, dict[str, Any]],
                                                      oracle: dict[str, Any]) -> None:
    # map-item 3 is the third value of numbers: the same task instance as map index 2.
    assert batch["double-by-item"]["outputs"]["xcom"] == batch["double[2]"]["outputs"]["xcom"]
    assert json.loads(batch["double[2]"]["outputs"]["return_value"]) == oracle["tasks"]["double[2]"]["xcom"][
        "return_value"]
    # An upstream given as a list (of objects or their JSON text) is a mapped one: xcom_pull gets every index.
    assert json.loads(batch["total-mapped-upstream"]["outputs"]["return_value"]) == "11"


def test_connection_missing_fails_as_in_airflow(batch: dict[str, dict[str, Any]]) -> None:
    result = batch["use_connection-missing"]
    assert _state(result) == "failed"
    assert "am_db" in result["log"] and "isn't defined" in result["log"]


def test_example_xcom_puller(batch: dict[str, dict[str, Any]]) -> None:
    assert _state(batch["xcom-puller"]) == "success", batch["xcom-puller"]["log"][-3000:]
    assert _state(batch["xcom-puller-alone"]) == "failed"  # Airflow pulls None, the comparison raises
    assert "ValueError: The two values differ None and [1, 2, 3]" in batch["xcom-puller-alone"]["log"]


@pytest.mark.parametrize("major", ["airflow3"], indirect=True)  # r_wrapped_fail.py is an Airflow 3 DAG
def test_repro_jinja_bash_command_fails(batch: dict[str, dict[str, Any]]) -> None:
    result = batch["repro-boom"]
    assert result["code"] == 1 and "Bash command failed" in result["log"] and "failing" in result["log"]


# --- the whole program: supervising process and task process ------------------------------------------------


@pytest.fixture(scope="module")
def programs(python: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, str, dict[str, str]]]:
    """The whole program (supervising and task process) on a few fixture tasks, all at once: (exit status,
    output, output files) by case."""
    cases = {"fail": ("fail", {}), "skip": ("skip", {}), "connection": ("use_connection", SECRETS),
             "token": ("runtime_secret", {})}
    running = {}
    for name, (task_id, extra) in cases.items():
        home = tmp_path_factory.mktemp(f"program-{name}")
        env = _clean_env(home, AM_DAGS_FOLDER=str(DAGS), AM_DAG_FILE="am_fixture.py", AM_DAG_ID="am_fixture",
                         AM_TASK_ID=task_id, AM_LOGICAL_DATE=WHEN, AM_OUTPUTS=str(home / "outputs"), **extra)
        proc = subprocess.Popen([str(python), str(PROGRAM)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, env=env)
        running[name] = (proc, home / "outputs")
    done = {}
    for name, (proc, outputs) in running.items():
        output, _ = proc.communicate(timeout=180)
        done[name] = (proc.returncode, output, {p.name: p.read_text() for p in outputs.iterdir()})
    return done


def test_program_fails_with_exit_status_1(programs: dict[str, tuple[int, str, dict[str, str]]]) -> None:
    code, output, outputs = programs["fail"]
    assert code == 1
    assert "fixture on_failure_callback ran" in output
    assert outputs == {"return_value": "null", "xcom": "{}", "skipped": "false", "skip-tasks": "[]"}


def test_program_skip_succeeds_with_skipped_true(programs: dict[str, tuple[int, str, dict[str, str]]]) -> None:
    code, output, outputs = programs["skip"]
    assert (code, outputs["skipped"]) == (0, "true")


def test_program_never_prints_the_password_or_masked_values(
        programs: dict[str, tuple[int, str, dict[str, str]]]) -> None:
    code, output, outputs = programs["connection"]
    assert code == 0, output[-3000:]
    assert PASSWORD not in output and "connecting as alice with password ***" in output
    assert json.loads(outputs["return_value"])["password_length"] == len(PASSWORD)
    code, output, _ = programs["token"]
    token = "tok-" + "".join(reversed(WHEN[:10])) + "-z9"  # what the task computes and masks with mask_secret
    assert code == 0 and token not in output and "the token is ***" in output


def _stop_midway(python: Path, home: Path, task_id: str, marker: str) -> tuple[int, float, str]:
    """Start the program on an am_stop task, SIGTERM it once ``marker`` was printed: (exit status, seconds from
    the signal to the exit, output)."""
    env = _clean_env(home, AM_DAGS_FOLDER=str(DAGS), AM_DAG_FILE="am_stop.py", AM_DAG_ID="am_stop",
                     AM_TASK_ID=task_id, AM_OUTPUTS=str(home / "outputs"), AM_KILL_GRACE_SECONDS="3")
    proc = subprocess.Popen([str(python), str(PROGRAM)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                            text=True)
    assert proc.stdout is not None
    seen = []
    try:
        for line in proc.stdout:
            seen.append(line)
            if marker in line and "Running command" not in line:  # the task's output, not a command's echo
                break
        proc.send_signal(signal.SIGTERM)
        began = time.monotonic()
        rest, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, time.monotonic() - began, "".join(seen) + rest


def test_program_sigterm_reaches_on_kill(major: str, python: Path, tmp_path: Path) -> None:
    code, took, output = _stop_midway(python, tmp_path / "bash", "sleepy", "am-sleepy-up")
    assert code == 143, output[-3000:]
    assert took < 3, output[-3000:]  # on_kill ended the command: neither the 61 s sleep nor the grace period
    # Airflow 3's handler only calls on_kill (the command's exit fails the task); Airflow 2's raises after it.
    assert ("Bash command failed" if major == "airflow3" else "AirflowTaskTerminated") in output, output[-3000:]
    assert not re.search(r"(\] |INFO - )not-stopped", output)  # the command's last echo never ran
    assert not _running("sleep 61"), "the task's command outlived the stop"
    # Python code has no on_kill: Airflow 2 raises AirflowTaskTerminated in it; Airflow 3's supervisor kills the
    # task process after a grace period, and so does the wrapper.
    code, took, output = _stop_midway(python, tmp_path / "python", "spin", "am-spin-up")
    assert code == 143, output[-3000:]
    if major == "airflow2":
        assert "AirflowTaskTerminated" in output and took < 3, output[-3000:]
    else:
        assert "outlived the grace period: killed" in output and 3 <= took < 8, output[-3000:]


def _running(fragment: str) -> bool:
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and fragment in (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode():
                return True
        except OSError:
            continue
    return False


# --- the WorkflowTemplates ----------------------------------------------------------------------------------


def test_templates_are_lint_clean_and_documented(tmp_path: Path) -> None:
    documents = wrapper.workflow_template(OPTIONS)
    assert [d["metadata"]["name"] for d in documents] == [template_name("airflow-task", "airflow3"),
                                                          template_name("airflow-task", "airflow2")]
    images = [d["spec"]["templates"][0]["script"]["image"] for d in documents]
    assert images == ["apache/airflow:3.3.2", "apache/airflow:2.10.5"]
    for document in documents:
        main = document["spec"]["templates"][0]
        assert [p["name"] for p in main["inputs"]["parameters"]] == [p.name for p in wrapper.DOC.parameters]
        assert {p["name"]: p["valueFrom"]["default"] for p in main["outputs"]["parameters"]} == \
            wrapper.OUTPUT_DEFAULTS
        assert main["podSpecPatch"] == "{{inputs.parameters.pod-spec-patch}}"
        assert "{{" not in main["script"]["source"]  # Argo would substitute it in the program's text
        path = tmp_path / f"{document['metadata']['name']}.yaml"
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        done = subprocess.run([str(REPO / ".venv" / "bin" / "argo-migrate"), "lint", str(path)],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0 and "0 errors, 0 warnings" in done.stdout, done.stdout + done.stderr


def test_arguments_and_variant_of_an_action() -> None:
    action = Wrapped("airflow-task", (("dag_id", "d"), ("task_id", "t"), ("file", "f.py"), ("major", "2"),
                                      ("connections", "warehouse,My Conn")))
    assert wrapper.arguments(action, OPTIONS) == (("dag-id", "d"), ("task-id", "t"), ("dag-file", "f.py"))
    assert wrapper.template_for(action, OPTIONS) == "argo-migrate-airflow-task-airflow2"
    assert "Secret airflow-conn-my-conn (key uri: the URI of Airflow connection My Conn)" in \
        wrapper.needs(action, OPTIONS)


def _step(name: str, task_id: str, major: str, depends: str = "", **params: str) -> dict[str, Any]:
    step: dict[str, Any] = {
        "name": name, "templateRef": {"name": template_name("airflow-task", major), "template": "main"},
        "arguments": {"parameters": [{"name": k, "value": v} for k, v in
                                     {"dag-id": params.pop("dag_id", "am_flat"), "task-id": task_id,
                                      "dag-file": params.pop("file", "am_flat.py"), **params}.items()]}}
    if depends:
        step["depends"] = depends
    return step


def test_run_local_by_template_ref(major: str, python: Path, tmp_path: Path) -> None:
    """A Workflow calling the WorkflowTemplate the way a migrated DAG does: XComs from step to step (a mapped
    step's aggregated outputs, a native step's output), a Secret for the connection, failing, retried and
    skipping tasks."""
    dags, secret, templates = tmp_path / "dags", tmp_path / "secret", tmp_path / "templates"
    for folder in (dags, secret, templates):
        folder.mkdir()
    shutil.copy(FIXTURES / "flat" / "am_flat.py", dags)
    shutil.copy(REPRO, dags)
    (secret / "uri").write_text(CONNECTION)
    for document in wrapper.workflow_template(OPTIONS):
        (templates / f"{document['metadata']['name']}.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    patch = json.dumps({"containers": [{"name": "main", "env": [{"name": "AIRFLOW_CONN_AM_DB", "valueFrom": {
        "secretKeyRef": {"name": wrapper.connection_secret("am_db"), "key": "uri"}}}]}]})
    numbers = '{"numbers": {{tasks.numbers.outputs.parameters.xcom}}}'
    tasks = [
        _step("skip", "skip", major),
        _step("numbers", "numbers", major),
        _step("flaky", "flaky", major, retries="1"),
        {**_step("double", "double", major, "numbers", **{"map-item": "{{item}}", "xcom": numbers}),
         "withParam": "{{tasks.numbers.outputs.parameters.return_value}}"},
        _step("total", "total", major, "double", xcom='{"double": {{tasks.double.outputs.parameters.xcom}}}'),
        # A natively translated upstream: its output parameter, JSON text, is the XCom.
        {"name": "native-numbers", "template": "native-numbers"},
        _step("use-connection", "use_connection", major, "native-numbers",
              xcom='{"numbers": {"return_value": {{tasks.native-numbers.outputs.parameters.value}}}}',
              **{"pod-spec-patch": patch}),
    ]
    native = {"name": "native-numbers", "outputs": {"parameters": [
        {"name": "value", "valueFrom": {"path": "/tmp/native/value"}}]}, "script": {
        "image": "python:3.12-slim", "command": ["python"],
        "source": "import json\nopen('/tmp/native/value', 'w').write(json.dumps([1, 2]))\n"}}
    # A failing task: the repro's Jinja-templated command on Airflow 3, a failing command on Airflow 2.
    tasks.append(_step("fail", "boom", major, dag_id="r_wrapped_fail", file="r_wrapped_fail.py")
                 if major == "airflow3" else _step("fail", "fail", major))
    workflow = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"name": "am-airflow-task"},
                "spec": {"entrypoint": "run", "templates": [{"name": "run", "dag": {"tasks": tasks}}, native]}}
    manifest = tmp_path / "workflow.yaml"
    manifest.write_text(yaml.safe_dump(workflow, sort_keys=False))
    image = wrapper.image(OPTIONS, 3 if major == "airflow3" else 2)
    report, workdir = tmp_path / "report.json", tmp_path / "run"
    command = [str(REPO / ".venv" / "bin" / "argo-migrate"), "run", "--local", str(manifest), "--jobs", "2",
               "--templates", str(templates), "--image", f"{image}={python.parent.parent}",
               "--config-map", f"{OPTIONS.dags_config_map}={dags}", "--secret",
               f"{wrapper.connection_secret('am_db')}={secret}", "--report", str(report), "--workdir", str(workdir)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=tmp_path,
                          env=_clean_env(tmp_path / "home"))
    result = json.loads(report.read_text())
    nodes = {_task_of(key): node for key, node in result["nodes"].items() if node["type"] == "Pod"}
    context = done.stdout + done.stderr + json.dumps({k: (n["phase"], n["message"]) for k, n in nodes.items()})
    assert result["phase"] == "Failed" and done.returncode == 1, context
    assert (nodes["fail"]["phase"], nodes["fail"]["exitCode"]) == ("Failed", 1), context
    assert (nodes["skip"]["phase"], nodes["skip"]["outputs"]["parameters"]["skipped"]) == ("Succeeded", "true")
    # A retry due (exit status 3) is retried; the second try succeeds.
    flaky = nodes["flaky"]
    assert (flaky["phase"], flaky["attempts"], flaky["outputs"]["parameters"]["return_value"]) == \
        ("Succeeded", 2, "2"), context
    doubled = sorted(json.loads(n["outputs"]["parameters"]["return_value"]) for k, n in nodes.items()
                     if k.startswith("double"))
    assert doubled == [2, 4], context
    assert json.loads(nodes["total"]["outputs"]["parameters"]["return_value"]) == 6, context
    used = nodes["use-connection"]
    assert used["phase"] == "Succeeded", context
    assert json.loads(used["outputs"]["parameters"]["return_value"]) == {"login": "alice", "upstream": [1, 2]}
    logs = "".join(p.read_text(errors="replace") for p in workdir.rglob("*.log"))
    assert "logging in as alice with ***" in logs
    assert "on_retry_callback ran after try 1" in logs
    assert PASSWORD not in logs and PASSWORD not in report.read_text()


def _task_of(key: str) -> str:
    """The DAG task a node key names (a loop's iterations: ``double(0:1)``)."""
    last = key.rsplit(".", 1)[-1]
    return last if "(" not in last else last.split("(")[0] + last[last.index("("):]


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
