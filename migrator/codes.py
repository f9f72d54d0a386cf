"""Every diagnostic code, its severity and its documentation: the source of ``argo-migrate explain``.

Codes are stable once released. Groups: AM0xx input and output, AM1xx Airflow, AM2xx Snakemake, AM3xx CWL,
AM4xx backend, AM5xx wrappers, AM9xx internal errors (bugs of ours).
"""

from __future__ import annotations

from dataclasses import dataclass

from migrator.diagnostics import Severity


@dataclass(frozen=True)
class Code:
    code: str
    severity: Severity
    title: str
    doc: str


_E, _W, _I = Severity.ERROR, Severity.WARNING, Severity.INFO

_ROWS = [
    Code("AM001", _E, "path does not exist", "An input path named on the command line does not exist."),
    Code("AM002", _E, "unreadable input", "The file is binary, not UTF-8, or cannot be read."),
    Code("AM003", _E, "output not writable",
         "The output folder cannot be created or written; nothing was written for this input."),
    Code("AM004", _W, "duplicate workflow name",
         "Two sources produce the same workflow name; the later one gets a numbered suffix."),
    Code("AM005", _W, "name sanitised",
         "A source id was not a valid Argo/DNS-1123 name (or would leave the output folder) and was rewritten."),
    Code("AM006", _W, "no input files", "A folder named on the command line holds no file of the source language."),
    Code("AM100", _E, "syntax error", "The DAG file is not valid Python; it is not migrated."),
    Code("AM101", _W, "no DAG found",
         "The file defines no DAG that can be found without executing it (nothing to migrate)."),
    Code("AM102", _W, "unsupported operator",
         "The operator has no translation yet; the task runs the original operator with Airflow in a pod."),
    Code("AM103", _W, "dynamic value",
         "A value depends on run-time data (a call, a variable, the environment) and cannot be evaluated statically."),
    Code("AM104", _E, "unknown task reference", "A dependency names something that is not a task of this DAG."),
    Code("AM105", _E, "dependency cycle", "The dependencies form a cycle; Airflow rejects this DAG too."),
    Code("AM106", _E, "duplicate task_id", "Two tasks in one DAG have the same task_id; Airflow rejects this DAG."),
    Code("AM107", _W, "task outside any DAG", "An operator is created with no DAG context and no dag=; it is ignored."),
    Code("AM108", _W, "unsupported schedule",
         "The schedule is not a cron string or preset (a timedelta, timetable or asset); no CronWorkflow is made."),
    Code("AM109", _W, "argument splat",
         "Operator arguments come from a **kwargs splat that cannot be evaluated; the task is wrapped."),
    Code("AM110", _I, "argument not translated",
         "An operator or DAG argument has no Argo equivalent yet and is left out of the manifest."),
    Code("AM111", _W, "untranslated Jinja",
         "A templated field uses Jinja that has no Argo translation yet; the task is wrapped so that raw "
         "templates never reach a container."),
    Code("AM112", _W, "callable not found",
         "A python_callable is not a function defined at module level in the same file; the task is wrapped."),
    Code("AM113", _W, "Airflow context used",
         "A Python callable reads the Airflow task context (ti, ds, **context...); the task is wrapped."),
    Code("AM114", _I, "catchup not reproduced", "CronWorkflows do not backfill missed runs as catchup=True does."),
    Code("AM115", _W, "unsupported construct",
         "A statement or call that builds the DAG is not understood; tasks it would create may be missing."),
    Code("AM116", _W, "kind not applicable", "The requested --kind does not fit this workflow; another was chosen."),
    Code("AM117", _W, "unsupported output reference",
         "A task consumes an output that only Python tasks produce natively; the value is not passed."),
    Code("AM401", _E, "workflow too large", "The manifest exceeds Argo's object size or task-count limits."),
    Code("AM501", _I, "wrapped with the original engine", "The task runs its original engine from an Argo step."),
    Code("AM901", _E, "internal error", "A bug in argo-migrate; please report it with the input file."),
    Code("AM902", _E, "invariant violated", "A frontend or pass produced an inconsistent IR (a bug of ours)."),
    Code("AM903", _E, "invalid output", "The manifest written did not validate (a bug of ours)."),
]

CODES: dict[str, Code] = {row.code: row for row in _ROWS}
