"""The model of an Argo manifest that lint and run --local share: template types, ``depends``, task graphs."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backends.argo.local.expressions import evaluate_depends
from backends.argo.manifest_model import (
    MAX_NESTING,
    TEMPLATE_TYPES,
    AllOf,
    AnyOf,
    DependsError,
    Not,
    Ref,
    components,
    cycles,
    dependency_graph,
    parse_depends,
    task_depends,
    template_type,
    template_types,
)

# --- template types --------------------------------------------------------------------------------------------


def test_template_types_follow_argos_validator() -> None:
    assert set(TEMPLATE_TYPES) == {"container", "containerSet", "steps", "script", "resource", "dag", "suspend",
                                   "data", "http", "plugin"}
    assert template_type({"name": "t", "dag": {"tasks": []}}) == "dag"
    assert template_type({"name": "t", "suspend": {}}) == "suspend"  # an empty body is still a type
    assert template_type({"name": "t", "container": None}) is None  # null is not set
    assert template_type({"name": "t", "container": {}, "script": {}}) is None  # several: Argo rejects it
    assert template_types({"script": {}, "container": {}}) == ["container", "script"]


# --- depends ---------------------------------------------------------------------------------------------------


def test_depends_tree_and_references() -> None:
    parsed = parse_depends("A && (B.Failed || !C.Omitted) || should-run-2.Succeeded")
    a, b, c, d = (Ref("A", None, 0), Ref("B", "Failed", 6), Ref("C", "Omitted", 19),
                  Ref("should-run-2", "Succeeded", 33))
    assert parsed.refs == (a, b, c, d)
    assert parsed.tree == AnyOf((AllOf((a, AnyOf((b, Not(c))))), d))
    assert parsed.tasks() == ["A", "B", "C", "should-run-2"]


def test_long_conjunctions_are_wide_not_deep() -> None:
    # A dense DAG's task may wait for hundreds of others; evaluation must not recurse once per operand.
    names = [f"t{i}" for i in range(5000)]
    parsed = parse_depends(" && ".join(names))
    assert isinstance(parsed.tree, AllOf) and len(parsed.tree.operands) == 5000
    assert evaluate_depends(parsed, lambda task, result: result == "Succeeded", lambda task: {}) is True


def test_nesting_is_bounded() -> None:
    parse_depends("(" * MAX_NESTING + "a" + ")" * MAX_NESTING)
    for text in ("(" * (MAX_NESTING + 1) + "a" + ")" * (MAX_NESTING + 1), "!" * (MAX_NESTING + 1) + "a",
                 "(" * 100_000):
        with pytest.raises(DependsError, match="more than 100 deep"):
            parse_depends(text)


@pytest.mark.parametrize(("text", "message", "offset"), [
    ("", "the expression is empty", 0),
    ("a &&", "expected a task name, '!' or '(' at the end of the expression", 4),
    ("(a || b", "expected ')' to close the '(' at character 1 at the end of the expression", 7),
    ("a b", "expected '&&', '||' or the end of the expression, found 'b' at character 3", 2),
    ("a.Succeded", "task result 'Succeded' of 'a' at character 3 is not a result Argo knows (did you mean "
                   "'Succeeded'?)", 2),
    ("a & b", "expected '&&', '||' or the end of the expression, found '&' at character 3", 2),
])
def test_depends_errors_say_where(text: str, message: str, offset: int) -> None:
    with pytest.raises(DependsError) as caught:
        parse_depends(text)
    assert (caught.value.message, caught.value.offset) == (message, offset)


def test_task_depends_reads_depends_else_dependencies() -> None:
    assert task_depends({"name": "x"}) is None
    assert task_depends({"depends": "  ", "dependencies": []}) is None
    from_list = task_depends({"dependencies": ["a", 5, "b"]})  # 5: a structure error, left to lint's AM407
    assert from_list is not None
    assert from_list.refs == (Ref("a", None, 0), Ref("b", None, 2))  # offsets: the items' indexes
    assert from_list.tree == AllOf((Ref("a", None, 0), Ref("b", None, 2)))
    both = task_depends({"depends": "c.Failed", "dependencies": ["a"]})  # lint reports the mix (AM411)
    assert both is not None and both.tasks() == ["c"]
    with pytest.raises(DependsError):
        task_depends({"depends": "a ||"})


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=6),
       st.dictionaries(st.sampled_from(["a", "b", "c"]), st.sampled_from(["Succeeded", "Failed", "Skipped"])))
def test_a_dependencies_list_means_every_name_is_fulfilled(names: list[str], phases: dict[str, str]) -> None:
    depends = task_depends({"dependencies": names})
    assert depends is not None
    fulfilled = evaluate_depends(depends, lambda task, result: phases.get(task) == result, lambda task: {})
    assert fulfilled is all(phases.get(n) in ("Succeeded", "Skipped") for n in names)


# --- task graphs -----------------------------------------------------------------------------------------------


def test_graph_keeps_existing_tasks_once_in_order() -> None:
    assert dependency_graph({"a": [], "b": ["a", "x", "a"], "c": ["b", "a"]}) == {"a": [], "b": ["a"],
                                                                                  "c": ["b", "a"]}


def test_components_come_after_what_they_depend_on() -> None:
    graph = {"d": ["b", "c"], "b": ["a"], "c": ["b"], "a": [], "e": ["e"]}
    order = components(graph)
    assert sorted(map(tuple, order)) == [("a",), ("b",), ("c",), ("d",), ("e",)]
    done: set[str] = set()
    for component in order:
        assert all(dep in done or dep in component for name in component for dep in graph[name])
        done.update(component)


def test_each_group_of_interdependent_tasks_is_one_cycle() -> None:
    # a -> c -> b -> a and a -> c -> a share tasks: one report, from the task written first, in written order.
    graph = {"a": ["c"], "b": ["a"], "c": ["b", "a"], "d": ["c"], "loop": ["loop"]}
    found = cycles(graph)
    assert [(c.path, c.tasks) for c in found] == [(["a", "c", "b", "a"], ["a", "b", "c"]),
                                                  (["loop", "loop"], ["loop"])]
    # Two cycles through b: the first found is shown, the group lists every task in it.
    eight = cycles({"a": ["b"], "b": ["a", "c"], "c": ["b"]})
    assert [(c.path, c.tasks) for c in eight] == [(["a", "b", "a"], ["a", "b", "c"])]
    assert cycles({"a": [], "b": ["a"]}) == []


def test_graphs_far_deeper_than_the_recursion_limit() -> None:
    n = 50_000
    chain = {f"t{i}": [f"t{i + 1}"] if i + 1 < n else [] for i in range(n)}  # depth-first walks go n deep
    assert len(components(chain)) == n and cycles(chain) == []
    chain[f"t{n - 1}"] = ["t0"]
    (ring,) = cycles(chain)
    assert len(ring.path) == n + 1 and ring.path[0] == ring.path[-1] == "t0"
