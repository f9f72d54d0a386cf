"""``run --local`` lints the manifest first: lint errors stop the run (exit 2, lint's lines on stderr); warnings are
shown and the run goes on."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from migrator.cli import main
from tests.corpora import shared_dir

ROOT = Path(__file__).resolve().parent.parent
LINE = re.compile(r"^.+:\d+:\d+: (error|warning) AM\d{3}: .+$")

TYPO = """
    apiVersion: argoproj.io/v1alpha1
    kind: Workflow
    metadata: {name: typo}
    spec:
      entrypoint: main
      templates:
      - name: main
        dag:
          tasks:
          - {name: a, template: touch}
          - {name: b, template: touch, dependecies: [a]}
      - name: touch
        container: {image: alpine, command: [sh, -c, "echo ran > ran.txt"]}
    """

NEWER_FIELD = """
    apiVersion: argoproj.io/v1alpha1
    kind: Workflow
    metadata: {name: newer}
    spec:
      entrypoint: main
      templates:
      - name: main
        pendingTimeout: 5m
        container: {image: alpine, command: [sh, -c, "echo hello"]}
    """


def run(tmp_path: Path, text: str, name: str = "manifest.yaml") -> int:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return main(["run", "--local", str(path), "--workdir", str(tmp_path / "run"), "--report",
                 str(tmp_path / "run.json"), "--fast-forward", "--quiet"])


def test_lint_errors_stop_the_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(tmp_path, TYPO) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == (f"{tmp_path / 'manifest.yaml'}:12:36: error AM405: unknown field 'dependecies' in DAGTask "
                      f"(did you mean 'dependencies'?)")
    assert all(LINE.match(line) for line in err[:-1])
    assert err[-1] == f"argo-migrate: error: {tmp_path / 'manifest.yaml'}: lint found 1 error; not run"
    assert not (tmp_path / "run").exists() and not (tmp_path / "run.json").exists()  # nothing ran


def test_warnings_are_shown_and_the_run_goes_on(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(tmp_path, NEWER_FIELD) == 0
    err = capsys.readouterr().err.splitlines()
    assert [line.split(": ", 2)[1] for line in err] == ["warning AM406"]
    assert (tmp_path / "run.json").exists()


def test_a_file_lint_cannot_read_is_not_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(shared_dir() / "repros" / "reliability" / "lint_bigint.yaml", tmp_path / "bigint.yaml")
    assert main(["run", "--local", str(tmp_path / "bigint.yaml"), "--workdir", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "bigint.yaml:4:39: error AM402: invalid YAML: an integer 4,301 characters long is too long" in err
    assert "Traceback" not in err
    assert main(["run", "--local", str(tmp_path)]) == 2  # a folder is not a manifest
    assert "is a folder" in capsys.readouterr().err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_named_pipe_is_not_run(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "wf.yaml")
    done = subprocess.run([sys.executable, "-m", "migrator.cli", "run", "--local", str(tmp_path / "wf.yaml")],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "error AM002: not read: a named pipe, not a regular file" in done.stderr
