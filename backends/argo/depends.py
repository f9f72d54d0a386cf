"""Join rules → Argo ``depends`` and ``when``: the table of ARGO-SEMANTICS.md §2.7, one row per rule.

Encoding of upstream outcomes: success → Succeeded, failed → Failed or Error, skipped → Skipped (a false
``when``), upstream_failed → Omitted (a false ``depends``). Every task is emitted with this encoding, so the table
is a bijection of outcomes and each row reproduces its rule for every combination of upstream states.

Two simplifications keep ordinary DAGs readable and are exact under that encoding: a bare ``a`` means
``a.Succeeded || a.Skipped`` because we never emit daemons or ``continueOn``; and a ``when`` whose only purpose is
to tell Skipped from Succeeded upstreams is left out when no upstream can be Skipped (has no ``when`` itself).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from migrator.ir import JoinRule


@dataclass(frozen=True)
class Upstream:
    name: str  # the Argo task name
    may_skip: bool


@dataclass(frozen=True)
class Condition:
    depends: str | None
    when: str | None


def done(x: str) -> str:
    """``x`` has finished, whatever its outcome."""
    return _done(x)


def _done(x: str) -> str:
    return f"({x}.Succeeded || {x}.Failed || {x}.Errored || {x}.Skipped || {x}.Omitted)"


def _status(x: str) -> str:
    return "{{tasks.%s.status}}" % x


def _all(parts: list[str]) -> str:
    return " && ".join(parts)


def _group(expr: str, n: int) -> str:
    return f"({expr})" if n > 1 else expr


def _bare(ups: list[Upstream]) -> str:
    return _all([u.name for u in ups])


def _done_all(ups: list[Upstream]) -> str:
    return _all([_done(u.name) for u in ups])


def _in(u: Upstream, states: tuple[str, ...]) -> str:
    parts = [f"{_status(u.name)} == {s}" for s in states]
    return parts[0] if len(parts) == 1 else "(" + " || ".join(parts) + ")"


def _when_all(ups: list[Upstream], states: tuple[str, ...]) -> str:
    return _all([_in(u, states) for u in ups])


def _when_any(ups: list[Upstream], states: tuple[str, ...]) -> str:
    return " || ".join(_in(u, states) for u in ups)


def _when_none(ups: list[Upstream], state: str) -> str:
    return _all([f"{_status(u.name)} != {state}" for u in ups])


_FAILED = ("Failed", "Error", "Omitted")


def _skips(ups: list[Upstream]) -> bool:
    return any(u.may_skip for u in ups)


def _all_success(ups: list[Upstream]) -> Condition:
    return Condition(_bare(ups), _when_all(ups, ("Succeeded",)) if _skips(ups) else None)


def _all_failed(ups: list[Upstream]) -> Condition:
    return Condition(_done_all(ups), _when_all(ups, _FAILED))


def _all_done(ups: list[Upstream]) -> Condition:
    return Condition(_done_all(ups), None)


def _all_done_min_one_success(ups: list[Upstream]) -> Condition:
    one = " || ".join([f"{u.name}.Succeeded" for u in ups] + [f"{u.name}.Skipped" for u in ups])
    return Condition(f"{_done_all(ups)} && ({one})", _when_none(ups, "Skipped") if _skips(ups) else None)


def _all_skipped(ups: list[Upstream]) -> Condition:
    return Condition(_done_all(ups), _when_all(ups, ("Skipped",)))


def _one_success(ups: list[Upstream]) -> Condition:
    all_skipped = _all([f"{u.name}.Skipped" for u in ups])
    one = " || ".join([f"{u.name}.Succeeded" for u in ups] + [_group(all_skipped, len(ups))])
    return Condition(f"{_done_all(ups)} && ({one})", _when_any(ups, ("Succeeded",)))


def _one_failed(ups: list[Upstream]) -> Condition:
    return Condition(_done_all(ups), _when_any(ups, _FAILED))


def _one_done(ups: list[Upstream]) -> Condition:
    return Condition(_done_all(ups), _when_any(ups, ("Succeeded", "Failed", "Error")))


def _none_failed(ups: list[Upstream]) -> Condition:
    return Condition(_bare(ups), None)


def _none_failed_min_one_success(ups: list[Upstream]) -> Condition:
    return Condition(_bare(ups), _when_any(ups, ("Succeeded",)) if _skips(ups) else None)


def _none_skipped(ups: list[Upstream]) -> Condition:
    return Condition(_done_all(ups), _when_none(ups, "Skipped"))


def _always(ups: list[Upstream]) -> Condition:
    return Condition(None, None)


JOIN_TABLE: dict[JoinRule, Callable[[list[Upstream]], Condition]] = {
    JoinRule.ALL_SUCCESS: _all_success,
    JoinRule.ALL_FAILED: _all_failed,
    JoinRule.ALL_DONE: _all_done,
    JoinRule.ALL_DONE_MIN_ONE_SUCCESS: _all_done_min_one_success,
    JoinRule.ALL_SKIPPED: _all_skipped,
    JoinRule.ONE_SUCCESS: _one_success,
    JoinRule.ONE_FAILED: _one_failed,
    JoinRule.ONE_DONE: _one_done,
    JoinRule.NONE_FAILED: _none_failed,
    JoinRule.NONE_FAILED_MIN_ONE_SUCCESS: _none_failed_min_one_success,
    JoinRule.NONE_SKIPPED: _none_skipped,
    JoinRule.ALWAYS: _always,
    # Not expressible in Argo (ARGO-SEMANTICS §2.7): a teardown runs once everything upstream is done.
    JoinRule.ALL_DONE_SETUP_SUCCESS: _all_done,
}


def condition(rule: JoinRule, upstreams: list[Upstream]) -> Condition:
    if not upstreams:
        return Condition(None, None)
    return JOIN_TABLE[rule](upstreams)
