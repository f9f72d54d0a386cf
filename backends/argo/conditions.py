"""IR conditions (:data:`migrator.ir.Cond`) as Argo ``when`` expressions: the only place that writes their syntax.

Argo substitutes ``{{…}}`` first and evaluates the result with govaluate, so a reference is written as its
variable and a literal as a bare word where govaluate reads a bare word as itself (``true``, ``Succeeded``), else
single-quoted.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from migrator.ir import AllOf, AnyOf, Compare, Cond, Literal, Not, Operand, Ref

_BARE = re.compile(r"[A-Za-z0-9_.-]+")


def _literal(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return value if _BARE.fullmatch(value) else "'" + value.replace("'", "\\'") + "'"


def _quoted(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def render(cond: Cond, ref: Callable[[Ref], str]) -> str:
    """``cond`` as a when expression; ``ref`` writes a reference in the scope the expression is evaluated in."""

    def operand(o: Operand) -> str:
        return _literal(o.value) if isinstance(o, Literal) else ref(o)

    def nested(c: Cond) -> str:
        text = render(c, ref)
        return f"({text})" if isinstance(c, AllOf | AnyOf) else text

    if isinstance(cond, Compare):
        if cond.op in ("=~", "!~"):
            # Both sides are strings to govaluate: the reference's text (JSON, say) quoted, the pattern quoted.
            left = cond.left if isinstance(cond.left, Literal) else None
            text = _quoted(str(left.value)) if left else "'" + ref(cond.left) + "'"  # type: ignore[arg-type]
            pattern = cond.right.value if isinstance(cond.right, Literal) else ref(cond.right)
            return f"{text} {cond.op} {_quoted(str(pattern))}"
        return f"{operand(cond.left)} {cond.op} {operand(cond.right)}"
    if isinstance(cond, Not):
        return f"!({render(cond.item, ref)})"
    joiner = " && " if isinstance(cond, AllOf) else " || "
    return joiner.join(nested(c) for c in cond.items)
