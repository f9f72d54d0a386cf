"""Job graphs of a Snakemake workflow: Snakemake's own (the oracle) and the one our migration denotes, and how they
compare.

**The oracle** is Snakemake 9.27.1 computing the concrete job DAG of a folder, in a child process, with none of
:mod:`frontends.snakemake`'s code: the team's ground-truth script ``shared/checks/lib/snakemake_truth.py`` (the
``snakemake -n -F`` planning steps through Snakemake's API). Snakemake's command line was tried first and does
not identify jobs: ``--dag`` labels a job with its rule and only the wildcards its dependencies do not already
have, ``--d3dag`` with its rule alone, and the dry-run listing names each job's wildcards but not what it waits
for. The oracle runs in a copy of the folder (Snakemake writes ``.snakemake/`` where it plans) with the files the
folder ships and its default target, in Snakemake's default mode (``--missing-inputs error``): exactly what
``snakemake -n -F`` plans there, with input existence deciding between candidate producers as it does for a real
run. Only when that fails because a raw input is absent does it plan again in ``ExecMode.SUBPROCESS`` (the mode of
Snakemake's own cluster jobs, which does not test that inputs exist; ``mode`` says which was used). Results are
cached under ``.cache/snakemake-graph/oracle/<snakemake version>/`` keyed by a hash of the folder's files, the
Snakefile's name and the oracle script, so a warm run only runs our side.

**Ours** is the frontend's IR workflow (``frontends.snakemake.parse``, as the CLI runs it: no options) expanded
back to jobs: a task stands for its ``jobs`` (a fanned-out rule's, a Snakemake group's) or, without any, for the
job its id names; Init/Finalize (``Stage``) are not jobs. An edge between two tasks stands for edges from every
job of the first to every job of the second, except between two members of one looped group, where it holds lane
by lane (the i-th job of one member before the i-th job of the other: each lane runs on its own). A Snakemake
group task runs its jobs one after the other in one pod, in the order it lists them: a chain.

**Compared**: the job sets must be equal; the edges are compared as transitive closures (what must finish before
what). Closures, not edge sets, because a fan-out legitimately drops edges that others imply: a loop task that
waits for task X waits for *all* of X's jobs, which Snakemake may express as one edge per job pair or through an
intermediate job; a lane group keeps only its first members' outside edges (``map[s] → sort[s] → gather`` holds
``map[s] → gather`` only through ``sort[s]``). Equal closures mean the same order of jobs, no order lost and none
added. Whether the transitive reductions (the graphs without implied edges) are equal is reported beside it: that
is the stricter "same edges up to implied ones", and it is equal exactly when the closures are (a DAG's reduction
is unique), so a difference there would mean a bug in this module.

A Snakemake group adds order by design: its pod runs its jobs one after the other and starts once the inputs of
all of them exist (what Snakemake's own group job does on a cluster, except that Snakemake runs independent jobs
of the group side by side). ``Comparison.equal_as_units`` says whether that is the only difference: the same jobs,
none of Snakemake's order lost, and equal closures once each group task's jobs are taken as one unit.

The oracle's limits (not Snakemake's): the script does not read a workflow profile (``workflow/profiles/default``),
which Snakemake's command line and the frontend do; and it normalises shell commands with a regular expression
that takes minutes on a very long command (a 256 KiB one times out).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx

from migrator.ir import Stage, Workflow, Wrapped
from tests.corpora import REPO, SNAKEMAKE_VERSION, shared_dir

CACHE = REPO / ".cache" / "snakemake-graph"
SNAKEFILES = ("Snakefile", "snakefile", "workflow/Snakefile", "workflow/snakefile")
TIMEOUT = 120.0
# A cached oracle answer is reused only for the same policy: bump when what the oracle runs changes.
ORACLE_POLICY = "error-then-subprocess/2"


@dataclass(frozen=True)
class Graph:
    jobs: frozenset[str]
    edges: frozenset[tuple[str, str]]

    def digraph(self) -> nx.DiGraph:
        g = nx.DiGraph()
        g.add_nodes_from(self.jobs)
        g.add_edges_from(self.edges)
        return g


@dataclass(frozen=True)
class Oracle:
    """Snakemake's own job graph, or why it could not plan (``graph`` None)."""

    graph: Graph | None
    mode: str = ""  # "error" (inputs must exist, as `snakemake -n -F`) or "ignore" (ExecMode.SUBPROCESS)
    error: str = ""


