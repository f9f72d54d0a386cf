"""Which jobs fan out: a pure function of the job graph, which decides where the jobs of a rule become the items of
one loop (and chains of such rules one looped group) without changing what waits for what.

- **A looped rule**: the jobs of one rule, when they all wait for the same jobs and every job that waits for one
  of them waits for all of them. The loop task then has exactly the jobs' edges.
- **A looped lane group**: rules whose jobs pair up one to one along the edges (``map[s] → sort[s]`` for every
  sample ``s``) run as one group looped over the lanes, each lane independently of the others (as Snakemake would
  run them). Allowed when the group's first rules all wait for the same outside jobs (the other members wait for no
  other outside job), and every outside job that waits for the group waits for all the jobs of its last rules: the
  group's edges are then Snakemake's up to edges implied by others (the same order of jobs).

Anything else stays one task per job. ``uniform`` says which jobs may share one template (same image, resources,
retries…): a rule whose jobs differ there never fans out.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import networkx as nx

from migrator.ir import ItemRef, Text


@dataclass(frozen=True)
class Single:
    job: str


@dataclass(frozen=True)
class RuleLoop:
    rule: str
    jobs: tuple[str, ...]


@dataclass(frozen=True)
class LaneGroup:
    rules: tuple[str, ...]  # in dependency order
    lanes: tuple[tuple[str, ...], ...]  # per lane, its job of each rule (in the order of ``rules``)


Unit = Single | RuleLoop | LaneGroup


def plan_units(jobs: list[tuple[str, str]], edges: list[tuple[str, str]],
               uniform: Callable[[str], Hashable], min_items: int = 2) -> list[Unit]:
    """``jobs``: (job key, rule) in Snakemake's order; ``uniform(job)``: what must be equal for jobs to share a
    template. Returns the units covering every job exactly once."""
    graph = nx.DiGraph()
    graph.add_nodes_from(k for k, _ in jobs)
    graph.add_edges_from(edges)
    by_rule: dict[str, list[str]] = defaultdict(list)
    rule_of = {}
    for key, rule in jobs:
        by_rule[rule].append(key)
        rule_of[key] = rule
    candidates = {r for r, ks in by_rule.items()
                  if len(ks) >= min_items and len({uniform(k) for k in ks}) == 1}

    groups = _lane_groups(graph, by_rule, rule_of, candidates)
    units: list[Unit] = []
    taken: set[str] = set()
    for group in groups:
        members = {j for lane in group.lanes for j in lane}
        if _group_ok(graph, group, members, rule_of):
            units.append(group)
            taken |= members
    position = {k: i for i, (k, _) in enumerate(jobs)}
    for rule in sorted(candidates, key=lambda r: position[by_rule[r][0]]):
        ks = [k for k in by_rule[rule] if k not in taken]
        if len(ks) != len(by_rule[rule]):
            continue
        if _loop_ok(graph, set(ks)):
            units.append(RuleLoop(rule, tuple(ks)))
            taken |= set(ks)
    units.extend(Single(k) for k, _ in jobs if k not in taken)
    return units


def _loop_ok(graph: nx.DiGraph, members: set[str]) -> bool:
    ups = {frozenset(graph.predecessors(k)) for k in members}
    if len(ups) != 1 or next(iter(ups)) & members:
        return False
    consumers = {c for k in members for c in graph.successors(k)}
    return all(members <= set(graph.predecessors(c)) for c in consumers)


def _lane_groups(graph: nx.DiGraph, by_rule: dict[str, list[str]], rule_of: dict[str, str],
                 candidates: set[str]) -> list[LaneGroup]:
    """Pairs of candidate rules joined one to one, merged into components with one job of each rule per lane."""
    linked = nx.Graph()
    for a in sorted(candidates):
        downstream_rules = {rule_of[c] for k in by_rule[a] for c in graph.successors(k)} & candidates
        for b in sorted(downstream_rules):
            if b != a and _one_to_one(graph, by_rule[a], by_rule[b], rule_of):
                linked.add_edge(a, b)
    groups = []
    for component in nx.connected_components(linked):
        rules = _rule_order(graph, component, by_rule, rule_of)
        if rules is None:
            continue
        lanes = _lanes(graph, rules, by_rule, rule_of)
        if lanes is not None:
            groups.append(LaneGroup(tuple(rules), tuple(lanes)))
    return groups


def _one_to_one(graph: nx.DiGraph, a_jobs: list[str], b_jobs: list[str], rule_of: dict[str, str]) -> bool:
    if len(a_jobs) != len(b_jobs):
        return False
    b_rule = rule_of[b_jobs[0]]
    a_rule = rule_of[a_jobs[0]]
    for a in a_jobs:
        if sum(1 for c in graph.successors(a) if rule_of[c] == b_rule) != 1:
            return False
    return all(sum(1 for p in graph.predecessors(b) if rule_of[p] == a_rule) == 1 for b in b_jobs)


def _rule_order(graph: nx.DiGraph, rules: set[str], by_rule: dict[str, list[str]],
                rule_of: dict[str, str]) -> list[str] | None:
    rule_graph = nx.DiGraph()
    rule_graph.add_nodes_from(rules)
    for r in rules:
        for k in by_rule[r]:
            for c in graph.successors(k):
                r2 = rule_of[c]
                if r2 != r and r2 in rules:
                    rule_graph.add_edge(r, r2)
    if not nx.is_directed_acyclic_graph(rule_graph):
        return None
    return list(nx.lexicographical_topological_sort(rule_graph, key=lambda r: by_rule[r][0]))


def _lanes(graph: nx.DiGraph, rules: list[str], by_rule: dict[str, list[str]],
           rule_of: dict[str, str]) -> list[tuple[str, ...]] | None:
    members = set(rules)
    index = {r: i for i, r in enumerate(rules)}
    lane_of: dict[str, int] = {}
    lanes: list[list[str | None]] = []
    for start in by_rule[rules[0]]:
        lane: list[str | None] = [None] * len(rules)
        stack = [start]
        while stack:
            k = stack.pop()
            if k in lane_of:
                if lane_of[k] != len(lanes):
                    return None
                continue
            slot = index[rule_of[k]]
            if lane[slot] is not None:
                return None
            lane[slot] = k
            lane_of[k] = len(lanes)
            stack.extend(n for n in (*graph.successors(k), *graph.predecessors(k)) if rule_of[n] in members
                         and n not in lane_of)
        if any(j is None for j in lane):
            return None
        lanes.append(lane)
    if len(lane_of) != sum(len(by_rule[r]) for r in rules):
        return None
    return [tuple(j for j in lane if j is not None) for lane in lanes]


def _group_ok(graph: nx.DiGraph, group: LaneGroup, members: set[str], rule_of: dict[str, str]) -> bool:
    """Inside a lane the members' edges are the same in every lane; outside, as the module says."""
    shapes = set()
    for lane in group.lanes:
        at = {j: i for i, j in enumerate(lane)}
        shapes.add(frozenset((at[p], at[j]) for j in lane for p in graph.predecessors(j) if p in at))
        for j in lane:  # no edge across lanes
            if any(p in members and p not in at for p in graph.predecessors(j)):
                return False
    if len(shapes) != 1:
        return False
    inner = next(iter(shapes))
    firsts = [i for i in range(len(group.rules)) if not any(d == i for _, d in inner)]
    lasts = [i for i in range(len(group.rules)) if not any(u == i for u, _ in inner)]
    outside_up: set[frozenset[str]] = set()
    for lane in group.lanes:
        for i, j in enumerate(lane):
            ups = frozenset(p for p in graph.predecessors(j) if p not in members)
            if i in firsts:
                outside_up.add(ups)
            elif ups:
                return False
    if len(outside_up) > 1:
        return False
    last_jobs = {lane[i] for lane in group.lanes for i in lasts}
    consumers = {c for j in members for c in graph.successors(j) if c not in members}
    return all(last_jobs <= set(graph.predecessors(c)) for c in consumers)


