"""Where each task goes when a workflow is larger than one Argo DAG template may be: nested DAG templates.

Argo (≥ 4.0) allows at most 200 tasks in one DAG template. A larger graph is folded, round after round, into
blocks (each a nested DAG template and, in its parent, one task) until every level has at most ``limit`` items.
Groups the source declares are blocks first (a group with a loop always is one). Then every fold keeps the
dependencies exact — the block behaves as its members did:

- **closed subtree**: an item and everything below it, when nothing below it has another upstream (a tree's
  branch, a chain's tail). The block takes the item's own dependencies and condition; nobody outside waits on it.
- **parallel bundle**: items with the same upstreams and the same downstreams, none with a condition or a join
  other than all-success (a fan-out's members). Downstream tasks that waited for all of them wait for the block.
- **chain segment**: items that follow each other one by one, all-success, no condition.

When none applies (a dense graph), items are cut into topological chunks: a chunk waits for everything its members
waited for, so a task may start later than it would have, and after a failure a chunk does not run where some of its
members would have. :attr:`Layout.approximate` says so, and the backend warns (AM119).

The cost is linear in the graph per round, and each round at least halves the items above the limit.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass
class Block:
    """A nested DAG template: its items are task ids or blocks, in the order they were given."""

    key: str
    items: list[str] = field(default_factory=list)  # item keys: task ids, or keys of blocks in ``blocks``
    entry: str | None = None  # the task whose dependencies and condition the block takes (closed subtree, chain)
    group: str | None = None  # the source's group, when the block is one


@dataclass
class Layout:
    root: Block
    blocks: dict[str, Block]
    parent: dict[str, str]  # item key → key of the block that holds it (the root's key for top-level items)
    approximate: bool = False

    def block_of(self, task_id: str) -> str:
        return self.parent[task_id]

    def path(self, item: str) -> list[str]:
        """The blocks from the root's child down to the one holding ``item``."""
        out: list[str] = []
        key = self.parent.get(item)
        while key is not None and key != self.root.key:
            out.append(key)
            key = self.parent.get(key)
        return out[::-1]


@dataclass
class Node:
    """What folding needs to know of one task."""

    preds: list[str]
    plain: bool  # all-success join, no condition, no tolerated failure: folds that merge waits are exact for it
    group: str | None = None  # innermost source group
    group_path: tuple[str, ...] = ()  # outermost first


ROOT = "main"


def plan(order: list[str], nodes: dict[str, Node], limit: int, force_groups: Iterable[str] = ()) -> Layout:
    """Fold the graph (tasks in topological ``order``) into blocks of at most ``limit`` items each."""
    blocks: dict[str, Block] = {}
    parent: dict[str, str] = {}
    state = _Graph(order, nodes)
    forced = set(force_groups)
    _fold_groups(state, nodes, blocks, forced)
    approximate = False
    while len(state.items) > limit:
        before = len(state.items)
        for fold in (_fold_subtrees, _fold_bundles, _fold_chain_bundles, _fold_chains):
            fold(state, blocks, limit)
            state.refresh()
            if len(state.items) <= limit:
                break
        if len(state.items) == before:
            _fold_chunks(state, blocks, limit)
            state.refresh()
            approximate = True
    root = Block(ROOT, list(state.items))
    for block in [root, *blocks.values()]:
        for item in block.items:
            parent[item] = block.key
        if len(block.items) > limit:
            # A group larger than the limit: fold inside it the same way.
            inner = plan(block.items, {k: _inner_node(k, nodes, state, block) for k in block.items}, limit)
            approximate = approximate or inner.approximate
            for sub in inner.blocks.values():
                sub.key = f"{block.key}/{sub.key}"
            rename = {k: f"{block.key}/{k}" for k in inner.blocks}
            for sub in inner.blocks.values():
                sub.items = [rename.get(i, i) for i in sub.items]
                blocks[sub.key] = sub
            block.items = [rename.get(i, i) for i in inner.root.items]
            for sub in inner.blocks.values():
                for item in sub.items:
                    parent[item] = sub.key
            for item in block.items:
                parent[item] = block.key
    return Layout(root, blocks, parent, approximate)