@dataclass(frozen=True)
class Comparison:
    jobs_missing: frozenset[str]  # Snakemake's jobs our output does not run
    jobs_extra: frozenset[str]
    order_missing: frozenset[tuple[str, str]]  # in Snakemake's closure, not in ours
    order_extra: frozenset[tuple[str, str]]
    reductions_equal: bool
    # With each Snakemake group's jobs taken as one unit (one pod), the closures are equal: the extra order is only
    # that of jobs run one after the other in their group's pod, and of a pod waiting for all its jobs' inputs.
    equal_as_units: bool = False

    @property
    def equal(self) -> bool:
        return not (self.jobs_missing or self.jobs_extra or self.order_missing or self.order_extra)

    def summary(self, limit: int = 6) -> str:
        parts = []
        for label, values in (("jobs missing", self.jobs_missing), ("jobs extra", self.jobs_extra),
                              ("order missing", self.order_missing), ("order extra", self.order_extra)):
            if values:
                shown = sorted(values)[:limit]
                parts.append(f"{label} ({len(values)}): {', '.join(map(str, shown))}"
                             + (" …" if len(values) > limit else ""))
        parts.append(f"reductions {'equal' if self.reductions_equal else 'differ'}")
        if self.equal_as_units and not self.equal:
            parts.append("equal with each group as one unit")
        return "; ".join(parts)


# --- the folder ------------------------------------------------------------------------------------------------


def snakefile_of(folder: Path) -> str | None:
    """The Snakefile Snakemake itself picks in ``folder`` when none is named (relative), or None."""
    return next((name for name in SNAKEFILES if (folder / name).is_file()), None)


def folder_hash(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_symlink():
            digest.update(f"L {rel} {os.readlink(path)}\n".encode())
        elif path.is_file():
            digest.update(f"F {rel} {path.stat().st_size}\n".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def copy_folder(folder: Path, into: Path) -> Path:
    """A copy to plan in: Snakemake writes ``.snakemake/`` (and Snakefiles may write files) where it plans."""
    dest = into / folder.name
    shutil.copytree(folder, dest, symlinks=True)
    return dest


# --- the oracle ------------------------------------------------------------------------------------------------


def _truth_script() -> Path:
    return shared_dir() / "checks" / "lib" / "snakemake_truth.py"


def _run_truth(workdir: Path, snakefile: str, mode: str, tmp: Path) -> tuple[dict[str, Any] | None, str]:
    out = tmp / f"truth-{mode}.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SNAKEMAKE")}
    env["XDG_CACHE_HOME"] = str(tmp / "xdg-cache")
    cmd = [sys.executable, str(_truth_script()), snakefile, "--workdir", str(workdir), "--missing-inputs", mode,
           "-o", str(out)]
    code, log = _child(cmd, workdir, env)
    if code == 0 and out.exists():
        return json.loads(out.read_text()), ""
    return None, log


def _child(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[int | None, str]:
    """Run ``cmd`` in its own process group (killed whole on timeout); its exit code (None: timed out) and what it
    printed."""
    with tempfile.TemporaryFile() as sink:
        child = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=sink, stderr=sink,
                                 start_new_session=True)
        try:
            code: int | None = child.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            code = None
        finally:
            try:
                os.killpg(child.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            child.wait()
        sink.seek(0)
        lines = sink.read().decode(errors="replace").strip().splitlines()
    if code is None:
        return None, f"timed out after {TIMEOUT:g} s"
    return code, "\n".join(lines)


def _graph(data: dict[str, Any]) -> Graph:
    return Graph(frozenset(j["key"] for j in data["jobs"]), frozenset((a, b) for a, b in data["edges"]))


def oracle(folder: Path, snakefile: str) -> Oracle:
    """Snakemake's job graph of ``folder`` (its default target), cached on disk."""
    key = hashlib.sha256("\n".join((ORACLE_POLICY, snakefile, folder_hash(folder),
                                    hashlib.sha256(_truth_script().read_bytes()).hexdigest())).encode()).hexdigest()
    cached = CACHE / "oracle" / SNAKEMAKE_VERSION / f"{folder.name}-{key[:24]}.json"
    if cached.exists():
        data = json.loads(cached.read_text())
    else:
        data = _plan(folder, snakefile)
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps(data, sort_keys=True))
        os.replace(partial, cached)
    if data.get("graph") is None:
        return Oracle(None, data.get("mode", ""), data.get("error", ""))
    return Oracle(_graph(data["graph"]), data["mode"])


def _plan(folder: Path, snakefile: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="smk-oracle-") as tmp_name:
        tmp = Path(tmp_name)
        work = copy_folder(folder, tmp / "work")
        truth, log = _run_truth(work, snakefile, "error", tmp)
        mode = "error"
        if truth is None and "MissingInputException" in log:
            shutil.rmtree(work)
            work = copy_folder(folder, tmp / "work")
            truth, log = _run_truth(work, snakefile, "ignore", tmp)
            mode = "ignore"
    if truth is None:
        return {"graph": None, "mode": mode, "error": _reason(log)}
    return {"graph": {"jobs": truth["jobs"], "edges": truth["edges"]}, "mode": mode}