def spell_items(rows: list[dict[str, str]], wildcards: list[dict[str, str]]) -> tuple[tuple[str, ...], dict[str, Text]]:
    """A loop's items (JSON objects) and, for each key of ``rows`` (the values one item's jobs need), how a template
    spells it. A value is spelled from the item's wildcards when one pattern gives it for every item
    (``data/{{item.sample}}.txt``); any other becomes an item key of its own, one key for the values that are equal
    in every item. Every spelling is checked against every item, so the commands are Snakemake's; the items stay
    small (5,000 samples through ``a → b``: one wildcard per item instead of six paths)."""
    if not rows:
        return (), {}
    names = _shared_wildcards(wildcards, set(rows[0]))
    spelled: dict[str, Text] = {}
    columns: dict[tuple[str, ...], str] = {}  # a literal column's values → its item key
    used: set[str] = set()
    for key in rows[0]:
        # Every occurrence of a wildcard's value, else only those not inside a word ("a" in "work/ranked/a.txt").
        for bounded in (False, True) if names else ():
            pattern = _pattern(rows[0][key], wildcards[0], names, bounded)
            if any(not isinstance(p, str) for p in pattern) and all(
                    _render(pattern, wc) == row[key] for row, wc in zip(rows, wildcards, strict=True)):
                spelled[key] = pattern
                used.update(p.key for p in pattern if isinstance(p, ItemRef) and p.key is not None)
                break
        if key in spelled:
            continue
        column = tuple(row[key] for row in rows)
        spelled[key] = (ItemRef(columns.setdefault(column, key)),)
    literal = {k: column for column, k in columns.items()}
    items = tuple(json.dumps({**{n: wc[n] for n in used}, **{k: column[i] for k, column in literal.items()}},
                             sort_keys=True) for i, wc in enumerate(wildcards))
    return items, spelled


def _shared_wildcards(wildcards: list[dict[str, str]], keys: set[str]) -> list[str]:
    """The wildcards every item has (non-empty), as item keys that no value's key takes; longest values first, so
    that a pattern prefers ``s10`` to ``s1``."""
    common = set(wildcards[0]).intersection(*wildcards) - keys if wildcards else set()
    names = [n for n in common if all(wc[n] for wc in wildcards)]
    return sorted(names, key=lambda n: (-len(wildcards[0][n]), n))


def _pattern(value: str, wildcards: dict[str, str], names: list[str], bounded: bool) -> Text:
    parts: list[str | ItemRef] = []
    start = i = 0  # value[start:i] is the literal so far
    while i < len(value):
        name = next((n for n in names if value.startswith(wildcards[n], i)
                     and not (bounded and _inside_word(value, i, i + len(wildcards[n])))), None)
        if name is None:
            i += 1
            continue
        if start < i:
            parts.append(value[start:i])
        parts.append(ItemRef(name))
        i += len(wildcards[name])
        start = i
    if start < len(value):
        parts.append(value[start:])
    return tuple(parts)


def _inside_word(value: str, start: int, end: int) -> bool:
    return (start > 0 and value[start - 1].isalnum()) or (end < len(value) and value[end].isalnum())


def _render(pattern: Text, wildcards: dict[str, str]) -> str:
    return "".join(p if isinstance(p, str) else wildcards[p.key or ""] for p in pattern)  # type: ignore[union-attr]
