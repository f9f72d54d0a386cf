"""The command line end to end, with the real Airflow frontend, run in-process through ``migrator.cli.main``."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

import frontends
from migrator import __version__
from migrator.cli import LANGUAGES, main
from migrator.report import load_schema

HELLO = """\
from airflow.sdk import DAG
from airflow.providers.standard.operators.bash import BashOperator
with DAG(dag_id="hello", schedule=None):
    a = BashOperator(task_id="a", bash_command="echo a")
    b = BashOperator(task_id="b", bash_command="echo b")
    a >> b
"""

# An operator with no translation (an in-repo custom operator): the task is wrapped (AM102 warning).
WRAPPED = """\
from airflow.sdk import DAG
from my_company.operators import PingOperator
with DAG(dag_id="calls", schedule=None):
    PingOperator(task_id="ping", endpoint="/ping")
"""

ESCAPE = """\
from airflow.sdk import DAG
from airflow.providers.standard.operators.bash import BashOperator
with DAG(dag_id="../x", schedule=None):
    BashOperator(task_id="a", bash_command="echo a")
"""

NO_DAG = "import os\nprint(os.getcwd())\n"
SYNTAX_ERROR = "def broken(:\n    pass\n"
DIAGNOSTIC_LINE = re.compile(r"^.+:\d+:\d+: (error|warning|info) AM\d{3}: .+$")


def src(folder: Path, name: str, content: str) -> str:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    return str(path)


def cli(*args: str) -> int:
    return main(list(args))


def report_of(out: Path) -> dict:
    return json.loads((out / "migration-report.json").read_text())


# --- exit codes ----------------------------------------------------------------------------------------------


def test_good_file_exits_0_and_writes_the_manifest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert cli("airflow", src(tmp_path, "hello.py", HELLO), "-o", str(out)) == 0
    manifest = (out / "hello.yaml").read_text()
    assert "kind: WorkflowTemplate" in manifest and "name: hello" in manifest
    stdout = capsys.readouterr().out
    assert stdout.splitlines()[-1] == f"wrote 1 workflow to {out} (report: {out}/migration-report.json)"


def test_syntax_error_next_to_good_file_exits_1_and_still_writes_the_good_one(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    bad = src(tmp_path, "bad.py", SYNTAX_ERROR)
    assert cli("airflow", bad, src(tmp_path, "hello.py", HELLO), "-o", str(out)) == 1
    assert (out / "hello.yaml").is_file()
    assert any(line.startswith(f"{bad}:") and " error AM100: " in line
               for line in capsys.readouterr().err.splitlines())
    statuses = {f["path"]: f["status"] for f in report_of(out)["files"]}
    assert statuses == {bad: "failed", str(tmp_path / "hello.py"): "ok"}


def test_unknown_option_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("airflow", "--no-such-option", src(tmp_path, "hello.py", HELLO)) == 2
    assert "unrecognized arguments" in capsys.readouterr().err


def test_only_path_missing_exits_2_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = str(tmp_path / "nope.py")
    assert cli("airflow", missing, "-o", str(tmp_path / "out")) == 2
    assert capsys.readouterr().err.splitlines() == [f"{missing}:0:0: error AM001: path does not exist: "
                                                    "no such file or folder"]
    assert not (tmp_path / "out").exists()


def test_one_missing_path_among_good_ones_exits_1(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert cli("airflow", str(tmp_path / "nope.py"), src(tmp_path, "hello.py", HELLO), "-o", str(out)) == 1
    assert (out / "hello.yaml").is_file()


def test_wrapped_task_exits_0_but_1_with_strict(tmp_path: Path) -> None:
    path = src(tmp_path, "calls.py", WRAPPED)
    assert cli("airflow", path, "-o", str(tmp_path / "a")) == 0
    (workflow,) = report_of(tmp_path / "a")["workflows"]
    assert [t["status"] for t in workflow["tasks"]] == ["wrapped"]
    assert cli("airflow", path, "-o", str(tmp_path / "b"), "--strict") == 1


def test_strict_passes_a_clean_file(tmp_path: Path) -> None:
    assert cli("airflow", src(tmp_path, "hello.py", HELLO), "-o", str(tmp_path / "out"), "--strict") == 0


# --- explain, version, help ----------------------------------------------------------------------------------


def test_explain_prints_title_severity_and_doc(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("explain", "AM100") == 0
    assert capsys.readouterr().out == "AM100: syntax error (error)\n\nThe DAG file is not valid Python; it is not migrated.\n"


def test_explain_unknown_code_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("explain", "AM999") == 2
    assert "unknown diagnostic code" in capsys.readouterr().err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("--version") == 0
    assert capsys.readouterr().out == f"argo-migrate {__version__}\n"


def test_cli_languages_match_the_frontend_registry() -> None:
    assert list(LANGUAGES) == list(frontends.FRONTENDS)


def test_console_script_help() -> None:
    script = Path(sys.executable).with_name("argo-migrate")
    assert script.exists(), f"{script} missing: run `make install` (pip install -e .)"
    done = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert "airflow" in done.stdout and "explain" in done.stdout


def test_help_does_not_import_the_backend() -> None:
    # Start-up time is a feature: Hera and networkx are imported only when a migration runs.
    probe = ("import sys; from migrator.cli import main; main(['explain', 'AM100']);"
             "print(sorted(m for m in ('hera', 'networkx', 'libcst') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).resolve().parents[1])
    assert done.stdout.splitlines()[-1] == "[]"


# --- report --------------------------------------------------------------------------------------------------


def test_report_validates_and_lists_every_input(tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    inputs = [src(dags, "hello.py", HELLO), src(dags, "nested/calls.py", WRAPPED), src(dags, "util.py", NO_DAG),
              src(dags, "zz_bad.py", SYNTAX_ERROR)]
    out = tmp_path / "out"
    assert cli("airflow", str(dags), "-o", str(out), "--quiet") == 1
    report = report_of(out)
    jsonschema.validate(report, load_schema(), cls=jsonschema.Draft202012Validator)
    assert sorted(f["path"] for f in report["files"]) == sorted(inputs)
    statuses = {Path(f["path"]).name: f["status"] for f in report["files"]}
    assert statuses == {"hello.py": "ok", "calls.py": "partial", "util.py": "ok", "zz_bad.py": "failed"}
    assert [w["output"] for w in report["workflows"]] == ["hello.yaml", "calls.yaml"]
    assert report["summary"]["workflows"] == 2 and report["summary"]["files"] == 4


def test_diagnostics_on_stderr_are_compiler_style(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inputs = [src(tmp_path, "bad.py", SYNTAX_ERROR), src(tmp_path, "calls.py", WRAPPED),
              src(tmp_path, "util.py", NO_DAG), str(tmp_path / "missing.py")]
    cli("airflow", *inputs, "-o", str(tmp_path / "out"))
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) >= 4
    assert all(DIAGNOSTIC_LINE.match(line) for line in lines), lines


def test_json_diagnostics_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli("airflow", src(tmp_path, "bad.py", SYNTAX_ERROR), "-o", str(tmp_path / "out"), "--format", "json")
    (line,) = capsys.readouterr().err.splitlines()
    assert json.loads(line)["code"] == "AM100"


def test_quiet_prints_no_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli("airflow", src(tmp_path, "hello.py", HELLO), "-o", str(tmp_path / "out"), "--quiet")
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith("wrote 1 workflow to ")


# --- output safety -------------------------------------------------------------------------------------------


def test_unwritable_output_gives_am003_and_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    out = blocker / "out"  # a folder cannot be made under a regular file, even by root
    assert cli("airflow", src(tmp_path, "hello.py", HELLO), "-o", str(out)) == 1
    err = capsys.readouterr().err
    assert " error AM003: " in err and "nothing was written" in err
    assert blocker.read_text() == ""


def test_atomic_writes_leave_no_temporary_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    for _ in range(2):  # the second run replaces existing files
        cli("airflow", src(tmp_path, "hello.py", HELLO), src(tmp_path, "calls.py", WRAPPED), "-o", str(out))
    assert sorted(p.name for p in out.iterdir()) == ["argo-migrate-dags", "calls.yaml", "hello.yaml",
                                                     "migration-report.json"]
    # The wrapped task's DAG file, for the ConfigMap its wrapper mounts.
    assert sorted(p.name for p in (out / "argo-migrate-dags").iterdir()) == [
        "argo-migrate-index.json", "calls.py", "kustomization.yaml"]


def test_path_like_dag_id_stays_inside_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "work" / "out"
    path = src(tmp_path / "work", "escape.py", ESCAPE)
    assert cli("airflow", path, "-o", str(out)) == 0
    assert sorted(p.name for p in out.iterdir()) == ["migration-report.json", "x.yaml"]
    assert sorted(p.name for p in (tmp_path / "work").iterdir()) == ["escape.py", "out"]
    assert not (tmp_path / "x.yaml").exists()
    assert " warning AM005: " in capsys.readouterr().err
    (workflow,) = report_of(out)["workflows"]
    assert workflow["source_id"] == "../x" and workflow["name"] == "x"


# --- frontends that cannot run here --------------------------------------------------------------------------


@pytest.mark.parametrize(("language", "module", "extra"), [("snakemake", "snakemake", "snakemake"),
                                                           ("cwl", "cwl_utils", "cwl")])
def test_missing_extra_exits_2_with_install_hint(
        language: str, module: str, extra: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a, **k: None if name == module else real(name, *a, **k))
    assert cli(language, str(tmp_path), "-o", str(tmp_path / "out")) == 2
    assert f"pip install 'argo-migrate[{extra}]'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_frontend_not_yet_available_exits_2(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a, **k: object() if name == "cwl_utils" else real(name, *a, **k))
    assert cli("cwl", str(tmp_path)) == 2
    assert "not available in this release yet" in capsys.readouterr().err



def test_empty_dag_is_reported_not_silently_dropped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = src(tmp_path, "empty.py", "from airflow.sdk import DAG\nwith DAG('nothing'):\n    pass\n")
    assert cli("airflow", empty, "-o", str(tmp_path / "out"), "--quiet") == 0
    assert "warning AM007: workflow 'nothing' has no task" in capsys.readouterr().err
    assert not list((tmp_path / "out").glob("*.yaml"))


def test_dependency_on_unknown_names_is_diagnosed_and_the_dag_integrated(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dag = src(tmp_path, "undef.py", "from airflow.sdk import DAG\nwith DAG('x'):\n    undefined_a >> undefined_b\n")
    assert cli("airflow", dag, "-o", str(tmp_path / "out"), "--quiet") == 0
    err = capsys.readouterr().err
    assert "warning AM103: dependency between values only known at run time" in err
    assert "AM501: workflow 'x' runs whole on its original engine" in err


# --- the wrapper catalogue ------------------------------------------------------------------------------------


def test_templates_writes_the_catalogue_lint_clean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("templates", "-o", str(tmp_path / "cat")) == 0
    names = sorted(p.name for p in (tmp_path / "cat").iterdir())
    assert names == sorted(f"argo-migrate-{e}.yaml" for e in (
        "airflow-task-airflow3", "airflow-task-airflow2", "airflow-dag", "slurm-job", "spark-application",
        "engine-in-pod", "snakemake-job", "python-function"))
    capsys.readouterr()
    assert cli("lint", str(tmp_path / "cat")) == 0
    assert "checked 8 files: 0 errors, 0 warnings" in capsys.readouterr().out


def test_templates_airflow_image_and_usage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("templates", "-o", str(tmp_path / "cat"), "--airflow-image", "registry.example/airflow:mine") == 0
    task3 = (tmp_path / "cat" / "argo-migrate-airflow-task-airflow3.yaml").read_text()
    assert "image: registry.example/airflow:mine" in task3
    assert cli("templates") == 2  # neither -o nor --doc
    assert cli("templates", "--doc") == 0
    assert "#### `slurm-job`" in capsys.readouterr().out


def test_a_wrapped_task_calls_its_workflow_template_in_the_same_file(tmp_path: Path) -> None:
    out = tmp_path / "out"
    cli("airflow", src(tmp_path, "calls.py", WRAPPED), "-o", str(out), "--quiet")
    documents = list(yaml.safe_load_all((out / "calls.yaml").read_text()))
    assert [d["kind"] for d in documents] == ["WorkflowTemplate", "WorkflowTemplate"]
    called = [t["templateRef"] for t in documents[0]["spec"]["templates"][0]["dag"]["tasks"] if "templateRef" in t]
    assert called == [{"name": documents[1]["metadata"]["name"], "template": "main"}]
    (workflow,) = report_of(out)["workflows"]
    assert workflow["needs"] == ["ConfigMap argo-migrate-dags (the DAG files)"]