def _inner_node(key: str, nodes: dict[str, Node], state: _Graph, block: Block) -> Node:
    members = set(block.items)
    preds = [p for p in state.member_preds.get(key, []) if p in members]
    return Node(preds, state.plain.get(key, False))


class _Graph:
    """The current graph of items (tasks and folded blocks), kept as adjacency sets so that a fold touches only
    the edges of what it folds."""

    def __init__(self, order: list[str], nodes: dict[str, Node]) -> None:
        self.items: list[str] = list(order)
        self.preds: dict[str, set[str]] = {k: set(nodes[k].preds) for k in order}
        self.succs: dict[str, set[str]] = {k: set() for k in order}
        for k in order:
            for p in self.preds[k]:
                self.succs[p].add(k)
        self.plain: dict[str, bool] = {k: nodes[k].plain for k in order}
        self.member_preds: dict[str, list[str]] = {}  # for a block: edges among its items, for an inner fold
        self.position: dict[str, int] = {k: i for i, k in enumerate(order)}
        self.counter = 0

    def fold(self, members: list[str], blocks: dict[str, Block], entry: str | None, plain: bool,
             group: str | None = None) -> str:
        """Replace ``members`` (in topological order) by one block item."""
        self.counter += 1
        key = f"b{self.counter}"
        inside = set(members)
        block = Block(key, list(members), entry, group)
        blocks[key] = block
        preds = set().union(*(self.preds[m] for m in members)) - inside
        succs = set().union(*(self.succs[m] for m in members)) - inside
        for m in members:
            self.member_preds[m] = sorted(p for p in self.preds[m] if p in inside)
        for p in preds:
            self.succs[p] -= inside
            self.succs[p].add(key)
        for s in succs:
            self.preds[s] -= inside
            self.preds[s].add(key)
        for m in members:
            del self.preds[m], self.succs[m]
        self.preds[key], self.succs[key] = preds, succs
        self.plain[key] = plain
        self.position[key] = self.position[members[0]]
        return key

    def refresh(self) -> None:
        """Re-list the items after a round of folds (once per round, not once per fold)."""
        alive = sorted(self.preds, key=lambda k: (self.position[k], k))
        self.items = _topological(alive, self.preds)


def _topological(items: list[str], preds: dict[str, set[str]]) -> list[str]:
    """``items`` in a topological order that keeps their given order where the edges allow (Kahn's algorithm with
    the given position as priority)."""
    position = {k: i for i, k in enumerate(items)}
    waiting = {k: len(preds[k]) for k in items}
    succs: dict[str, list[str]] = {k: [] for k in items}
    for k in items:
        for p in preds[k]:
            succs[p].append(k)
    ready = [(position[k], k) for k in items if waiting[k] == 0]
    heapq.heapify(ready)
    out: list[str] = []
    while ready:
        _, k = heapq.heappop(ready)
        out.append(k)
        for s in succs[k]:
            waiting[s] -= 1
            if waiting[s] == 0:
                heapq.heappush(ready, (position[s], s))
    return out


def _fold_groups(state: _Graph, nodes: dict[str, Node], blocks: dict[str, Block], forced: set[str]) -> None:
    """Fold the source's groups that must be blocks (a looped group runs its members once per item), innermost
    first, when the group is exact as a block: a single entry set and nothing outside waiting on its middle."""
    depth: dict[str, int] = {}
    members: dict[str, list[str]] = {}
    for k in state.items:
        path = nodes[k].group_path
        for d, g in enumerate(path):
            depth[g] = d
            members.setdefault(g, []).append(k)
    for g in sorted(forced & set(members), key=lambda g: -depth[g]):
        inside = [i for i in state.items if _belongs(i, g, nodes, blocks)]
        if inside:
            state.fold(inside, blocks, None, True, group=g)
            state.refresh()


def _belongs(item: str, group: str, nodes: dict[str, Node], blocks: dict[str, Block]) -> bool:
    if item in nodes:
        return group in nodes[item].group_path
    block = blocks[item]
    return bool(block.items) and _belongs(block.items[0], group, nodes, blocks)


