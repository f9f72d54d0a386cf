"""Ground truth: Airflow's own DagBag against argo-migrate's Airflow frontend, DAG by DAG, on real example DAGs.

The oracle is a separate, cached virtualenv holding a real Airflow (``tests/oracles/airflow_env.py``); DagBag
imports the example DAG files there, in a subprocess (``tests/oracles/dump_dagbag.py``). argo-migrate never
imports Airflow: it only parses the same files with ``frontends.airflow.parse``.

For every DAG DagBag finds, the IR workflow of the same ``dag_id`` from the same file must have

- the same set of task ids (TaskGroup members as ``group.task``, as Airflow names them),
- the same set of edges (``workflow.graph.edges`` against each task's ``upstream_task_ids``),
- and, task by task, the same trigger rule (``task.join.value``), retries (``task.retry.limit``, 0 without a
  retry) and mapped-ness (``task.loop is not None`` against DagBag's ``MappedOperator``, or membership of a
  ``MappedTaskGroup``, which becomes a looped group: a nested DAG run once per item).

A DAG that DagBag has and argo-migrate lacks is a difference too. So is a workflow that argo-migrate makes where
DagBag has none, except in a file that DagBag could not import, or one of ``Corpus.oracle_lacks``: files that
define their DAG only when a package is importable that the oracle environment leaves out on purpose (listed with
the reason), where argo-migrate is right to migrate the DAG and DagBag cannot show it.

A difference is *explained*, and then accepted, only when argo-migrate emitted a diagnostic that declares it. The
requirements, all of them, are:

1. the diagnostic is for the same file;
2. its code is one of ``EXPLAINING`` (below): codes by which the frontend says that it could not know something
   (AM103 dynamic value, AM115 unsupported construct, AM109 ``**kwargs`` splat). Codes that only say how a task is
   run (AM102 wrapped, AM110/AM111/AM112/AM113, AM119...) explain nothing here, nor does AM101 "no DAG found":
   it claims there is nothing to migrate, which DagBag contradicts;
3. its message says what kind of thing was lost (``ABOUT`` below): for missing or extra tasks and edges and for a
   missing DAG, that tasks are missing, the DAG is not migrated, a placeholder id was used, or a task id /
   TaskGroup id / ``dag=`` is only known at run time; for a trigger rule, retries or mapped-ness difference, that
   attribute by name (or ``default_args``, or a ``**kwargs`` splat for the first two);
4. it is in scope: a diagnostic that names a task (``task 'T': ...``) explains only differences involving T (a
   task T, an attribute of T, an edge with T at either end); any other diagnostic explains only differences of
   the DAG in whose source span its line lies. A DAG's span runs from the line of its workflow to the line
   before the next workflow of the same file (the first DAG's span starts at line 1; a file with one DAG is
   one span); for a DAG that argo-migrate did not make at all, the whole file is its span. And a diagnostic
   whose message names a DAG of the file (its ``dag_id`` as a whole word, DagBag's or argo-migrate's) explains
   only differences of that DAG.

Unexplained differences fail the test, which prints (and attaches to the assertion) the list, DAG by DAG, and
the totals. The full list, with every diagnostic of each differing file, is also written to
``.cache/oracles/reports/<corpus>-mismatches.txt``; ``python -m tests.test_airflow_dagbag [OUT]`` writes the list
for both corpora into one file.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from frontends.airflow import parse
from migrator.diagnostics import Diagnostic
from migrator.ir import Workflow
from tests.corpora import airflow2_examples, airflow3_examples
from tests.oracles.airflow_env import AIRFLOW2, AIRFLOW3, ROOT, OracleEnv, dagbag

# Codes by which argo-migrate says that it could not know part of a DAG (requirement 2).
EXPLAINING = {
    "AM103": "dynamic value: a value (task id, loop, condition, trigger rule, retries...) is only known at run time",
    "AM109": "**kwargs splat: the task's arguments (trigger rule and retries among them) are unknown",
    "AM115": "unsupported construct: a statement or call that builds the DAG is not understood",
}

# What a message must say to concern each kind of difference (requirement 3). Which codes may explain it, too.
_STRUCTURE = re.compile(r"\bmissing\b|not migrated|placeholder|task_id is only known|TaskGroup id|\bdag= ")
ABOUT: dict[str, tuple[frozenset[str], re.Pattern[str]]] = {
    "dag": (frozenset({"AM103", "AM115"}), _STRUCTURE),
    "task": (frozenset({"AM103", "AM115"}), _STRUCTURE),
    "edge": (frozenset({"AM103", "AM115"}), _STRUCTURE),
    "trigger_rule": (frozenset({"AM103", "AM109", "AM115"}), re.compile(r"trigger_rule|default_args|\*\*kwargs")),
    "retries": (frozenset({"AM103", "AM109", "AM115"}), re.compile(r"\bretries\b|default_args|\*\*kwargs")),
    "mapped": (frozenset({"AM103", "AM115"}), re.compile(r"\.expand|\.partial|\bmapping\b|\bmapped\b")),
}
_NAMES_TASK = re.compile(r"^task (['\"])(?P<id>.*?)\1:")

# Airflow's own aliases of trigger rules, normalised as Airflow normalises them.
_RULE_ALIASES = {"dummy": "always", "none_failed_or_skipped": "none_failed_min_one_success"}


@dataclass(frozen=True)
class Corpus:
    name: str
    fetch: Callable[[], Path]
    oracle: OracleEnv
    # The oracle's own totals (DAGs, tasks, edges), a sanity check of the oracle (see airflow_env.py).
    totals: tuple[int, int, int]
    # file → why DagBag finds no DAG there although the file defines one (see the module docstring).
    oracle_lacks: dict[str, str] = field(default_factory=dict)


_NO_KUBERNETES = ("defines its DAG only if the kubernetes client is importable; the Airflow 3 oracle is installed "
                  "as CORPORA.md counts it (113 DAGs), without that client")
CORPORA = {
    "airflow3": Corpus("airflow3", airflow3_examples, AIRFLOW3, (113, 415, 356), {  # CORPORA.md
        "example_kubernetes_executor.py": _NO_KUBERNETES,
        "example_local_kubernetes_executor.py": _NO_KUBERNETES,
    }),
    "airflow2": Corpus("airflow2", airflow2_examples, AIRFLOW2, (76, 360, 332)),
}


@dataclass
class Difference:
    kind: str  # dag, task, edge, trigger_rule, retries, mapped
    text: str
    tasks: tuple[str, ...] = ()  # task ids involved
    explained_by: Diagnostic | str | None = None  # the diagnostic, or why there is nothing to compare with


@dataclass
class DagResult:
    dag_id: str
    file: str
    differences: list[Difference] = field(default_factory=list)
    extra: bool = False  # a workflow of argo-migrate's that DagBag does not have

    @property
    def unexplained(self) -> list[Difference]:
        return [d for d in self.differences if d.explained_by is None]


@dataclass
class Comparison:
    corpus: str
    oracle: dict
    results: list[DagResult] = field(default_factory=list)
    diagnostics: dict[str, list[Diagnostic]] = field(default_factory=dict)  # file → all of its diagnostics
    ours: dict[tuple[str, str], Workflow] = field(default_factory=dict)  # (file, dag_id) → workflow

    def totals(self) -> dict[str, int]:
        dags = self.oracle["dags"]
        ours = list(self.ours.values())
        return {
            "dagbag_dags": len(dags),
            "dagbag_tasks": sum(len(d["tasks"]) for d in dags.values()),
            "dagbag_edges": sum(len(t["upstream"]) for d in dags.values() for t in d["tasks"].values()),
            "dagbag_import_errors": len(self.oracle["import_errors"]),
            "ours_dags": len(ours),
            "ours_tasks": sum(w.graph.number_of_nodes() for w in ours),
            "ours_edges": sum(w.graph.number_of_edges() for w in ours),
            "ours_native": sum(1 for w in ours for t in w.tasks() if t.native),
            # The same share, over the DAGs DagBag also finds (the corpus as CORPORA.md counts it).
            "common_tasks": sum(w.graph.number_of_nodes() for w in ours if w.id in dags),
            "common_native": sum(1 for w in ours if w.id in dags for t in w.tasks() if t.native),
            "identical": sum(1 for r in self.results if not r.extra and not r.differences),
            "explained_only": sum(1 for r in self.results if not r.extra and r.differences and not r.unexplained),
            "unexplained_dags": sum(1 for r in self.results if not r.extra and r.unexplained),
            "extra_dags": sum(1 for r in self.results if r.extra),
            "extra_unexplained": sum(1 for r in self.results if r.extra and r.unexplained),
            "unexplained": sum(len(r.unexplained) for r in self.results),
        }


# --- comparison --------------------------------------------------------------------------------------------------


def _spans(workflows: list[Workflow]) -> dict[str, tuple[int, int]]:
    """Each workflow's source span (first line, last line) within its file; see requirement 4."""
    ordered = sorted(workflows, key=lambda w: (w.origin.line, w.id))
    spans = {}
    for index, workflow in enumerate(ordered):
        first = 1 if index == 0 else workflow.origin.line
        last = ordered[index + 1].origin.line - 1 if index + 1 < len(ordered) else sys.maxsize
        spans[workflow.id] = (first, last)
    return spans


