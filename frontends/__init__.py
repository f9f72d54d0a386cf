"""Frontends: one subpackage per source language, each turning one source file into IR workflows.

A frontend module exposes ``parse(path: str, source: bytes) -> FrontendResult``. Frontends are imported lazily so
that a missing optional extra (snakemake, cwl-utils) costs nothing until it is used, and then says what to install.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field

from migrator.diagnostics import Diagnostic
from migrator.ir import Workflow


@dataclass
class FrontendResult:
    workflows: list[Workflow] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)


# ``parse(path, source)``, or ``parse(path, source, options)`` with the frontend's own options (Snakemake's
# targets and config) when the command line gives any.
Parse = Callable[..., FrontendResult]


@dataclass(frozen=True)
class FrontendRow:
    language: str
    module: str
    suffixes: tuple[str, ...]
    requires: tuple[str, ...] = ()  # import names of the optional extra
    extra: str | None = None
    doc: str = ""


FRONTENDS: dict[str, FrontendRow] = {
    "airflow": FrontendRow("airflow", "frontends.airflow", (".py",),
                           doc="Airflow DAG files, parsed with LibCST and never imported."),
    "snakemake": FrontendRow("snakemake", "frontends.snakemake", ("Snakefile", "snakefile"), ("snakemake",),
                             "snakemake", "Snakemake workflows, read with Snakemake's own parser."),
    "cwl": FrontendRow("cwl", "frontends.cwl", (".cwl",), ("cwl_utils",), "cwl",
                       "CWL documents, read with cwl-utils."),
}


class MissingExtra(Exception):
    """An optional dependency is not installed; the message says what to install."""


class NotYetAvailable(Exception):
    """The frontend exists as a name but translates nothing yet."""


def load(language: str) -> Parse:
    row = FRONTENDS[language]
    for requirement in row.requires:
        if importlib.util.find_spec(requirement) is None:
            raise MissingExtra(
                f"the {language} frontend needs the '{row.extra}' extra: pip install 'argo-migrate[{row.extra}]'"
            )
    module = importlib.import_module(row.module)
    parse: Parse | None = getattr(module, "parse", None)
    if parse is None:
        raise NotYetAvailable(f"the {language} frontend is not available in this release yet")
    return parse
