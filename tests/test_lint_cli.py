"""``argo-migrate lint PATH...`` end to end: output formats and exit codes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from migrator.cli import main

ROOT = Path(__file__).resolve().parent.parent
GOOD = ROOT / "corpus" / "argo-lint" / "good"
BAD = ROOT / "corpus" / "argo-lint" / "bad"
LINE = re.compile(r"^.+:\d+:\d+: (error|warning|info) AM\d{3}: .+$")


def test_clean_manifests_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", str(GOOD)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == [f"checked {len(list(GOOD.iterdir()))} files: 0 errors, 0 warnings"]


def test_an_error_exits_1_with_compiler_style_lines(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", str(BAD / "dependency-cycle.yaml")]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert all(LINE.match(line) for line in lines[:-1])
    assert "error AM414: dependency cycle in DAG template 'main': a -> c -> b -> a" in lines[0]
    assert lines[-1] == "checked 1 file: 2 errors, 0 warnings"


def test_warnings_alone_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", str(BAD / "newer-field.yaml")]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "checked 1 file: 0 errors, 3 warnings"


def test_json_format_is_one_object_per_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", "--format", "json", str(BAD / "unknown-field.yaml")]) == 1
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["code"], r["line"]) for r in records] == [("AM405", 6), ("AM405", 16), ("AM405", 20), ("AM405", 21)]
    assert set(records[0]) == {"code", "severity", "file", "line", "column", "message"}


def test_missing_paths_are_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", str(tmp_path / "nope.yaml")]) == 2
    assert "AM001" in capsys.readouterr().out


def test_a_missing_path_beside_a_real_one_is_an_error(tmp_path: Path) -> None:
    assert main(["lint", str(GOOD), str(tmp_path / "nope.yaml")]) == 1


def test_bad_option_is_a_usage_error() -> None:
    assert main(["lint", "--format", "xml", str(GOOD)]) == 2
    assert main(["lint"]) == 2


def test_a_folder_without_manifests_warns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    assert main(["lint", str(tmp_path)]) == 0
    assert "AM006" in capsys.readouterr().out


def test_explain_knows_the_lint_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "AM414"]) == 0
    assert "dependency cycle" in capsys.readouterr().out
