"""Bad Snakemake input: every error is Snakemake's own, one line, at the file:line Snakemake blames, and the batch
goes on.

The fixtures (tests/fixtures/snakemake_bad/, one folder per case and one good workflow) are copied to a temporary
folder and migrated there in one batch (``argo-migrate snakemake snakemake_bad -o out``) with the real CLI in a child
process, so that what reaches its stdout is the real file descriptor's. Two cases need an option that would spoil
the others (``--target nonexistent.txt``, ``--parse-timeout 5``): their Snakefiles are named ``workflow.smk``, which
the folder search skips, and they are migrated alone. Each case is compared with what ``python -m snakemake -n``
prints for a second copy of the same folder: the oracle is Snakemake's command line, no English is written here.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures" / "snakemake_bad"
TIMEOUT = 5  # --parse-timeout of the never-ending workflow, in seconds
# What its run may take beyond the timeout and still be prompt: the CLI's own start (Hera, about a second) on a
# loaded machine. A run that waited for the default timeout (120 s) fails.
SLACK = 30

# case folder → what snakemake -n is given beside -n (a Snakefile other than ./Snakefile, targets)
ORACLE_ARGS = {
    "syntax_error": (),
    "missing_include": (),
    "cyclic": (),
    "ambiguous": (),
    "missing_config": (),
    "missing_module": (),
    "impossible_target": ("-s", "workflow.smk", "nonexistent.txt"),
}
IN_BATCH = sorted(set(ORACLE_ARGS) - {"impossible_target"})

DIAGNOSTIC = re.compile(r"^(?P<path>.+):(?P<line>\d+):(?P<col>\d+): (?P<severity>error|warning|info) "
                        r"(?P<code>AM\d{3}): (?P<message>.*)$")
# The line Snakemake starts an error report with: the exception's class, the rule, the file and line it blames.
SNAKEMAKE_HEADER = re.compile(r'^(?P<kind>\w+(?:Error|Exception))(?P<rule> in rule \S+)?'
                              r'(?: in file "(?P<file>.+)", line (?P<line>\d+))?:$')
# After the explanation Snakemake prints its traceback and sections listing wildcards and files: not ours to repeat.
SNAKEMAKE_DETAILS = ("Wildcards:", "Traceback:", "Expected input files:", "Expected output files:")
MARKERS = ("PARSE-TIME-STDOUT-MARKER", "PARSE-TIME-STDERR-MARKER", "PARSE-TIME-SHELL-MARKER")


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str
    seconds: float
    out: Path

    def errors(self) -> list[re.Match[str]]:
        found = [DIAGNOSTIC.match(line) for line in self.stderr.splitlines()]
        return [m for m in found if m is not None and m["severity"] == "error"]

    def report(self) -> dict:
        return json.loads((self.out / "migration-report.json").read_text())


@dataclass(frozen=True)
class SnakemakeSays:
    kind: str  # the exception's class, and " in rule R" when Snakemake names one
    file: Path | None
    line: int
    explanation: list[str]


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SNAKEMAKE")}
    env["XDG_CACHE_HOME"] = str(tmp / "xdg-cache")
    return env


def migrate(cwd: Path, out: str, *args: str) -> Run:
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "migrator.cli", "snakemake", *args, "-o", out],
                          cwd=cwd, capture_output=True, text=True, timeout=300, env=_env(cwd))
    return Run(done.returncode, done.stdout, done.stderr, time.monotonic() - started, cwd / out)


def snakemake_says(output: str) -> SnakemakeSays:
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if SNAKEMAKE_HEADER.match(line))
    header = SNAKEMAKE_HEADER.match(lines[start])
    assert header is not None
    explanation = []
    for line in lines[start + 1:]:
        if not line.strip() or line.strip() in SNAKEMAKE_DETAILS or line.lstrip().startswith('File "'):
            break
        explanation.append(line)
    return SnakemakeSays(header["kind"] + (header["rule"] or ""), Path(header["file"]) if header["file"] else None,
                         int(header["line"] or 0), explanation)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, dict[str, SnakemakeSays]]:
    """The batch, and what ``snakemake -n`` prints for each case, run meanwhile in another copy of the fixtures; the
    paths Snakemake names are made relative to that copy's root, as the batch's are to its working folder."""
    root = tmp_path_factory.mktemp("oracle")
    shutil.copytree(FIXTURES, root / "snakemake_bad")
    children = {
        case: subprocess.Popen([sys.executable, "-m", "snakemake", "-n", "--cores", "1", *args],
                               cwd=root / "snakemake_bad" / case, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, text=True, env=_env(root))
        for case, args in ORACLE_ARGS.items()}
    work = tmp_path_factory.mktemp("batch")
    shutil.copytree(FIXTURES, work / "snakemake_bad")
    batch = migrate(work, "out", "snakemake_bad")
    said = {}
    for case, child in children.items():
        output, _ = child.communicate(timeout=300)
        assert child.returncode != 0, f"snakemake -n accepted {case}:\n{output}"
        said[case] = snakemake_says(output.replace(f"{root}{os.sep}", ""))
    return batch, said


@pytest.fixture(scope="module")
def batch(runs: tuple[Run, dict[str, SnakemakeSays]]) -> Run:
    return runs[0]


@pytest.fixture(scope="module")
def oracle(runs: tuple[Run, dict[str, SnakemakeSays]]) -> dict[str, SnakemakeSays]:
    return runs[1]


def words(text: str) -> list[str]:
    # Snakemake names the two rules of an ambiguity in set order, which differs between runs: compare the words.
    return sorted(text.split())


def assert_snakemake_own(error: re.Match[str], says: SnakemakeSays, snakefile: str) -> None:
    """The diagnostic is Snakemake's report of the error: its position, its class (and rule), its explanation."""
    where = Path(error["path"])
    if says.file is None:  # Snakemake names no position (a target or an ambiguity): the Snakefile's first line
        assert (where, int(error["line"])) == (Path(snakefile), 1)
    else:
        assert (where, int(error["line"])) == (says.file, says.line)
    assert error["code"] == "AM200" and int(error["col"]) == 1
    prefix = f"Snakemake: {says.kind}: "
    assert error["message"].startswith(prefix), error["message"]
    assert words(error["message"].removeprefix(prefix)) == words(" ".join(says.explanation))


