"""Every trigger rule against every combination of up to three upstream states, end to end: the IR is emitted by
the Argo backend and run by ``argo-migrate run --local``; the phase of each rule's task must be Airflow's decision.

Upstream states are produced the way a migrated DAG produces them: success is a task that exits 0, failed one that
exits 1, skipped one whose ``when`` is false, upstream_failed one whose ``depends`` on a failed task is false. All
combinations of one rule and one upstream count share a workflow, so the suite needs 36 local runs.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from backends.argo.emit import EmitOptions, Kind, emit
from backends.argo.local.engine import Options, Runner
from backends.argo.local.model import load
from backends.argo.yaml_out import dump
from migrator.ir import Compare, ContainerRun, JoinRule, Literal, Noop, SourceLoc, Task, Workflow, text
from tests.test_join_rules import AIRFLOW_STATES, AIRFLOW_TO_ARGO, RULES, airflow_decision

HERE = SourceLoc("cases.py", 1, 1)
EXIT_1 = ContainerRun("busybox:1.36", (text("sh"), text("-c")), (text("exit 1"),))


def case_workflow(rule: JoinRule, n: int, part: int = 0, parts: int = 1) -> tuple[Workflow, dict[str, list[str]]]:
    """Every combination of ``n`` upstream states (or the ``part``-th of ``parts`` slices of them, so that one DAG
    stays within Argo's 200 tasks and no nesting is involved: this test is about the join table alone)."""
    workflow = Workflow(id=f"rule-{rule.value}-{n}-{part}", origin=HERE)
    workflow.add_task(Task("fails", HERE, "exit 1", EXIT_1))
    cases: dict[str, list[str]] = {}
    combinations = list(itertools.product(AIRFLOW_STATES, repeat=n))
    size = -(-len(combinations) // parts)
    for index, states in enumerate(combinations):
        if not part * size <= index < (part + 1) * size:
            continue
        target = f"c{index}-target"
        cases[target] = list(states)
        workflow.add_task(Task(target, HERE, "rule", Noop(), join=rule))
        for position, state in enumerate(states):
            up = f"c{index}-up{position}"
            if state == "success":
                workflow.add_task(Task(up, HERE, "ok", Noop()))
            elif state == "failed":
                workflow.add_task(Task(up, HERE, "fail", EXIT_1))
            elif state == "skipped":
                workflow.add_task(Task(up, HERE, "skip", Noop(), when=Compare(Literal("no"), "==", Literal("yes"))))
            else:
                workflow.add_task(Task(up, HERE, "omitted", Noop()))
                workflow.add_edge("fails", up)
            workflow.add_edge(up, target)
    return workflow, cases


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.value)
@pytest.mark.parametrize("n", [1, 2, 3])
def test_rule_runs_like_airflow_decides(rule: JoinRule, n: int, tmp_path: Path) -> None:
    wrong = {}
    parts = 2 if n == 3 else 1
    for part in range(parts):
        workflow, cases = case_workflow(rule, n, part, parts)
        assert workflow.graph.number_of_nodes() <= 200
        manifest = emit(workflow, workflow.id.replace("_", "-"), EmitOptions(kind=Kind.WORKFLOW))
        path = tmp_path / f"cases-{part}.yaml"
        path.write_text(dump(manifest.document))
        names = {m.source_id: m.task for m in manifest.tasks}
        result = Runner(load(path), Options(workdir=tmp_path / f"run-{part}", jobs=2, timeout=120,
                                            fast_forward=True)).run()
        phases = {key: node.phase for key, node in result.nodes.items()}
        for target, states in cases.items():
            expected = AIRFLOW_TO_ARGO[airflow_decision(rule, states)]
            got = phases.get(names[target])
            if got != expected:
                wrong[tuple(states)] = (got, expected)
    assert wrong == {}


def test_the_case_workflows_are_valid_yaml(tmp_path: Path) -> None:
    workflow, _ = case_workflow(JoinRule.ONE_SUCCESS, 2)
    manifest = emit(workflow, "rule-one-success-2", EmitOptions(kind=Kind.WORKFLOW))
    document = YAML(typ="safe").load(dump(manifest.document))
    assert document["kind"] == "Workflow"