def _fold_subtrees(state: _Graph, blocks: dict[str, Block], limit: int) -> None:
    size: dict[str, int | None] = {}
    for k in reversed(state.items):
        children = state.succs[k]
        if all(len(state.preds[c]) == 1 and size.get(c) is not None for c in children):
            total = 1 + sum(size[c] or 0 for c in children)
            size[k] = total if total <= limit else None
        else:
            size[k] = None
    covered: set[str] = set()
    chosen: list[str] = []
    for k in state.items:
        if k in covered:
            covered.update(state.succs[k])
            continue
        if (size[k] or 0) >= 2:
            chosen.append(k)
            covered.update(state.succs[k])
    for k in chosen:
        region = _region(k, state)
        state.fold(region, blocks, k, state.plain[k])


def _region(root: str, state: _Graph) -> list[str]:
    out, stack = [], [root]
    while stack:
        k = stack.pop()
        out.append(k)
        stack.extend(state.succs[k])
    return sorted(out, key=lambda k: (state.position[k], k))


def _fold_bundles(state: _Graph, blocks: dict[str, Block], limit: int) -> None:
    by_signature: dict[tuple[frozenset[str], frozenset[str]], list[str]] = {}
    for k in state.items:
        if state.plain[k] and all(state.plain[s] for s in state.succs[k]):
            by_signature.setdefault((frozenset(state.preds[k]), frozenset(state.succs[k])), []).append(k)
    for group in by_signature.values():
        if len(group) < 2:
            continue
        for start in range(0, len(group), limit):
            chunk = group[start:start + limit]
            if len(chunk) >= 2:
                state.fold(chunk, blocks, None, True)


def _chains(state: _Graph, limit: int) -> list[list[str]]:
    """Maximal runs of items that follow each other one by one (each the only successor of the one before and
    it the only predecessor), every item after the first plain."""
    seen: set[str] = set()
    found: list[list[str]] = []
    for k in list(state.items):
        if k in seen:
            continue
        chain = [k]
        while len(chain) < limit:
            nxt = state.succs[chain[-1]]
            if len(nxt) != 1:
                break
            s = next(iter(nxt))
            if len(state.preds[s]) != 1 or not state.plain[s] or s in seen:
                break
            chain.append(s)
        seen.update(chain)
        found.append(chain)
    return found


def _fold_chain_bundles(state: _Graph, blocks: dict[str, Block], limit: int) -> None:
    """Parallel chains (a fan-out of per-item pipelines: a Snakemake rule chain per sample) with the same
    upstreams and downstreams, all plain, go into one block together: the block waits for what each chain's head
    waited for, and what waited for every tail waits for the block."""
    by_signature: dict[tuple[frozenset[str], frozenset[str]], list[list[str]]] = {}
    for chain in _chains(state, limit):
        if len(chain) < 2 or not state.plain[chain[0]] or not all(state.plain[s] for s in state.succs[chain[-1]]):
            continue
        key = (frozenset(state.preds[chain[0]]), frozenset(state.succs[chain[-1]]))
        by_signature.setdefault(key, []).append(chain)
    for chains in by_signature.values():
        if len(chains) < 2:
            continue
        batch: list[str] = []
        for chain in chains:
            if batch and len(batch) + len(chain) > limit:
                state.fold(batch, blocks, None, True)
                batch = []
            batch.extend(chain)
        if len(batch) > 2:
            state.fold(batch, blocks, None, True)


def _fold_chains(state: _Graph, blocks: dict[str, Block], limit: int) -> None:
    seen: set[str] = set()
    for k in list(state.items):
        if k in seen or k not in state.preds:
            continue
        chain = [k]
        while True:
            last = chain[-1]
            nxt = state.succs[last]
            if len(nxt) != 1:
                break
            s = next(iter(nxt))
            if len(state.preds[s]) != 1 or not state.plain[s] or len(chain) >= limit:
                break
            chain.append(s)
        seen.update(chain)
        if len(chain) >= 2:
            state.fold(chain, blocks, chain[0], state.plain[chain[0]])


def _fold_chunks(state: _Graph, blocks: dict[str, Block], limit: int) -> None:
    items = list(state.items)
    for start in range(0, len(items), limit):
        chunk = items[start:start + limit]
        if len(chunk) >= 2:
            state.fold(chunk, blocks, None, True)
