"""``{{tasks.x...}}`` is accepted exactly when ``x`` is an ancestor (FINDINGS F7 replaced the per-task walk with one
pass over the DAG's components): random DAGs against ancestors worked out the slow, obvious way."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from backends.argo.lint import lint_text


def manifest(edges: dict[int, list[int]], refs: dict[int, list[int]], n: int) -> str:
    lines = ["apiVersion: argoproj.io/v1alpha1", "kind: Workflow", "metadata: {generateName: random-}", "spec:",
             "  entrypoint: main", "  templates:", "    - name: main", "      dag:", "        tasks:"]
    for i in range(n):
        lines.append(f"          - name: t{i}")
        lines.append("            template: work")
        if edges[i]:
            lines.append(f"            dependencies: [{', '.join(f't{j}' for j in edges[i])}]")
        for j in refs.get(i, []):
            lines.append(f"            when: '{{{{tasks.t{j}.status}}}} == Succeeded'")
    lines += ["    - name: work", "      container: {image: alpine}"]
    return "\n".join(lines) + "\n"


@st.composite
def dags(draw: st.DrawFn) -> tuple[int, dict[int, list[int]], dict[int, list[int]]]:
    n = draw(st.integers(min_value=2, max_value=20))
    edges = {i: sorted(draw(st.sets(st.integers(0, i - 1), max_size=3))) if i else [] for i in range(n)}
    task = draw(st.integers(1, n - 1))
    target = draw(st.integers(0, n - 1).filter(lambda j: j != task))
    return n, edges, {task: [target]}


@settings(max_examples=80, deadline=None)
@given(dags())
def test_non_ancestor_references_and_only_those_are_reported(dag: tuple[int, dict[int, list[int]],
                                                                       dict[int, list[int]]]) -> None:
    n, edges, refs = dag
    ancestors: dict[int, set[int]] = {}
    for i in range(n):  # edges point backwards, so every dependency's ancestors are known already
        ancestors[i] = set(edges[i]).union(*(ancestors[j] for j in edges[i]))
    ((task, (target,)),) = refs.items()
    codes = [d.code for d in lint_text(manifest(edges, refs, n), "dag.yaml")]
    assert codes == ([] if target in ancestors[task] else ["AM416"])
