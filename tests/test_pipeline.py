"""The pipeline, discovery, writer and report against a tiny fake frontend, so that they do not depend on Airflow.

Fake source format, one workflow per line: ``dag_id [@cron] task...``; a task written ``~t`` is wrapped, a line
``!cycle`` makes an IR with a cycle (an invariant violation), a file starting with ``crash`` makes the frontend raise.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import pytest

import frontends
from frontends import FrontendResult
from migrator import pipeline
from migrator.diagnostics import Diagnostic, Severity, diag
from migrator.discover import discover, matches
from migrator.ir import ContainerRun, Schedule, SourceLoc, Task, Workflow, Wrapped, WrappedStatus, text
from migrator.pipeline import PipelineOptions, run
from migrator.report import FileEntry, Report, load_schema, summary_table
from migrator.writer import WriteError, write_text


def fake_parse(path: str, data: bytes) -> FrontendResult:
    source = data.decode()
    if source.startswith("crash"):
        raise ValueError("frontend fell over\non two lines")
    result = FrontendResult()
    for number, line in enumerate(source.splitlines(), start=1):
        words = line.split()
        if not words:
            continue
        if words[0] == "!cycle":
            wf = Workflow("cyclic", SourceLoc(path, number))
            for t in ("a", "b"):
                wf.add_task(Task(t, SourceLoc(path, number), "Fake", ContainerRun("busybox", args=(text(t),))))
            wf.add_edge("a", "b")
            wf.add_edge("b", "a")
            result.workflows.append(wf)
            continue
        wf = Workflow(words[0], SourceLoc(path, number, 4))
        previous = None
        for word in words[1:]:
            if word.startswith("@"):
                wf.schedule = Schedule(cron="0 * * * *")
                continue
            loc = SourceLoc(path, number, 10)
            if word.startswith("~"):
                tid = word[1:]
                task = Task(tid, loc, "Odd", Wrapped("airflow-task", (("dag_id", wf.id), ("task_id", tid),
                                                                         ("file", path))),
                            status=WrappedStatus("airflow-task", "no translation"))
                wf.diagnostics += (diag("AM102", path, number, 10, f"operator of {tid} wrapped"),)
            else:
                tid = word
                task = Task(tid, loc, "Fake", ContainerRun("busybox", command=(text("echo"),), args=(text(tid),)))
            wf.add_task(task)
            if previous:
                wf.add_edge(previous, tid)
            previous = tid
        result.workflows.append(wf)
    if not result.workflows:
        result.diagnostics.append(diag("AM101", path, 0, 0, "no DAG found"))
    return result


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(frontends, "load", lambda language: fake_parse)


def write(folder: Path, name: str, content: str) -> str:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    return str(path)


def migrate(paths: list[str], out: Path, kind: str = "auto") -> Report:
    return run("airflow", paths, str(out), PipelineOptions(kind=kind))


def codes(report: Report) -> list[str]:
    return [d.code for d in report.diagnostics()]


# --- pipeline ----------------------------------------------------------------------------------------------------


def test_duplicate_names_get_numbered_suffix_and_am004(fake: None, tmp_path: Path) -> None:
    a = write(tmp_path, "a.py", "etl x y\n")
    b = write(tmp_path, "b.py", "ETL z\n")
    report = migrate([a, b], tmp_path / "out")
    assert [w.output for w in report.workflows] == ["etl.yaml", "etl-2.yaml"]
    assert (tmp_path / "out" / "etl-2.yaml").is_file()
    (am004,) = [d for d in report.diagnostics() if d.code == "AM004"]
    assert am004.path == b and am004.severity is Severity.WARNING and "etl-2" in am004.message


def test_numbered_suffix_respects_cron_workflow_length_limit(fake: None, tmp_path: Path) -> None:
    long_id = "d" * 70
    src = write(tmp_path, "a.py", f"{long_id} @cron x\n{long_id} @cron y\n")
    report = migrate([src], tmp_path / "out")
    names = [w.name for w in report.workflows]
    assert [w.kind for w in report.workflows] == ["CronWorkflow", "CronWorkflow"]
    assert len(set(names)) == 2 and all(len(n) <= 52 for n in names) and names[1].endswith("-2")


def test_path_like_dag_id_stays_inside_output_and_warns_am005(fake: None, tmp_path: Path) -> None:
    src = write(tmp_path, "a.py", "../../escape a\n")
    out = tmp_path / "deep" / "out"
    report = migrate([src], out)
    assert sorted(p.name for p in out.iterdir()) == ["escape.yaml", "migration-report.json"]
    assert not (tmp_path / "escape.yaml").exists()
    assert "AM005" in codes(report)


def test_ordinary_underscore_rewrite_is_not_a_diagnostic(fake: None, tmp_path: Path) -> None:
    report = migrate([write(tmp_path, "a.py", "my_dag a\n")], tmp_path / "out")
    assert report.workflows[0].name == "my-dag" and report.workflows[0].source_id == "my_dag"
    assert codes(report) == []


def test_frontend_crash_is_am901_and_the_batch_goes_on(fake: None, tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.py", "crash")
    good = write(tmp_path, "good.py", "fine a\n")
    report = migrate([bad, good], tmp_path / "out")
    (am901,) = report.files[0].diagnostics
    assert am901.code == "AM901"
    assert am901.message == "internal error: ValueError: frontend fell over on two lines"
    assert report.files[0].status == "failed" and report.files[1].status == "ok"
    assert (tmp_path / "out" / "fine.yaml").is_file()


def test_invariant_violation_is_am902_and_nothing_is_emitted(fake: None, tmp_path: Path) -> None:
    report = migrate([write(tmp_path, "a.py", "!cycle\nfine a\n")], tmp_path / "out")
    assert [w.source_id for w in report.workflows] == ["fine"]
    (am902,) = [d for d in report.diagnostics() if d.code == "AM902"]
    assert "after frontend" in am902.message
    assert not (tmp_path / "out" / "cyclic.yaml").exists()
    assert report.files[0].status == "partial"


def test_invariant_broken_by_a_pass_names_the_pass(fake: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def breaker(wf: Workflow) -> Workflow:
        out = wf.copy()
        out.graph.add_node("ghost")
        return out

    monkeypatch.setattr(pipeline, "PASSES", [*pipeline.PASSES, ("breaker", breaker)])
    report = migrate([write(tmp_path, "a.py", "fine a\n")], tmp_path / "out")
    assert report.workflows == []
    assert any(d.code == "AM902" and "after pass breaker" in d.message for d in report.diagnostics())


def test_unreadable_file_is_am002(fake: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = write(tmp_path, "bad.py", "x a\n")
    good = write(tmp_path, "good.py", "y a\n")
    real = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if str(self) == bad:
            raise PermissionError(13, "Permission denied")
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    report = migrate([bad, good], tmp_path / "out")
    assert [d.code for d in report.files[0].diagnostics] == ["AM002"]
    assert "Permission denied" in report.files[0].diagnostics[0].message
    assert [w.source_id for w in report.workflows] == ["y"]


def test_wrapped_task_makes_file_partial_and_counts(fake: None, tmp_path: Path) -> None:
    report = migrate([write(tmp_path, "a.py", "w a ~b c\n")], tmp_path / "out")
    entry = report.files[0]
    assert (entry.native, entry.wrapped, entry.status) == (2, 1, "partial")
    summary = report.summary()
    assert (summary["tasks"], summary["tasks_native"], summary["tasks_wrapped"]) == (3, 2, 1)
    rows = {t.source_id: t for t in report.workflows[0].tasks}
    assert (rows["b"].status, rows["b"].engine, rows["b"].reason) == ("wrapped", "airflow-task", "no translation")


def test_unwritable_output_gives_am003_on_every_file_and_writes_nothing(fake: None, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    files = [write(tmp_path, "a.py", "x a\n"), write(tmp_path, "b.py", "y a\n")]
    report = migrate(files, blocker / "out")
    assert [[d.code for d in f.diagnostics] for f in report.files] == [["AM003"], ["AM003"]]
    assert report.report_path is None and report.workflows == []
    assert blocker.read_text() == "not a folder"


def test_all_paths_missing_touches_no_output(fake: None, tmp_path: Path) -> None:
    report = migrate([str(tmp_path / "nope.py")], tmp_path / "out")
    assert codes(report) == ["AM001"] and not (tmp_path / "out").exists()


def test_existing_files_in_output_are_kept(fake: None, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "stale.yaml").write_text("mine")
    migrate([write(tmp_path, "a.py", "x a\n")], out)
    assert (out / "stale.yaml").read_text() == "mine"


def test_output_is_deterministic(fake: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = [write(tmp_path / "in", n, c) for n, c in [("a.py", "one a ~b\n"), ("b.py", "one c\n"), ("c.py", "")]]
    monkeypatch.chdir(tmp_path)  # relative paths, as a user types them
    rel = [os.path.relpath(p) for p in src]
    first, second = tmp_path / "o1", tmp_path / "o2"
    migrate(rel, first)
    migrate(rel, second)
    listing = sorted(p.relative_to(first).as_posix() for p in first.rglob("*") if p.is_file())
    assert listing == sorted(p.relative_to(second).as_posix() for p in second.rglob("*") if p.is_file())
    for name in listing:
        assert (first / name).read_bytes() == (second / name).read_bytes()
    report = json.loads((first / "migration-report.json").read_text())
    assert [f["path"] for f in report["files"]] == ["in/a.py", "in/b.py", "in/c.py"]


def test_report_matches_schema_and_summary(fake: None, tmp_path: Path) -> None:
    files = [write(tmp_path, "a.py", "x a ~b\n"), write(tmp_path, "empty.py", ""), write(tmp_path, "c.py", "crash")]
    (tmp_path / "none").mkdir()
    report = migrate([*files, str(tmp_path / "missing"), str(tmp_path / "none")], tmp_path / "out")
    data = json.loads((tmp_path / "out" / "migration-report.json").read_text())
    jsonschema.validate(data, load_schema(), cls=jsonschema.Draft202012Validator)
    assert list(data) == ["report_version", "tool", "version", "language", "summary", "files", "workflows"]
    assert data["summary"] == {"files": 5, "ok": 2, "partial": 1, "failed": 2, "workflows": 1, "tasks": 2,
                               "tasks_native": 1, "tasks_wrapped": 1, "errors": 2, "warnings": 3}
    assert report.report_path == f"{tmp_path}/out/migration-report.json"


def test_diagnostics_sorted_by_position_then_code(fake: None, tmp_path: Path) -> None:
    report = migrate([write(tmp_path, "a.py", "z ~q\nz ~p\n")], tmp_path / "out")
    got = [(d.line, d.column, d.code) for d in report.files[0].diagnostics]
    assert got == sorted(got) and "AM004" in [c for _, _, c in got]


# --- status rules and the table -------------------------------------------------------------------------------


def _d(severity: Severity) -> Diagnostic:
    return Diagnostic("f.py", 1, 0, severity, "AM999", "m")


@pytest.mark.parametrize(
    ("workflows", "wrapped", "severities", "status"),
    [
        ([], 0, [Severity.ERROR], "failed"),
        ([], 0, [Severity.WARNING], "ok"),  # no DAG (AM101): nothing to migrate
        (["x.yaml"], 0, [], "ok"),
        (["x.yaml"], 0, [Severity.INFO], "ok"),
        (["x.yaml"], 1, [], "partial"),
        (["x.yaml"], 0, [Severity.WARNING], "partial"),
        (["x.yaml"], 0, [Severity.ERROR], "partial"),
    ],
)
def test_file_status_rules(workflows: list[str], wrapped: int, severities: list[Severity], status: str) -> None:
    entry = FileEntry("f.py", workflows=workflows, wrapped=wrapped, diagnostics=[_d(s) for s in severities])
    assert entry.status == status


def test_summary_table_truncates_and_totals() -> None:
    report = Report("airflow", "out", files=[FileEntry(f"dags/f{i:02}.py") for i in range(45)])
    table = summary_table(report).splitlines()
    assert table[0].split() == ["status", "workflows", "native", "wrapped", "path"]
    assert table[1].split() == ["ok", "0", "0", "0", "dags/f00.py"]
    assert table[41] == "… 5 more"
    assert table[42].startswith("total: 45 files (45 ok, 0 partial, 0 failed)")
    assert len(table) == 43


# --- discovery -------------------------------------------------------------------------------------------------


def test_discover_walks_sorted_and_skips_hidden_and_caches(tmp_path: Path) -> None:
    for name in ["b.py", "a/z.py", "a/b/c.py", "a.py", ".hidden/x.py", "__pycache__/y.py", "a/.venv/v.py",
                 "notes.txt", "pkg/__init__.py"]:
        write(tmp_path, name, "")
    found = discover([str(tmp_path)], (".py",))
    rel = [os.path.relpath(p, tmp_path) for p in found.files]
    assert rel == ["a/b/c.py", "a/z.py", "a.py", "b.py", "pkg/__init__.py"]
    assert found.diagnostics == []


def test_discover_explicit_file_any_suffix_missing_and_empty_folder(tmp_path: Path) -> None:
    notes = write(tmp_path, "notes.txt", "")
    (tmp_path / "empty").mkdir()
    found = discover([notes, str(tmp_path / "gone.py"), str(tmp_path / "empty"), notes], (".py",))
    assert found.files == [notes]
    assert [(d.code, d.line, d.column) for d in found.diagnostics] == [("AM001", 0, 0), ("AM006", 0, 0)]
    assert found.missing == [str(tmp_path / "gone.py")]


def test_suffix_rules() -> None:
    assert matches("Snakefile", ("Snakefile", ".smk"))
    assert matches("x.smk", ("Snakefile", ".smk"))
    assert not matches("MySnakefile", ("Snakefile",))
    assert not matches("x.pyc", (".py",))


# --- writer --------------------------------------------------------------------------------------------------


def test_write_text_is_lf_utf8_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "x.yaml"
    write_text(target, "a: é\nb: 1\n")
    assert target.read_bytes() == "a: é\nb: 1\n".encode()
    write_text(target, "replaced\n")
    assert target.read_text() == "replaced\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.yaml"]
    assert oct(target.stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_failed_replace_raises_write_error_and_cleans_up(tmp_path: Path) -> None:
    target = tmp_path / "x.yaml"
    target.mkdir()  # os.replace of a file onto a folder fails after the temporary file was written
    with pytest.raises(WriteError, match="cannot write"):
        write_text(target, "data")
    assert [p.name for p in tmp_path.iterdir()] == ["x.yaml"]


def test_missing_folder_raises_write_error(tmp_path: Path) -> None:
    with pytest.raises(WriteError):
        write_text(tmp_path / "no" / "x.yaml", "data")
    assert list(tmp_path.iterdir()) == []
