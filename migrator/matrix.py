"""The support matrix, generated from a frontend's construct registry so that docs and code cannot disagree."""

from __future__ import annotations

import importlib


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "; ")


def support_matrix(language: str) -> str:
    """A Markdown table: one row per registry entry, then the fallback for everything else."""
    if language == "snakemake":  # a directive table rather than an operator registry
        return importlib.import_module("frontends.snakemake.directives").matrix()
    registry = importlib.import_module(f"frontends.{language}.operators").REGISTRY
    lines = ["| construct | status | translation | example |", "|---|---|---|---|"]
    for row in registry:
        names = ", ".join(f"`{n}`" for n in row.names)
        lines.append(f"| {names} | {row.status} | {_cell(row.doc)} | `{_cell(row.example)}` |")
    lines.append("| any other operator, sensor or decorator | wrapped | Runs the original task with its own operator in "
                 "the Airflow image of the file's major version, without scheduler or database: the `airflow-task` "
                 "wrapper (AM102). | |")
    return "\n".join(lines) + "\n"
