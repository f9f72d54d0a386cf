"""What a wrapped Airflow task is given: the Airflow major its file needs, the DAG folder files it imports, its
Connections, Variables and upstream XComs.

The major version is checked against the real thing: both Airflow releases' DagBag import both example corpora,
and for every file the major argo-migrate picks must be one that imports it (a file Airflow 3 refuses, such as
``schedule_interval=``, must get Airflow 2's image).
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from frontends.airflow.bundle import runtime_files
from frontends.airflow.wrapping import airflow_major, pod_spec_patch, variables_named, xcom_argument
from migrator.ir import OutputRef
from tests.corpora import airflow2_examples, airflow3_examples, shared_dir
from tests.oracles.airflow_env import AIRFLOW2, AIRFLOW3, dagbag


@pytest.mark.corpus
@pytest.mark.parametrize("corpus", ["airflow2", "airflow3"])
def test_the_major_chosen_is_one_whose_dagbag_imports_the_file(corpus: str) -> None:
    folder = airflow2_examples() if corpus == "airflow2" else airflow3_examples()
    errors = {2: {Path(k).name for k in dagbag(AIRFLOW2, folder)["import_errors"]},
              3: {Path(k).name for k in dagbag(AIRFLOW3, folder)["import_errors"]}}
    chosen = {f.name: airflow_major(ast.parse(f.read_text(encoding="utf-8"))) for f in sorted(folder.glob("*.py"))}
    wrong = {name: (m.major, m.why) for name, m in chosen.items() if name in errors[m.major]}
    assert not wrong, wrong
    # The corpora do tell the majors apart: Airflow 3 refuses some Airflow 2 examples, and the other way round.
    refused_by_3 = errors[3] - errors[2]
    assert all(chosen[name].major == 2 for name in refused_by_3)
    if corpus == "airflow2":
        assert refused_by_3, "Airflow 3 imports every Airflow 2 example: the test would not tell the majors apart"
    else:
        assert errors[2] and all(chosen[name].major == 3 for name in errors[2] - errors[3])


@pytest.mark.parametrize(("source", "major", "why"), [
    ("from airflow import DAG\nDAG('d', schedule_interval='@daily')\n", 2, "line 2 passes DAG(schedule_interval"),
    ("from airflow.operators.bash import BashOperator\n", 2, "line 1 imports airflow.operators.bash"),
    ("from airflow.sdk import DAG\n", 3, "line 1 imports airflow.sdk"),
    ("import airflow.sdk\nfrom airflow.operators.python import PythonOperator\n", 2, "line 2"),
    ("from airflow import DAG\n", 3, "nothing in the file ties it"),
])
def test_major_evidence_and_the_reason_given(source: str, major: int, why: str) -> None:
    found = airflow_major(ast.parse(source))
    assert found.major == major
    assert why in found.why


def test_runtime_files_follow_in_repository_imports(tmp_path: Path) -> None:
    (tmp_path / "utils").mkdir()
    (tmp_path / "utils" / "__init__.py").write_text("")
    (tmp_path / "utils" / "db.py").write_text("from . import helpers\nimport json\n")
    (tmp_path / "utils" / "helpers.py").write_text("X = 1\n")
    (tmp_path / "unused.py").write_text("")
    (tmp_path / "team").mkdir()
    dag = tmp_path / "team" / "etl.py"
    dag.write_text("import pandas\nfrom utils.db import connect\nimport sibling\n")
    (tmp_path / "team" / "sibling.py").write_text("")
    found = [p.relative_to(tmp_path.resolve()).as_posix() for p in runtime_files(dag, tmp_path)]
    assert found == ["team/etl.py", "team/sibling.py", "utils/__init__.py", "utils/db.py", "utils/helpers.py"]


def test_the_shared_helpers_case_ships_its_sibling_module() -> None:
    case = shared_dir() / "repros" / "airflow" / "helpers_case"
    found = [p.name for p in runtime_files(case / "r_imports.py", case)]
    assert found == ["mylib.py", "r_imports.py"]


def test_connections_and_variables_reach_the_pod_from_secrets() -> None:
    patch = json.loads(pod_spec_patch(["warehouse_db"], ["region", "api_token"]))
    env = {e["name"]: e["valueFrom"] for e in patch["containers"][0]["env"]}
    assert env["AIRFLOW_CONN_WAREHOUSE_DB"] == {"secretKeyRef": {"name": "airflow-conn-warehouse-db", "key": "uri"}}
    assert "secretKeyRef" in env["AIRFLOW_VAR_API_TOKEN"]  # a credential's name: from the Secret
    assert env["AIRFLOW_VAR_REGION"]["configMapKeyRef"]["key"] == "region"
    assert pod_spec_patch([], []) == "{}"


def test_variables_named_literally_in_code_and_jinja() -> None:
    tree = ast.parse("from airflow.models import Variable\nVariable.get('a')\nx = '{{ var.value.b }} {{ var.json.c }}'\n"
                     "Variable.get(name)\n")
    assert variables_named(tree) == ["a", "b", "c"]


def test_xcom_argument_is_json_once_the_outputs_are_substituted() -> None:
    text = xcom_argument({"push": {"return_value", "value from pusher 1"}, "b": {"return_value"},
                          "wrapped": {"return_value", "xcom"}})
    rendered = "".join(p if isinstance(p, str) else json.dumps([p.task_id, p.name]) for p in text)
    assert json.loads(rendered) == {"b": {"return_value": ["b", "return_value"]}, "wrapped": ["wrapped", "xcom"],
                                    "push": {"return_value": ["push", "return_value"],
                                             "value from pusher 1": ["push", "value from pusher 1"]}}
    assert {p for p in text if isinstance(p, OutputRef)} == {OutputRef("push", "return_value"),
                                                             OutputRef("push", "value from pusher 1"),
                                                             OutputRef("b", "return_value"),
                                                             OutputRef("wrapped", "xcom")}


HELPER_OPERATOR = '''\
from airflow.sdk import BaseOperator


class HelloOperator(BaseOperator):
    def execute(self, context):
        from utils.words import greeting
        return greeting(self.task_id)
'''

DAG_WITH_HELPERS = '''\
from airflow.sdk import DAG
from operators.hello import HelloOperator

with DAG(dag_id="uses_helpers", schedule=None):
    HelloOperator(task_id="hello")
'''


def test_a_wrapped_task_runs_with_the_helper_packages_it_imports(tmp_path: Path) -> None:
    """The DAG folder's sub-packages reach the wrapped task's pod through the ConfigMap folder, and a helper that
    holds a credential is not shipped, with AM504 saying so."""
    from migrator.cli import main
    from tests.oracles.airflow_env import ensure

    dags = tmp_path / "dags"
    for path, text in {"team/hello_dag.py": DAG_WITH_HELPERS, "operators/__init__.py": "",
                       "operators/hello.py": HELPER_OPERATOR, "utils/__init__.py": "",
                       "utils/words.py": "def greeting(name):\n    return 'hello ' + name\n",
                       "utils/unused.py": "", "leaky.py": "AWS_SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'\n",
                       "team/leaky_dag.py": DAG_WITH_HELPERS.replace("uses_helpers", "leaky") + "import leaky\n",
                       }.items():
        (dags / path).parent.mkdir(parents=True, exist_ok=True)
        (dags / path).write_text(text)
    out = tmp_path / "out"
    assert main(["airflow", str(dags), "-o", str(out), "--quiet"]) == 0
    index = json.loads((out / "argo-migrate-dags" / "argo-migrate-index.json").read_text())
    assert sorted(index.values()) == ["operators/__init__.py", "operators/hello.py", "team/hello_dag.py",
                                      "team/leaky_dag.py", "utils/__init__.py", "utils/words.py"]
    report = json.loads((out / "migration-report.json").read_text())
    warnings = [d for f in report["files"] for d in f["diagnostics"] if d["code"] == "AM504"]
    assert len(warnings) == 1 and "leaky.py is not shipped" in warnings[0]["message"]
    venv = ensure(AIRFLOW3).parent.parent
    run = tmp_path / "run.json"
    code = main(["run", "--local", str(out / "uses-helpers.yaml"), "--image", f"apache/airflow:3.3.2={venv}",
                 "--workdir", str(tmp_path / "work"), "--report", str(run), "--quiet"])
    node = json.loads(run.read_text())["nodes"]["hello"]
    assert code == 0, node
    assert node["outputs"]["parameters"]["return_value"] == '"hello hello"'


def test_the_report_says_which_airflow_image_and_why(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from migrator.cli import main

    dag = tmp_path / "old.py"
    dag.write_text("from airflow import DAG\nfrom airflow.operators.bash import BashOperator\nfrom acme import Op\n"
                   "with DAG('old', schedule_interval=None) as d:\n    Op(task_id='t')\n")
    assert main(["airflow", str(dag), "-o", str(tmp_path / "a"), "--quiet"]) == 0
    said = [line for line in capsys.readouterr().err.splitlines() if " AM502: " in line]
    assert said == [f"{dag}:4:6: info AM502: old.py: its wrapped tasks run with Airflow 2 (apache/airflow:2.10.5): "
                    "line 2 imports airflow.operators.bash, removed in Airflow 3"]
    assert "argo-migrate-airflow-task-airflow2" in (tmp_path / "a" / "old.yaml").read_text()
    assert main(["airflow", str(dag), "-o", str(tmp_path / "b"), "--quiet", "--airflow-image", "reg/af:1"]) == 0
    assert "old.py: its wrapped tasks run in reg/af:1 (--airflow-image)" in capsys.readouterr().err
