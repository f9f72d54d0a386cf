"""Files that must not hang lint or crash it (FINDINGS F7, F8): a named pipe, a device, integers too long to read.

Each is a diagnostic for that file, and the other files of the batch are still linted. Runs that could hang on a
regression are subprocesses with a timeout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from backends.argo.lint import lint_paths, lint_text
from tests.corpora import shared_dir

ROOT = Path(__file__).resolve().parent.parent
GOOD = ROOT / "corpus" / "argo-lint" / "good" / "as-json.json"
REPROS = shared_dir() / "repros" / "reliability"


def lint_cli(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "migrator.cli", "lint", *map(str, paths)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_named_pipe_is_refused_not_read(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "x.yaml")  # opening it for reading would wait for a writer forever
    shutil.copy(GOOD, tmp_path / "good.json")
    done = lint_cli(tmp_path)
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert lines == [f"{tmp_path / 'x.yaml'}:0:0: error AM002: not read: a named pipe, not a regular file",
                     "checked 2 files: 1 error, 0 warnings"]


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero here")
def test_a_link_to_a_device_is_refused_not_read(tmp_path: Path) -> None:
    (tmp_path / "zero.yaml").symlink_to("/dev/zero")  # endless: reading it would exhaust memory
    done = lint_cli(tmp_path / "zero.yaml")
    assert done.returncode == 1, done.stderr
    assert "zero.yaml:0:0: error AM002: not read: a character device, not a regular file" in done.stdout


def test_an_integer_too_long_to_read_is_am402_and_the_batch_goes_on(tmp_path: Path) -> None:
    shutil.copy(REPROS / "lint_bigint.yaml", tmp_path / "bigint.yaml")  # spec.parallelism: 4301 nines
    shutil.copy(GOOD, tmp_path / "good.json")
    (tmp_path / "bigint.json").write_text('{"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",\n'
                                          ' "spec": {"parallelism": ' + "9" * 5000 + "}}\n")
    diagnostics, checked = lint_paths([str(tmp_path)])
    assert checked == 3
    assert [(Path(d.path).name, d.line, d.column, d.code) for d in diagnostics] == [
        ("bigint.json", 2, 26, "AM402"), ("bigint.yaml", 4, 39, "AM402")]
    assert all("an integer 5,000 characters long is too long" in d.message
               or "an integer 4,301 characters long is too long" in d.message for d in diagnostics)
    done = lint_cli(tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stdout.splitlines()[-1] == "checked 3 files: 2 errors, 0 warnings"


@pytest.mark.parametrize("value", ["0x" + "f" * 4000, "1" + ":59" * 3000], ids=["hex", "sexagesimal"])
def test_huge_integers_in_other_notations(value: str) -> None:
    # Python turns these into numbers without its digit limit; printing them (as JSON, for the size check) would
    # then fail. They are refused where they are written.
    text = ("apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {name: w}\n"
            f"spec: {{entrypoint: m, parallelism: {value}, templates: [{{name: m, container: {{image: a}}}}]}}\n")
    assert [(d.code, d.line, d.column) for d in lint_text(text, "w.yaml")] == [("AM402", 4, 36)]
