"""DAGs larger than one Argo DAG template (200 tasks) are nested, and the nesting changes nothing a run can see.

The oracle is the same workflow emitted flat (one DAG template, which Argo would refuse but the local runner runs):
both run with ``run --local``'s engine and every task must end in the same phase, with failures placed so that the
nested DAGs' borders matter. The layout itself is checked on random graphs: every task once, no level over the
limit, every edge kept.
"""

from __future__ import annotations

import random
import textwrap
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from backends.argo.emit import EmitOptions, Kind, emit
from backends.argo.layout import Node, plan
from backends.argo.local.engine import Options, Runner
from backends.argo.local.model import load
from backends.argo.yaml_out import dump
from migrator.definitions import share_definitions
from migrator.ir import ContainerRun, JoinRule, SourceLoc, Task, Workflow, text

HERE = SourceLoc("nesting.py", 1)


def _task(i: int, fails: bool, join: JoinRule = JoinRule.ALL_SUCCESS) -> Task:
    command = "exit 1" if fails else f"echo {i}"
    return Task(f"t{i}", SourceLoc("nesting.py", i + 1), "sh", ContainerRun("busybox:1.36", (text("sh"), text("-c")),
                                                                             (text(command),)), join=join)


def _workflow(name: str, n: int, edges: list[tuple[int, int]], failing: set[int],
              joins: dict[int, JoinRule] | None = None) -> Workflow:
    workflow = Workflow(id=name, origin=HERE)
    for i in range(n):
        workflow.add_task(_task(i, i in failing, (joins or {}).get(i, JoinRule.ALL_SUCCESS)))
    for up, down in edges:
        workflow.add_edge(f"t{up}", f"t{down}")
    return workflow


def _phases(workflow: Workflow, limit: int, tmp_path: Path, label: str) -> tuple[dict[str, str], int]:
    """Every source task's phase after a local run, and how many DAG templates the manifest has."""
    manifest = emit(workflow, workflow.id, EmitOptions(kind=Kind.WORKFLOW, max_dag_tasks=limit))
    path = tmp_path / f"{label}.yaml"
    path.write_text(dump(manifest.document))
    document = yaml.safe_load(path.read_text())
    dags = [t for t in document["spec"]["templates"] if "dag" in t]
    assert all(len(t["dag"]["tasks"]) <= limit for t in dags)
    result = Runner(load(path), Options(workdir=tmp_path / label, jobs=2, timeout=300, fast_forward=True)).run()
    nodes = {key: node.phase for key, node in result.nodes.items()}
    return {m.source_id: nodes.get(m.task, "NotRun") for m in manifest.tasks}, len(dags)


SHAPES = {
    # A binary tree (the shape of the acceptance check), failing in the middle and at a leaf.
    "tree": (450, [((i - 1) // 2, i) for i in range(1, 450)], {5, 300}),
    # A chain, failing half-way: everything after it is left out, in both layouts.
    "chain": (420, [(i, i + 1) for i in range(419)], {250}),
    # A fan-out and fan-in through 400 parallel tasks, one of which fails.
    "fan": (402, [(0, i) for i in range(1, 401)] + [(i, 401) for i in range(1, 401)], {17}),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_nested_runs_like_flat(shape: str, tmp_path: Path) -> None:
    n, edges, failing = SHAPES[shape]
    workflow = share_definitions(_workflow(shape, n, edges, failing))
    nested, dags = _phases(workflow, 200, tmp_path, "nested")
    flat, _ = _phases(workflow, 10**6, tmp_path, "flat")
    assert dags > 1, "the workflow was nested"
    assert nested == flat
    assert "Failed" in flat.values() and "Succeeded" in flat.values()


def test_exact_layouts_say_so_and_dense_ones_warn() -> None:
    tree = _workflow("tree", 450, SHAPES["tree"][1], set())
    assert not any(d.code == "AM119" for d in emit(tree, "tree", EmitOptions()).diagnostics)
    rng = random.Random(7)
    dense = [(a, b) for b in range(300) for a in rng.sample(range(b), min(b, 3))]
    manifest = emit(_workflow("dense", 300, dense, set()), "dense", EmitOptions())
    assert any(d.code == "AM119" and "no exact split" in d.message for d in manifest.diagnostics)


@st.composite
def _graphs(draw: st.DrawFn) -> tuple[int, list[tuple[int, int]], int]:
    n = draw(st.integers(1, 400))
    limit = draw(st.integers(2, 40))
    edges = set()
    for down in range(1, n):
        for _ in range(draw(st.integers(0, 2))):
            edges.add((draw(st.integers(0, down - 1)), down))
    return n, sorted(edges), limit


@settings(max_examples=60, deadline=None)
@given(_graphs())
def test_layout_keeps_every_task_once_every_edge_and_the_limit(graph: tuple[int, list[tuple[int, int]], int]) -> None:
    n, edges, limit = graph
    preds: dict[str, list[str]] = {f"t{i}": [] for i in range(n)}
    for up, down in edges:
        preds[f"t{down}"].append(f"t{up}")
    layout = plan(list(preds), {k: Node(v, True) for k, v in preds.items()}, limit)
    tasks = [i for b in [layout.root, *layout.blocks.values()] for i in b.items if i not in layout.blocks]
    assert sorted(tasks) == sorted(preds)
    assert all(len(b.items) <= limit for b in [layout.root, *layout.blocks.values()])
    # Every edge survives as an order between the two ends' items where they part.
    for down, ups in preds.items():
        for up in ups:
            a, b = [up, *reversed(layout.path(up))], [down, *reversed(layout.path(down))]
            common = next(x for x in a if layout.parent[x] in {layout.parent[y] for y in b})
            scope = layout.parent[common]
            assert common != next(y for y in b if layout.parent[y] == scope)


GENERATOR = textwrap.dedent("""\
    import pendulum
    from airflow import DAG
    from airflow.providers.standard.operators.bash import BashOperator
    with DAG('big{n}', schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz='UTC')):
    """)


def test_a_generated_thousand_task_airflow_dag_runs_nested_like_flat(tmp_path: Path) -> None:
    """The issue's acceptance: 1,000 BashOperators in a binary tree, migrated, nested, and run locally."""
    from frontends.airflow import parse

    lines = [GENERATOR.format(n=1000)]
    lines += [f"    t{i} = BashOperator(task_id='t{i}', bash_command='echo {i} {{{{ ds }}}}')\n" for i in range(1000)]
    lines += [f"    t{(i - 1) // 2} >> t{i}\n" for i in range(1, 1000)]
    source = tmp_path / "big1000.py"
    source.write_text("".join(lines))
    workflows = parse(str(source), source.read_bytes()).workflows
    assert len(workflows) == 1
    workflow = share_definitions(workflows[0])
    nested, dags = _phases(workflow, 200, tmp_path, "nested")
    flat, _ = _phases(workflow, 10**6, tmp_path, "flat")
    assert dags > 1 and len(nested) == 1000
    assert nested == flat and set(flat.values()) == {"Succeeded"}
