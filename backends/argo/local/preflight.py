"""Before a run: the manifest gets ``argo-migrate lint``'s checks, and their errors stop the run.

The runner verifies what a cluster would do, so a manifest Argo would reject (a cycle, a misspelt field, a template
that does not exist, a value of the wrong type) does not run here either, and is reported the way ``lint`` reports
it. Warnings are shown and the run goes on. The runner's own checks (``model.check``) stay for what only a local run
cannot do: a ``workflowTemplateRef``, parameters that only a cluster can supply.
"""

from __future__ import annotations

from dataclasses import dataclass

from migrator.diagnostics import Diagnostic, Severity


@dataclass(frozen=True)
class Preflight:
    errors: list[Diagnostic]
    warnings: list[Diagnostic]


def preflight(path: str) -> Preflight:
    """Lint ``path`` alone (whatever its suffix, as ``lint`` reads a file it is given by name)."""
    from backends.argo.lint import lint_paths  # Hera's models load with it: only when a run is asked for

    diagnostics, _ = lint_paths([path])
    return Preflight([d for d in diagnostics if d.severity is Severity.ERROR],
                     [d for d in diagnostics if d.severity is Severity.WARNING])