def _names(dag_id: str, message: str) -> bool:
    return re.search(rf"(?<![\w.-]){re.escape(dag_id)}(?![\w.-])", message) is not None


def _explain(diff: Difference, dag_id: str, file_dags: set[str], span: tuple[int, int],
             diagnostics: list[Diagnostic]) -> Diagnostic | None:
    codes, about = ABOUT[diff.kind]
    for found in diagnostics:
        if found.code not in codes or found.code not in EXPLAINING or not about.search(found.message):
            continue
        named_dags = {other for other in file_dags if _names(other, found.message)}
        if named_dags and dag_id not in named_dags:
            continue
        named = _NAMES_TASK.match(found.message)
        if named:
            if diff.kind != "dag" and named.group("id") in diff.tasks:
                return found
        elif span[0] <= found.line <= span[1]:
            return found
    return None


def _edges(tasks: dict) -> set[tuple[str, str]]:
    return {(up, task_id) for task_id, task in tasks.items() for up in task["upstream"]}


def _compare_dag(dag: dict, workflow: Workflow) -> list[Difference]:
    diffs = []
    theirs, ours = set(dag["tasks"]), set(workflow.graph.nodes)
    for task_id in sorted(theirs - ours):
        diffs.append(Difference("task", f"missing task {task_id}", (task_id,)))
    for task_id in sorted(ours - theirs):
        diffs.append(Difference("task", f"extra task {task_id}", (task_id,)))
    their_edges, our_edges = _edges(dag["tasks"]), set(workflow.graph.edges)
    for up, down in sorted(their_edges - our_edges):
        diffs.append(Difference("edge", f"missing edge {up} >> {down}", (up, down)))
    for up, down in sorted(our_edges - their_edges):
        diffs.append(Difference("edge", f"extra edge {up} >> {down}", (up, down)))
    for task_id in sorted(theirs & ours):
        expected, task = dag["tasks"][task_id], workflow.task(task_id)
        rule = _RULE_ALIASES.get(expected["trigger_rule"], expected["trigger_rule"])
        if task.join.value != rule:
            diffs.append(Difference("trigger_rule", f"{task_id}: trigger_rule {task.join.value}, Airflow {rule}",
                                    (task_id,)))
        retries = task.retry.limit if task.retry else 0
        if retries != expected["retries"]:
            diffs.append(Difference("retries", f"{task_id}: retries {retries}, Airflow {expected['retries']}",
                                    (task_id,)))
        mapped = task.loop is not None or bool(workflow.looped_groups(task))
        airflow_mapped = expected["mapped"] or expected.get("in_mapped_group", False)
        if mapped != airflow_mapped:
            diffs.append(Difference("mapped", f"{task_id}: mapped {mapped}, Airflow {airflow_mapped}",
                                    (task_id,)))
    return diffs