@pytest.mark.parametrize("case", IN_BATCH)
def test_each_error_is_snakemakes_own_at_its_position(case: str, batch: Run,
                                                      oracle: dict[str, SnakemakeSays]) -> None:
    snakefile = f"snakemake_bad/{case}/Snakefile"
    mine = [e for e in batch.errors() if e["path"].startswith(f"snakemake_bad/{case}/")]
    assert len(mine) == 1, batch.stderr
    assert_snakemake_own(mine[0], oracle[case], snakefile)


def test_an_error_in_an_included_file_is_reported_in_that_file(batch: Run, oracle: dict[str, SnakemakeSays]) -> None:
    (error,) = [e for e in batch.errors() if e["path"].startswith("snakemake_bad/missing_include/")]
    assert error["path"] == "snakemake_bad/missing_include/rules/common.smk" == str(oracle["missing_include"].file)
    # The missing file is named as the user names the folder, not by this machine's absolute path.
    assert str(batch.out.parent) not in batch.stderr + json.dumps(batch.report())


def test_the_batch_goes_on_and_writes_only_the_good_workflow(batch: Run) -> None:
    assert batch.code == 1
    report = batch.report()
    status = {f["path"]: f["status"] for f in report["files"]}
    expected = {f"snakemake_bad/{case}/Snakefile": "failed" for case in IN_BATCH}
    expected["snakemake_bad/good/Snakefile"] = "ok"
    assert status == expected
    written = sorted(p.name for p in batch.out.iterdir())
    assert [w["source"].split(":")[0] for w in report["workflows"]] == ["snakemake_bad/good/Snakefile"]
    assert written == sorted([*(w["output"] for w in report["workflows"]), "migration-report.json"])
    for entry in report["files"]:
        if entry["status"] == "failed":
            assert [d["severity"] for d in entry["diagnostics"]] == ["error"]
    # Every diagnostic printed is one line of the compiler format, without Snakemake's traceback.
    for line in batch.stderr.splitlines():
        assert DIAGNOSTIC.match(line), line
        assert 'File "' not in line and "Traceback" not in line


