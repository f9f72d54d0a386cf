"""The fan-out decision never changes what waits for what: over random job graphs (rules of several jobs joined one
to one, all to all, or at random), the order our units denote — a loop task waits for the union of its jobs' waits
and is waited for as a whole, a looped lane group likewise from outside and lane by lane inside — is exactly the
order of Snakemake's jobs (equal transitive closures), and every job is in exactly one unit."""

from __future__ import annotations

import itertools

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from frontends.snakemake.fanout import LaneGroup, RuleLoop, Single, Unit, plan_units


@st.composite
def job_graphs(draw: st.DrawFn) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    n_rules = draw(st.integers(1, 5))
    sizes = [draw(st.integers(1, 4)) for _ in range(n_rules)]
    jobs = [(f"r{r}[i={i}]", f"r{r}") for r in range(n_rules) for i in range(sizes[r])]
    edges: set[tuple[str, str]] = set()
    for b in range(1, n_rules):
        for a in range(b):
            how = draw(st.sampled_from(["none", "none", "one", "all", "random"]))
            if how == "one" and sizes[a] == sizes[b]:
                edges |= {(f"r{a}[i={i}]", f"r{b}[i={i}]") for i in range(sizes[a])}
            elif how == "all":
                edges |= {(f"r{a}[i={i}]", f"r{b}[i={j}]") for i in range(sizes[a]) for j in range(sizes[b])}
            elif how == "random":
                pairs = [(f"r{a}[i={i}]", f"r{b}[i={j}]") for i in range(sizes[a]) for j in range(sizes[b])]
                edges |= set(draw(st.lists(st.sampled_from(pairs), max_size=4)))
    return jobs, sorted(edges)


def _denoted(units: list[Unit], edges: list[tuple[str, str]]) -> nx.DiGraph:
    """The job order our units denote (see the module docstring)."""
    block: dict[str, str] = {}  # job → the unit (task or looped group) the outside world sees
    inner: list[tuple[str, str]] = []
    for n, unit in enumerate(units):
        if isinstance(unit, Single):
            block[unit.job] = unit.job
        elif isinstance(unit, RuleLoop):
            block.update({j: f"loop{n}" for j in unit.jobs})
        else:
            assert isinstance(unit, LaneGroup)
            members = {j for lane in unit.lanes for j in lane}
            block.update({j: f"group{n}" for j in members})
            inner += [(u, v) for u, v in edges if u in members and v in members]
    blocks = nx.DiGraph()
    blocks.add_nodes_from(set(block.values()))
    blocks.add_edges_from((block[u], block[v]) for u, v in edges if block[u] != block[v])
    reach = nx.transitive_closure_dag(blocks)
    lanes = nx.DiGraph(inner)
    lane_reach = nx.transitive_closure_dag(lanes) if inner else lanes
    out = nx.DiGraph()
    out.add_nodes_from(block)
    for a, b in itertools.permutations(block, 2):
        if reach.has_edge(block[a], block[b]) or lane_reach.has_edge(a, b):
            out.add_edge(a, b)
    return out


@settings(max_examples=300, deadline=None)
@given(job_graphs())
def test_units_keep_the_order_of_jobs(graph: tuple[list[tuple[str, str]], list[tuple[str, str]]]) -> None:
    jobs, edges = graph
    units = plan_units(jobs, edges, lambda _key: 0)
    covered = [j for u in units for j in ((u.job,) if isinstance(u, Single) else u.jobs if isinstance(u, RuleLoop)
                                          else [j for lane in u.lanes for j in lane])]
    assert sorted(covered) == sorted(k for k, _ in jobs)
    truth = nx.DiGraph()
    truth.add_nodes_from(k for k, _ in jobs)
    truth.add_edges_from(edges)
    assert set(nx.transitive_closure_dag(truth).edges) == set(_denoted(units, edges).edges)


def test_scatter_gather_chains_become_one_looped_group() -> None:
    samples = [f"s{i}" for i in range(50)]
    jobs = [("split", "split"), *((f"a[s={s}]", "a") for s in samples), *((f"b[s={s}]", "b") for s in samples),
            ("gather", "gather")]
    edges = [("split", f"a[s={s}]") for s in samples] + [(f"a[s={s}]", f"b[s={s}]") for s in samples] + \
        [(f"b[s={s}]", "gather") for s in samples]
    units = plan_units(jobs, edges, lambda _key: 0)
    groups = [u for u in units if isinstance(u, LaneGroup)]
    assert len(groups) == 1 and groups[0].rules == ("a", "b") and len(groups[0].lanes) == 50
    assert {u.job for u in units if isinstance(u, Single)} == {"split", "gather"}


def test_jobs_that_differ_in_their_template_do_not_fan_out() -> None:
    jobs = [("a[i=1]", "a"), ("a[i=2]", "a")]
    units = plan_units(jobs, [], lambda key: key)  # each job its own shape
    assert all(isinstance(u, Single) for u in units)