def compare(corpus: Corpus) -> Comparison:
    folder = corpus.fetch()
    return compare_folder(corpus.name, folder, dagbag(corpus.oracle, folder), corpus.oracle_lacks)


def compare_folder(name: str, folder: Path, oracle: dict, oracle_lacks: dict[str, str] | None = None) -> Comparison:
    """Compare what argo-migrate makes of the ``*.py`` files of ``folder`` with ``oracle`` (a DagBag dump)."""
    oracle_lacks = oracle_lacks or {}
    comparison = Comparison(name, oracle)
    spans: dict[str, dict[str, tuple[int, int]]] = {}
    for path in sorted(folder.glob("*.py")):
        parsed = parse(str(path), path.read_bytes())
        found = [*parsed.diagnostics, *(d for w in parsed.workflows for d in w.diagnostics)]
        comparison.diagnostics[path.name] = sorted(set(found))
        for workflow in parsed.workflows:
            comparison.ours.setdefault((path.name, workflow.id), workflow)
        spans[path.name] = _spans(parsed.workflows)
    whole = (0, sys.maxsize)
    file_dags: dict[str, set[str]] = {}
    for dag_id, dag in oracle["dags"].items():
        file_dags.setdefault(dag["file"], set()).add(dag_id)
    for file, dag_id in comparison.ours:
        file_dags.setdefault(file, set()).add(dag_id)
    for dag_id, dag in sorted(oracle["dags"].items()):
        file = dag["file"]
        result = DagResult(dag_id, file)
        mine = comparison.ours.get((file, dag_id))
        if mine is None:
            elsewhere = sorted(f for f, i in comparison.ours if i == dag_id)
            where = f" (argo-migrate found it in {', '.join(elsewhere)})" if elsewhere else ""
            result.differences.append(Difference("dag", f"missing DAG ({len(dag['tasks'])} tasks){where}"))
            span = whole
        else:
            result.differences = _compare_dag(dag, mine)
            span = spans[file].get(dag_id, whole)
        for diff in result.differences:
            diff.explained_by = _explain(diff, dag_id, file_dags[file], span, comparison.diagnostics.get(file, []))
        comparison.results.append(result)
    for file, dag_id in sorted(comparison.ours):
        if dag_id in oracle["dags"] and oracle["dags"][dag_id]["file"] == file:
            continue
        result = DagResult(dag_id, file, extra=True)
        error = oracle["import_errors"].get(file)
        size = comparison.ours[file, dag_id].graph.number_of_nodes()
        text = f"extra DAG ({size} tasks): DagBag has no DAG {dag_id!r} in this file"
        diff = Difference("dag", text)
        if error:  # Airflow could not import the file: nothing to compare with, and the import error says why
            diff.text += f" (DagBag import error: {error.strip().splitlines()[-1]})"
            diff.explained_by = "DagBag import error"
        elif file in oracle_lacks:
            diff.explained_by = f"oracle: {oracle_lacks[file]}"
        result.differences.append(diff)
        comparison.results.append(result)
    return comparison


