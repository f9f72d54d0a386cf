"""The semantic rules of ``argo-migrate lint``: one module per rule, mirroring Argo's ``workflow/validate``.

Each module has a docstring (what it checks, why, an example), ``NAME`` (also the name of its fixture,
``corpus/argo-lint/bad/<NAME>.yaml``), ``CODES`` (the diagnostic codes it reports) and
``check(doc: Manifest) -> Iterable[Finding]``. Rules never raise on malformed input (they read the document through
``manifest``'s defensive helpers); if one did anyway, the linter reports it as an internal error, not a traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import ModuleType

from backends.argo.lint.findings import Finding
from backends.argo.lint.manifest import Manifest
from backends.argo.lint.rules import (
    cron_schedule,
    dependency_cycle,
    dependency_fields,
    depends_expression,
    duplicate_names,
    fan_out_result,
    limits,
    loops,
    names,
    parameter_references,
    task_references,
    template_references,
    template_type,
    unknown_dependency,
)


@dataclass(frozen=True)
class Rule:
    name: str
    codes: tuple[str, ...]
    check: Callable[[Manifest], Iterable[Finding]]
    doc: str

    @classmethod
    def of(cls, module: ModuleType) -> Rule:
        return cls(module.NAME, module.CODES, module.check, module.__doc__ or "")

    @property
    def summary(self) -> str:
        return self.doc.strip().splitlines()[0] if self.doc.strip() else self.name


RULES: tuple[Rule, ...] = tuple(Rule.of(m) for m in (
    names,
    duplicate_names,
    template_type,
    template_references,
    dependency_fields,
    depends_expression,
    unknown_dependency,
    dependency_cycle,
    fan_out_result,
    task_references,
    parameter_references,
    loops,
    limits,
    cron_schedule,
))