def test_a_never_ending_snakefile_is_stopped_promptly_with_its_whole_process_group(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "never_ends", tmp_path / "never_ends")
    snakefile = "never_ends/workflow.smk"
    run = migrate(tmp_path, "out", snakefile, "--parse-timeout", str(TIMEOUT))
    assert run.code == 1
    (error,) = run.errors()
    assert (error["path"], error["line"], error["code"]) == (snakefile, "1", "AM201")
    assert error["message"].startswith("Snakemake: ") and f"within {TIMEOUT} s" in error["message"]
    assert [f["status"] for f in run.report()["files"]] == ["failed"]
    assert TIMEOUT <= run.seconds < TIMEOUT + SLACK, run.seconds
    assert_group_gone(tmp_path / "never_ends")
    assert "looping forever" not in run.stdout + run.stderr


def assert_group_gone(folder: Path) -> None:
    """The Snakefile wrote its process group and the pid of a `sleep 300` it started: nothing of the group runs.
    A member may linger a moment as a zombie (dead, waiting for init to reap it, as we are not its parent)."""
    pgid, sleeper = (int(x) for x in (folder / "started.txt").read_text().split())
    alive = [(pid, state) for pid, (state, group) in processes().items() if group == pgid and state != "Z"]
    assert alive == [], f"process group {pgid} still runs: {alive}"
    assert processes().get(sleeper, ("Z", 0))[0] == "Z", "the Snakefile's `sleep 300` still runs"


def processes() -> dict[int, tuple[str, int]]:
    """Every process of this machine: pid → (state, process group), from /proc."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # exited while we looked
            continue
        state, _ppid, group = stat.rsplit(")", 1)[1].split()[:3]
        found[int(entry.name)] = (state, int(group))
    return found


def test_an_impossible_target_is_snakemakes_own_error(tmp_path: Path, oracle: dict[str, SnakemakeSays]) -> None:
    shutil.copytree(FIXTURES, tmp_path / "snakemake_bad")
    snakefile = "snakemake_bad/impossible_target/workflow.smk"
    run = migrate(tmp_path, "out", snakefile, "--target", "nonexistent.txt")
    assert run.code == 1
    (error,) = run.errors()
    assert_snakemake_own(error, oracle["impossible_target"], snakefile)
    assert [f["status"] for f in run.report()["files"]] == ["failed"]
    assert sorted(p.name for p in run.out.iterdir()) == ["migration-report.json"]
    # Without the target the same workflow migrates: what is impossible is the target.
    assert migrate(tmp_path, "out2", snakefile).code == 0


def test_parse_time_prints_never_reach_our_output(batch: Run) -> None:
    """The good workflow prints with print(), to stderr and from a shell command writing to the inherited stdout.
    None of it reaches argo-migrate's stdout (the summary) or stderr (the diagnostics): the child's streams go to a
    log that is dropped. (The never-ending workflow's print is checked in its own test.)"""
    for marker in MARKERS:
        assert marker not in batch.stdout
        assert marker not in batch.stderr
    assert "snakemake_bad/good/Snakefile" in batch.stdout  # the summary itself is there


def test_a_file_written_at_parse_time_lands_in_the_workflows_folder(batch: Run) -> None:
    """What happens, not a sandbox: the Snakefile runs with its working folder (the Snakefile's folder here) as the
    current folder, so a relative path lands there, beside the Snakefile, and not where argo-migrate was started
    nor in the output folder. An absolute path would be written wherever it points: parsing a Snakefile runs its
    code with the user's rights, as `snakemake` itself does."""
    work = batch.out.parent
    found = sorted(p.relative_to(work).as_posix() for p in work.rglob("written_at_parse.txt"))
    assert found == ["snakemake_bad/good/written_at_parse.txt"]