# --- report ------------------------------------------------------------------------------------------------------


def summary(comparison: Comparison) -> str:
    t = comparison.totals()
    share = t["ours_native"] / t["ours_tasks"] if t["ours_tasks"] else 0.0
    return "\n".join([
        f"[{comparison.corpus}] Airflow {comparison.oracle['airflow']} DagBag vs argo-migrate",
        f"  DAGs : DagBag {t['dagbag_dags']}, argo-migrate {t['ours_dags']}",
        f"  tasks: DagBag {t['dagbag_tasks']}, argo-migrate {t['ours_tasks']}",
        f"  edges: DagBag {t['dagbag_edges']}, argo-migrate {t['ours_edges']}",
        f"  DagBag import errors: {t['dagbag_import_errors']}",
        f"  identical DAGs: {t['identical']} of {t['dagbag_dags']}; differing but explained: {t['explained_only']}; "
        f"with unexplained differences: {t['unexplained_dags']}",
        f"  argo-migrate DAGs that DagBag lacks: {t['extra_dags']} ({t['extra_unexplained']} unexplained)",
        f"  unexplained differences in all: {t['unexplained']}",
        f"  tasks migrated natively: {t['ours_native']} of {t['ours_tasks']} ({share:.1%}); in the DAGs DagBag "
        f"finds: {t['common_native']} of {t['common_tasks']} "
        f"({t['common_native'] / max(t['common_tasks'], 1):.1%})",
    ])


def _short(found: Diagnostic) -> str:
    return f"{Path(found.path).name}:{found.line}:{found.column}: {found.severity} {found.code}: {found.message}"


def report(comparison: Comparison, full: bool = False) -> str:
    """The per-DAG list: only unexplained differences, or (``full``) every difference and the file's diagnostics."""
    lines = [summary(comparison), ""]
    for result in comparison.results:
        shown = result.differences if full else result.unexplained
        if not shown:
            continue
        lines.append(f"{result.dag_id}  ({result.file})")
        for diff in shown:
            by = diff.explained_by
            why = f"   [explained by {_short(by) if isinstance(by, Diagnostic) else by}]" if by else ""
            lines.append(f"    - {diff.text}{why}")
        if full:
            lines.append("    argo-migrate's diagnostics for the file:")
            for found in comparison.diagnostics.get(result.file, []):
                lines.append(f"      {_short(found)}")
        lines.append("")
    return "\n".join(lines)


