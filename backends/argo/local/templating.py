"""``{{…}}`` substitution (ARGO-SEMANTICS §2.5).

A :class:`Scope` is a flat map of variable names (``inputs.parameters.x``, ``tasks.a.outputs.result``…) to their
text, plus raw values (a loop ``item`` that is a map). Simple tags are replaced by their value; an expression tag
``{{= … }}`` is evaluated by :func:`~backends.argo.local.expressions.evaluate_expr` over the scope seen as nested
maps. A simple tag whose root is one of Argo's prefixes (``item``, ``steps.``, ``inputs.``, ``outputs.``, ``pod.``,
``workflow.``, ``tasks.``) and that has no value raises :class:`MissingVariable` (the node errors); any other
unresolved tag is written back unchanged, as Argo does. Absent values (outputs of Skipped or Omitted tasks) are not
in the scope at all, so a reference to one fails unless a default or ``??`` supplies it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from backends.argo.local.expressions import ExpressionError, evaluate_expr, to_text

STRICT_PREFIXES = ("item.", "steps.", "inputs.", "outputs.", "pod.", "workflow.", "tasks.")
_TAG = re.compile(r"\{\{(.*?)\}\}", re.S)


class MissingVariable(Exception):
    def __init__(self, name: str, detail: str = "") -> None:
        super().__init__(detail or f"unable to resolve {{{{{name}}}}}")
        self.name = name


class Scope:
    def __init__(self, values: dict[str, str] | None = None, raw: dict[str, Any] | None = None) -> None:
        self.values: dict[str, str] = dict(values or {})
        self.raw: dict[str, Any] = dict(raw or {})

    def child(self, values: dict[str, str] | None = None, raw: dict[str, Any] | None = None) -> Scope:
        return Scope({**self.values, **(values or {})}, {**self.raw, **(raw or {})})

    def get(self, name: str) -> str | None:
        if name in self.values:
            return self.values[name]
        if name in self.raw:
            return to_text(self.raw[name])
        return None

    def env(self) -> dict[str, Any]:
        """The scope as nested maps, for expression tags: ``tasks['a'].outputs.result``."""
        root: dict[str, Any] = {}
        for name in sorted(self.values, key=lambda n: n.count(".")):
            parts = name.split(".")
            node = root
            for part in parts[:-1]:
                nxt = node.get(part)
                if not isinstance(nxt, dict):
                    nxt = node[part] = {}
                node = nxt
            if not isinstance(node.get(parts[-1]), dict):
                node[parts[-1]] = self.values[name]
        root.update(self.raw)
        return root


def _deferred(name: str, defer: Iterable[str]) -> bool:
    return any(name == d.rstrip(".") or name.startswith(d) for d in defer)


def substitute(text: str, scope: Scope, defer: tuple[str, ...] = ()) -> str:
    """``text`` with every tag replaced. Tags under a ``defer`` prefix are left for a later pass when unresolved."""
    if "{{" not in text:
        return text
    env: dict[str, Any] | None = None

    def replace(m: re.Match[str]) -> str:
        nonlocal env
        body = m.group(1)
        if body.lstrip().startswith("="):
            expression = body.lstrip()[1:]
            if defer and re.search(r"\b(tasks|steps|item)\b", expression):
                return m.group(0)
            if env is None:
                env = scope.env()
            try:
                value = evaluate_expr(expression, env)
            except ExpressionError as exc:
                raise MissingVariable(expression.strip(), str(exc)) from None
            if value is None:
                raise MissingVariable(expression.strip(),
                                      f"expression {{{{={expression}}}}} evaluated to nil (a missing value)")
            return to_text(value)
        name = body.strip()
        value = scope.get(name)
        if value is not None:
            return value
        if _deferred(name, defer):
            return m.group(0)
        if name == "item" or name.startswith(STRICT_PREFIXES):
            raise MissingVariable(name)
        return m.group(0)

    return _TAG.sub(replace, text)


def substitute_all(value: Any, scope: Scope, defer: tuple[str, ...] = ()) -> Any:
    """Every string inside ``value`` (maps and lists, keys untouched) substituted."""
    if isinstance(value, str):
        return substitute(value, scope, defer)
    if isinstance(value, dict):
        return {k: substitute_all(v, scope, defer) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute_all(v, scope, defer) for v in value]
    return value
