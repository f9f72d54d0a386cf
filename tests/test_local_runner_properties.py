"""Property: for random DAGs with random task outcomes, ``depends`` and ``when``, the local runner's node phases
and workflow phase are those that the rules of ARGO-SEMANTICS.md §2.1-2.4 predict.

The oracle below is written from the document, not from the runner: tasks are decided in order (every DAG here is
generated in topological order); ``depends`` false → Omitted, then ``when`` false → Skipped, else the task's own
outcome. A bare name means ``Succeeded || Skipped`` (§2.1; no continueOn, no daemons here). The workflow fails when a
leaf's branch phase is Failed or Error, a Skipped/Omitted node inheriting its parents' branch phases (§2.4).
The ``depends``/``when`` evaluation is :mod:`tests.argo_model`'s, also independent of the runner.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from backends.argo.local.engine import Options, Runner
from backends.argo.local.model import load
from tests.argo_model import eval_depends, eval_when

OUTCOME_PHASE = {"ok": "Succeeded", "fail": "Failed", "error": "Error"}
RESULTS = ("Succeeded", "Failed", "Errored", "Skipped", "Omitted")
COMPLETED = ("Succeeded", "Failed", "Error")
TEMPLATES = [
    {"name": "ok", "container": {"image": "alpine", "command": ["sh", "-c", "exit 0"]}},
    {"name": "fail", "container": {"image": "alpine", "command": ["sh", "-c", "exit 1"]}},
    # Runs, but the output it declares is never written and has no default: the node ends in Error.
    {"name": "error", "container": {"image": "alpine", "command": ["true"]},
     "outputs": {"parameters": [{"name": "never", "valueFrom": {"path": "/tmp/never-written"}}]}},
]


@st.composite
def dags(draw: st.DrawFn) -> list[dict[str, Any]]:
    count = draw(st.integers(min_value=2, max_value=6))
    tasks: list[dict[str, Any]] = []
    for i in range(count):
        task: dict[str, Any] = {"name": f"t{i}", "template": draw(st.sampled_from(list(OUTCOME_PHASE)))}
        earlier = [t["name"] for t in tasks]
        deps = draw(st.lists(st.sampled_from(earlier), unique=True, max_size=3)) if earlier else []
        if deps:
            atoms = [d if draw(st.booleans()) else f"{d}.{draw(st.sampled_from(RESULTS))}" for d in deps]
            expr = atoms[0]
            for atom in atoms[1:]:
                joined = f"{expr} {draw(st.sampled_from(['&&', '||']))} {atom}"
                expr = f"({joined})" if draw(st.booleans()) else joined
            task["depends"] = expr
            if draw(st.booleans()):
                on = draw(st.sampled_from(deps))
                op = draw(st.sampled_from(["==", "!="]))
                task["when"] = f"{{{{tasks.{on}.status}}}} {op} {draw(st.sampled_from(['Succeeded', 'Failed']))}"
        tasks.append(task)
    return tasks


def predict(tasks: list[dict[str, Any]]) -> tuple[dict[str, str], set[str]]:
    """Each node's phase, and the workflow phases the rules allow (one, unless Failed and Error both apply)."""
    phases: dict[str, str] = {}
    for task in tasks:
        if task.get("depends") and not eval_depends(task["depends"], phases):
            phases[task["name"]] = "Omitted"
        elif task.get("when") and not eval_when(task["when"], phases):
            phases[task["name"]] = "Skipped"
        else:
            phases[task["name"]] = OUTCOME_PHASE[task["template"]]
    parents = {t["name"]: [d for d in phases if d in _names(t.get("depends", ""))] for t in tasks}

    def branch(name: str) -> set[str]:
        if phases[name] in COMPLETED:
            return {phases[name]}
        if not parents[name]:
            return {"Succeeded"}
        return set().union(*(branch(p) for p in parents[name]))

    leaves = [t["name"] for t in tasks if not any(t["name"] in parents[o["name"]] for o in tasks)]
    failing = set().union(*(branch(leaf) & {"Failed", "Error"} for leaf in leaves))
    return phases, (failing or {"Succeeded"})


def _names(expr: str) -> set[str]:
    import re

    return set(re.findall(r"\bt\d+\b", expr))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dags())
def test_runner_phases_follow_argo_semantics(tasks: list[dict[str, Any]]) -> None:
    manifest = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"name": "random"},
                "spec": {"entrypoint": "main",
                         "templates": [{"name": "main", "dag": {"failFast": False, "tasks": tasks}}, *TEMPLATES]}}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "dag.yaml"
        with path.open("w") as out:
            YAML().dump(manifest, out)
        result = Runner(load(path), Options(workdir=Path(folder) / "run", jobs=2, timeout=60)).run()
    expected, workflow = predict(tasks)
    assert {key: node.phase for key, node in result.nodes.items()} == expected
    assert result.phase in workflow


def test_oracle_examples() -> None:
    """The oracle itself on hand-checked cases (§2.3: Skipped satisfies a bare name, Omitted does not)."""
    tasks = [{"name": "t0", "template": "fail"},
             {"name": "t1", "template": "ok", "depends": "t0"},
             {"name": "t2", "template": "ok", "depends": "t0.Failed", "when": "{{tasks.t0.status}} == Succeeded"},
             {"name": "t3", "template": "ok", "depends": "t2"}]
    phases, workflow = predict(tasks)
    assert phases == {"t0": "Failed", "t1": "Omitted", "t2": "Skipped", "t3": "Succeeded"}
    assert workflow == {"Failed"}  # t1, an omitted leaf under the failed t0, fails the DAG
