"""Operators that only steer the run: EmptyOperator, LatestOnlyOperator, ExternalTaskMarker."""

from __future__ import annotations

from frontends.airflow.model import TaskDraft
from frontends.airflow.translate import TranslateContext, Translation
from migrator.ir import Noop


def empty_operator(task: TaskDraft, ctx: TranslateContext) -> Translation:
    return Translation(Noop())


def latest_only(task: TaskDraft, ctx: TranslateContext) -> Translation:
    """Argo runs no backfills: every run of a migrated workflow is the latest, so nothing is ever skipped."""
    return Translation(Noop(), notes=(("AM120", "every Argo run is the latest run; LatestOnlyOperator never skips"),))


def external_task_marker(task: TaskDraft, ctx: TranslateContext) -> Translation:
    """A marker for Airflow's recursive clearing across DAGs; Argo has no clearing, so it does nothing."""
    return Translation(Noop(), notes=(("AM120", "ExternalTaskMarker only steers clearing in Airflow; it does nothing "
                                                "in Argo"),))


def sub_dag(task: TaskDraft, ctx: TranslateContext) -> Translation:
    """Airflow 2's SubDagOperator runs a whole DAG as one task; the sub-DAG itself is built at run time."""
    from frontends.airflow.translate import Untranslatable

    raise Untranslatable("AM103", "the sub-DAG of a SubDagOperator is built when Airflow imports the file (here by "
                         "a function call), so its tasks are not migrated; the operator runs with Airflow in a pod")