# --- tests -------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=[pytest.param(name, marks=pytest.mark.corpus) for name in CORPORA])
def comparison(request) -> Comparison:
    result = compare(CORPORA[request.param])
    out = ROOT / "reports" / f"{request.param}-mismatches.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report(result, full=True))
    return result


def test_oracle_sees_the_expected_corpus(comparison) -> None:
    """The oracle itself: DagBag loads every file and finds the DAGs, tasks and edges counted by hand."""
    t = comparison.totals()
    expected = CORPORA[comparison.corpus].totals
    assert comparison.oracle["import_errors"] == {}
    assert (t["dagbag_dags"], t["dagbag_tasks"], t["dagbag_edges"]) == expected


def test_every_dag_is_identical_or_its_difference_explained(comparison) -> None:
    text = report(comparison)
    print(text)
    unexplained = [r for r in comparison.results if r.unexplained]
    full = ROOT / "reports" / f"{comparison.corpus}-mismatches.txt"
    assert not unexplained, f"{len(unexplained)} DAGs differ from DagBag without a diagnostic that explains it " \
                            f"(full list with diagnostics: {full})\n{text}"


# --- the comparison itself, on a DAG file written here (no oracle needed) ----------------------------------------

_HEADER = """import os
from airflow.sdk import DAG
from airflow.providers.standard.operators.empty import EmptyOperator
"""


def _task(*upstream: str, rule: str = "all_success", retries: int = 0, mapped: bool = False) -> dict:
    return {"upstream": list(upstream), "trigger_rule": rule, "retries": retries, "mapped": mapped}


def _oracle(dags: dict[str, dict]) -> dict:
    return {"airflow": "test", "import_errors": {}, "dags": {i: {"file": "f.py", "tasks": t} for i, t in dags.items()}}


def _compare_source(tmp_path: Path, body: str, dags: dict[str, dict]) -> Comparison:
    (tmp_path / "f.py").write_text(_HEADER + body)
    return compare_folder("unit", tmp_path, _oracle(dags))


def _unexplained(comparison: Comparison) -> list[str]:
    return [d.text for r in comparison.results for d in r.unexplained]


def test_comparison_accepts_an_identical_dag(tmp_path) -> None:
    body = """
with DAG("d", schedule=None):
    a = EmptyOperator(task_id="a")
    b = EmptyOperator(task_id="b", retries=2, trigger_rule="one_success")
    a >> b
"""
    result = _compare_source(tmp_path, body, {"d": {"a": _task(), "b": _task("a", rule="one_success", retries=2)}})
    assert result.totals()["identical"] == 1
    assert _unexplained(result) == []


def test_comparison_reports_each_kind_of_difference(tmp_path) -> None:
    body = """
with DAG("d", schedule=None):
    a = EmptyOperator(task_id="a")
    b = EmptyOperator(task_id="b")
    x = EmptyOperator(task_id="x")
    a >> b
    a >> x
"""
    dags = {"d": {"a": _task(), "b": _task("a", rule="all_done", retries=3, mapped=True), "c": _task("b")},
            "gone": {"t": _task()}}
    assert sorted(_unexplained(_compare_source(tmp_path, body, dags))) == [
        "b: mapped False, Airflow True", "b: retries 0, Airflow 3", "b: trigger_rule all_success, Airflow all_done",
        "extra edge a >> x", "extra task x", "missing DAG (1 tasks)", "missing edge b >> c", "missing task c",
    ]


def test_only_a_diagnostic_that_declares_the_loss_explains_it(tmp_path) -> None:
    # The unknown condition explains the missing task c and its edge, not b's retries; AM101 explains nothing.
    body = """
with DAG("d", schedule=None):
    a = EmptyOperator(task_id="a")
    b = EmptyOperator(task_id="b")
    a >> b
    if os.environ.get("X"):
        c = EmptyOperator(task_id="c")
        b >> c
"""
    result = _compare_source(tmp_path, body, {"d": {"a": _task(), "b": _task("a", retries=1), "c": _task("b")}})
    explained = sorted(d.text for r in result.results for d in r.differences if d.explained_by)
    assert explained == ["missing edge b >> c", "missing task c"]
    assert _unexplained(result) == ["b: retries 0, Airflow 1"]


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "dagbag-mismatches.txt")
    target.write_text("\n\n".join(report(compare(corpus), full=True) for corpus in CORPORA.values()))
    print(f"wrote {target}")
