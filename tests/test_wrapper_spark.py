"""The spark-application wrapper through ``argo-migrate run --local`` with a resource handler that plays
Kubernetes.

There is no cluster here, so ``tests/engines/spark_operator.py`` stands in for the API server, Kubeflow's
spark-operator (its state machine) and Argo's resource executor (conditions, JSONPath outputs); the Spark
driver is real: PySpark's ``spark-submit`` in local mode, running ``fixtures/wrappers/spark/squares.py`` with
the arguments the template puts in the SparkApplication. The conditions are read from the template and
evaluated with Kubernetes' label-selector semantics, so a wrong state name or operator fails these tests.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from backends.argo.yaml_out import dump
from backends.wrappers import WrapperOptions
from backends.wrappers.spark_application import workflow_template
from tests.engines import spark_operator
from tests.engines.spark_operator import conditions_met, parse_selector
from tests.engines.tools import PYSPARK, REPO, alive, prefix, run_local, stop_local, wait_for

APP = Path(__file__).parent / "fixtures" / "wrappers" / "spark" / "squares.py"
HANDLER = Path(spark_operator.__file__)
NAME = "argo-migrate-spark-application"  # the default name: the workflow's, here the WorkflowTemplate's

# Every application state of the operator (api/v1beta2/sparkapplication_types.go, with the suspend states of
# later releases) and what the step must do when the application is in it.
STATES = {
    "": "waiting", "SUBMITTED": "waiting", "RUNNING": "waiting", "PENDING_RERUN": "waiting",
    "INVALIDATING": "waiting", "SUCCEEDING": "waiting", "FAILING": "waiting", "UNKNOWN": "waiting",
    "SUSPENDING": "waiting", "SUSPENDED": "waiting", "RESUMING": "waiting",
    "COMPLETED": "succeeded", "FAILED": "failed", "SUBMISSION_FAILED": "failed",
}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return workflow_template(WrapperOptions())


@pytest.fixture(scope="module")
def template(document: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("spark") / f"{NAME}.yaml"
    path.write_text(dump(document))
    return path


@pytest.fixture(scope="module")
def spark_submit() -> Path:
    return prefix(PYSPARK) / "bin" / "spark-submit"


def resource(document: dict[str, Any]) -> dict[str, Any]:
    return next(t["resource"] for t in document["spec"]["templates"] if t["name"] == "spark-application")


def options(spark_submit: Path, store: Path, arguments: list[str]) -> list[str]:
    handler = shlex.join([sys.executable, str(HANDLER), "--store", str(store),
                          "--spark-submit", str(spark_submit)])
    return ["--handler", f"resource={handler}", "-p", f"mainApplicationFile=local://{APP}",
            "-p", f"arguments={json.dumps(arguments)}"]


def events(store: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (store / "events.jsonl").read_text().splitlines()]


def states(store: Path) -> list[str]:
    return [e["state"] for e in events(store) if e["event"] == "state"]


def test_the_template_lints_clean(template: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "migrator.cli", "lint", str(template)], capture_output=True,
                          text=True, cwd=REPO)
    assert done.returncode == 0 and "0 errors, 0 warnings" in done.stdout, done.stdout + done.stderr


def test_the_conditions_end_the_step_on_the_operators_terminal_states(document: dict[str, Any]) -> None:
    res = resource(document)
    success, failure = parse_selector(res["successCondition"]), parse_selector(res["failureCondition"])
    verdicts = {state: conditions_met({"status": {"applicationState": {"state": state}}}, success, failure)[0]
                for state in STATES}
    assert verdicts == STATES
    assert conditions_met({"status": {}}, success, failure)[0] == "waiting"  # not yet seen by the operator


def test_conditions_follow_kubernetes_label_selectors() -> None:
    obj = {"status": {"state": "RUNNING", "n": 3, "ok": True, "items": [{"id": "x"}]}}

    def verdict(success: str, failure: str = "") -> str:
        return conditions_met(obj, parse_selector(success), parse_selector(failure))[0]

    assert verdict("status.state in (RUNNING, DONE), status.n > 2, status.ok == true") == "succeeded"
    # Every success requirement must hold; any failure requirement fails.
    assert verdict("status.state == RUNNING, status.n < 3") == "waiting"
    assert verdict("status.state = RUNNING", "status.n > 5, status.items.0.id = x") == "failed"
    assert verdict("status.missing notin (a), !status.missing, status.items") == "succeeded"
    assert verdict("status.missing in (a)") == "waiting" and verdict("status.missing != a") == "succeeded"
    assert verdict("status.state =") == "waiting"  # an empty value is a value
    for bad in ("status.n > two", "status.state in ()", "status.state = a b", "status.state = -x",
                ".status = a", "status.state notin x", "status.state in (a"):
        with pytest.raises(ValueError):
            parse_selector(bad)


def test_a_completed_application_succeeds_with_its_state_id_and_driver(
        template: Path, spark_submit: Path, tmp_path: Path) -> None:
    store, out, n = tmp_path / "store", tmp_path / "squares.txt", 1000
    code, report = run_local(template, tmp_path / "run", *options(spark_submit, store,
                                                                  ["--n", str(n), "--out", str(out)]))
    node = report["nodes"]["spark"]
    assert (code, report["phase"], node["phase"]) == (0, "Succeeded", "Succeeded"), node["message"]
    app = json.loads((store / f"{NAME}.json").read_text())
    assert node["outputs"]["parameters"] == {"state": "COMPLETED", "sparkApplicationId": app["status"][
        "sparkApplicationId"], "driverPod": f"{NAME}-driver"}
    assert report["entrypoint"]["outputs"]["parameters"] == node["outputs"]["parameters"]
    assert re.fullmatch(r"spark-[0-9a-f]{32}", app["status"]["sparkApplicationId"])
    assert states(store) == ["SUBMITTED", "RUNNING", "SUCCEEDING", "COMPLETED"]
    # The driver really ran the application with the template's arguments and resources.
    assert out.read_text().split()[1] == str(sum(i * i for i in range(n)))
    submit = next(e["argv"] for e in events(store) if e["event"] == "submit")
    assert {"spark.driver.cores=1", "spark.driver.memory=512m", "spark.executor.instances=1",
            "spark.kubernetes.authenticate.driver.serviceAccountName=spark-operator-spark"} <= set(submit)
    assert app["spec"]["type"] == "Python" and "mainClass" not in app["spec"]
    assert app["metadata"]["ownerReferences"][0]["kind"] == "Workflow"
    # Success leaves the application in place: the exit hook deletes only what did not succeed.
    assert report["nodes"]["spark.onExit.delete"]["phase"] == "Skipped"


def test_a_failed_driver_fails_the_step_and_the_exit_hook_deletes_the_application(
        document: dict[str, Any], template: Path, spark_submit: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    code, report = run_local(template, tmp_path / "run", *options(
        spark_submit, store, ["--n", "10", "--out", str(tmp_path / "squares.txt"), "--fail"]))
    node = report["nodes"]["spark"]
    assert (code, report["phase"], node["phase"]) == (1, "Failed", "Failed")
    failed = parse_selector(resource(document)["failureCondition"])[0]
    assert node["outputs"]["result"] == f"failure condition '{failed}' evaluated true"
    assert states(store) == ["SUBMITTED", "RUNNING", "FAILING", "FAILED"]
    assert report["nodes"]["spark.onExit.delete"]["phase"] == "Succeeded"
    deleted = [e for e in events(store) if e["event"] == "deleted"]
    assert deleted == [{"name": NAME, "event": "deleted", "state": "FAILED"}]
    assert not (store / f"{NAME}.json").exists()


def test_stopping_the_workflow_stops_the_driver(template: Path, spark_submit: Path, tmp_path: Path) -> None:
    store, out = tmp_path / "store", tmp_path / "squares.txt"

    def driver() -> int | None:
        if not out.exists():  # the driver has computed and now sleeps
            return None
        return next((e["pid"] for e in events(store) if e["event"] == "driver"), None)

    arguments = ["--n", "10", "--out", str(out), "--sleep", "120"]
    code, err = stop_local(template, tmp_path / "run", *options(spark_submit, store, arguments),
                           started=lambda: driver() is not None)
    assert code == 143, err
    assert not (tmp_path / "run" / "run.json").exists()
    pid = driver()
    assert pid is not None
    wait_for(lambda: not alive(pid), 10, "the driver to end")
    assert "COMPLETED" not in states(store)
