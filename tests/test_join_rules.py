"""The trigger-rule table (backends/argo/depends.py) against Airflow's rules, for every upstream combination.

Airflow's side is a port of the decisions in ``trigger_rule_dep.py`` once all upstreams are done; Argo's side
evaluates the emitted ``depends``/``when`` strings with the model in ``argo_model.py``.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backends.argo.depends import Upstream, condition
from migrator.ir import JoinRule
from tests.argo_model import task_phase

AIRFLOW_STATES = ("success", "failed", "skipped", "upstream_failed")
# failed maps to both Failed and Error: a task can fail by its exit code or by any other error.
ARGO_PHASES = {"success": ("Succeeded",), "failed": ("Failed", "Error"), "skipped": ("Skipped",),
               "upstream_failed": ("Omitted",)}
AIRFLOW_TO_ARGO = {"run": "Succeeded", "skipped": "Skipped", "upstream_failed": "Omitted"}


def airflow_decision(rule: JoinRule, states: list[str]) -> str:
    n = len(states)
    success = states.count("success")
    failed = states.count("failed")
    skipped = states.count("skipped")
    upstream_failed = states.count("upstream_failed")
    r = JoinRule
    if rule is r.ALL_SUCCESS:
        return "upstream_failed" if failed or upstream_failed else "skipped" if skipped else "run"
    if rule is r.ALL_FAILED:
        return "skipped" if success or skipped else "run"
    if rule in (r.ALL_DONE, r.ALWAYS):
        return "run"
    if rule is r.ALL_DONE_MIN_ONE_SUCCESS:
        return "skipped" if skipped else "upstream_failed" if not success else "run"
    if rule is r.ALL_SKIPPED:
        return "skipped" if success or failed or upstream_failed else "run"
    if rule is r.ONE_SUCCESS:
        return "skipped" if skipped == n else "upstream_failed" if not success else "run"
    if rule is r.ONE_FAILED:
        return "run" if failed or upstream_failed else "skipped"
    if rule is r.ONE_DONE:
        return "run" if failed or success else "skipped"
    if rule is r.NONE_FAILED:
        return "upstream_failed" if failed or upstream_failed else "run"
    if rule is r.NONE_FAILED_MIN_ONE_SUCCESS:
        return "upstream_failed" if failed or upstream_failed else "skipped" if skipped == n else "run"
    if rule is r.NONE_SKIPPED:
        return "skipped" if skipped else "run"
    raise AssertionError(rule)


def argo_phase(rule: JoinRule, phases: list[str], may_skip: list[bool]) -> str:
    names = [f"up-{i}" for i in range(len(phases))]
    cond = condition(rule, [Upstream(n, s) for n, s in zip(names, may_skip, strict=True)])
    return task_phase(cond.depends, cond.when, dict(zip(names, phases, strict=True)))


def _cases(n: int):
    for states in itertools.product(AIRFLOW_STATES, repeat=n):
        for phases in itertools.product(*(ARGO_PHASES[s] for s in states)):
            yield list(states), list(phases)


# all_done_setup_success also looks at the setup tasks, which Argo cannot tell apart: it is not mapped exactly
# (ARGO-SEMANTICS §2.7) and is emitted as all_done, checked separately below.
RULES = [r for r in JoinRule if r is not JoinRule.ALL_DONE_SETUP_SUCCESS]


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.value)
@pytest.mark.parametrize("n", [1, 2, 3])
def test_every_rule_matches_airflow_for_every_upstream_combination(rule: JoinRule, n: int) -> None:
    for states, phases in _cases(n):
        # An upstream that ended Skipped was emitted with a `when`, so the table knows it may skip.
        may_skip = [s == "skipped" for s in states]
        assert argo_phase(rule, phases, may_skip) == AIRFLOW_TO_ARGO[airflow_decision(rule, states)], (states, phases)


@given(
    rule=st.sampled_from(RULES),
    upstream=st.lists(st.tuples(st.sampled_from(AIRFLOW_STATES), st.booleans(), st.booleans()), min_size=1,
                      max_size=6),
)
def test_outcome_does_not_depend_on_skip_annotations_of_upstreams_that_did_not_skip(rule, upstream) -> None:
    """Leaving out a `when` for upstreams that cannot skip is exact: any extra `may_skip` flags change nothing."""
    states = [s for s, _, _ in upstream]
    phases = [ARGO_PHASES[s][int(pick) % len(ARGO_PHASES[s])] for s, pick, _ in upstream]
    may_skip = [s == "skipped" or extra for s, _, extra in upstream]
    assert argo_phase(rule, phases, may_skip) == AIRFLOW_TO_ARGO[airflow_decision(rule, states)]


def test_all_success_between_plain_tasks_is_a_bare_depends_without_when() -> None:
    cond = condition(JoinRule.ALL_SUCCESS, [Upstream("a", False), Upstream("b", False)])
    assert (cond.depends, cond.when) == ("a && b", None)


def test_always_waits_for_nothing() -> None:
    assert condition(JoinRule.ALWAYS, [Upstream("a", True)]).depends is None


def test_teardown_join_is_emitted_as_all_done() -> None:
    ups = [Upstream("a", True), Upstream("b", False)]
    assert condition(JoinRule.ALL_DONE_SETUP_SUCCESS, ups) == condition(JoinRule.ALL_DONE, ups)