def _reason(log: str) -> str:
    """Snakemake's error in a failed child's output: the exception's line and what follows it (the lines after a
    traceback's last frame), at most four."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    marks = [i for i, line in enumerate(lines) if "Error" in line or "Exception" in line or "timed out" in line]
    start = marks[-1] if marks else max(len(lines) - 4, 0)
    return " | ".join(lines[start:start + 4])


# --- ours ------------------------------------------------------------------------------------------------------


@dataclass
class Ours:
    """What the frontend made of the folder: the job graph its workflow denotes, or the codes it reported."""

    graph: Graph | None
    codes: tuple[str, ...]
    whole: bool = False  # the whole workflow wrapped as one engine-in-pod task
    messages: tuple[str, ...] = field(default_factory=tuple)
    grouped: dict[str, str] = field(default_factory=dict)  # job → the Snakemake group task running it


def ours(folder: Path, snakefile: str) -> Ours:
    from frontends.snakemake import SnakemakeOptions, parse

    with tempfile.TemporaryDirectory(prefix="smk-ours-") as tmp:
        work = copy_folder(folder, Path(tmp))
        path = work / snakefile
        result = parse(str(path), path.read_bytes(), SnakemakeOptions())
    diagnostics = [*result.diagnostics, *(d for w in result.workflows for d in w.diagnostics)]
    codes = tuple(d.code for d in diagnostics)
    messages = tuple(str(d) for d in diagnostics)
    if len(result.workflows) != 1:
        return Ours(None, codes, messages=messages)
    workflow = result.workflows[0]
    whole = any(isinstance(t.action, Wrapped) and t.action.engine == "engine-in-pod" for t in workflow.tasks())
    grouped = {j: t.id for t in workflow.tasks() if t.construct == "group" for j in t.jobs}
    return Ours(expand(workflow), codes, whole, messages, grouped)


def expand(workflow: Workflow) -> Graph:
    """The job graph a workflow of the Snakemake frontend denotes (see the module's docstring)."""
    jobs_of: dict[str, tuple[str, ...]] = {}
    lane_group: dict[str, str] = {}
    edges: set[tuple[str, str]] = set()
    for task in workflow.tasks():
        if isinstance(task.action, Stage):
            continue
        jobs_of[task.id] = task.jobs or (task.id,)
        looped = workflow.looped_groups(task)
        if looped:
            lane_group[task.id] = min(looped)
        if task.construct == "group":
            edges.update(zip(task.jobs, task.jobs[1:], strict=False))
    for up, down in workflow.graph.edges:
        if up not in jobs_of or down not in jobs_of:
            continue
        ups, downs = jobs_of[up], jobs_of[down]
        if up in lane_group and lane_group.get(down) == lane_group[up]:
            edges.update(zip(ups, downs, strict=True))  # a lane count that differs is the frontend's bug
        else:
            edges.update((u, d) for u in ups for d in downs)
    return Graph(frozenset(j for js in jobs_of.values() for j in js), frozenset(edges))


# --- the comparison ----------------------------------------------------------------------------------------------


def _closure(graph: Graph) -> frozenset[tuple[str, str]]:
    return frozenset(nx.transitive_closure_dag(graph.digraph()).edges)


def _reduction(graph: Graph) -> frozenset[tuple[str, str]]:
    return frozenset(nx.transitive_reduction(graph.digraph()).edges)


def _units(closure: frozenset[tuple[str, str]], unit: dict[str, str]) -> frozenset[tuple[str, str]]:
    """The order between units (a group's jobs are one unit, any other job its own) that a closure implies."""
    g = nx.DiGraph((unit.get(a, a), unit.get(b, b)) for a, b in closure if unit.get(a, a) != unit.get(b, b))
    return frozenset(nx.transitive_closure(g, reflexive=False).edges)


def compare(theirs: Graph, mine: Graph, grouped: dict[str, str] | None = None) -> Comparison:
    """``grouped``: our Snakemake group tasks (job → task), which run their jobs one after the other."""
    if not nx.is_directed_acyclic_graph(mine.digraph()):
        cycle = nx.find_cycle(mine.digraph())
        return Comparison(frozenset(), frozenset(), frozenset(), frozenset(cycle), False)
    c_theirs, c_mine = _closure(theirs), _closure(mine)
    missing = c_theirs - c_mine
    as_units = (theirs.jobs == mine.jobs and not missing
                and _units(c_theirs, grouped or {}) == _units(c_mine, grouped or {}))
    return Comparison(theirs.jobs - mine.jobs, mine.jobs - theirs.jobs, missing, c_mine - c_theirs,
                      _reduction(theirs) == _reduction(mine), as_units)


def folders(root: Path) -> Iterable[tuple[Path, str]]:
    """The test folders holding a Snakefile Snakemake would pick, with its name, sorted."""
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "__"))):
        name = snakefile_of(folder)
        if name is not None:
            yield folder, name
