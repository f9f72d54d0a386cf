"""Links between DAGs: TriggerDagRunOperator starts the target's workflow, ExternalTaskSensor waits for it.

Strategy for ExternalTaskSensor (documented in the README): wait until the most recent run of the target DAG's
migrated workflow (found by the label Argo puts on runs of a WorkflowTemplate or CronWorkflow) has succeeded.
Airflow matches runs by logical date instead; the difference is reported with AM119.
"""

from __future__ import annotations

from frontends.airflow.jinja import DAG_RUN_CONF
from frontends.airflow.model import TaskDraft
from frontends.airflow.translate import TranslateContext, Translation, Untranslatable, templated
from frontends.airflow.translators.python import poll_settings
from migrator.ir import AwaitWorkflow, RunWorkflow, Text


def trigger_dag_run(task: TaskDraft, ctx: TranslateContext) -> Translation:
    target = task.arg("trigger_dag_id")
    if not isinstance(target, str):
        raise Untranslatable("AM103", "trigger_dag_id is only known at run time")
    conf = task.arg("conf")
    parameters: list[tuple[str, Text]] = []
    if conf is not None:
        if not isinstance(conf, dict):
            raise Untranslatable("AM103", "conf is only known at run time")
        import json

        try:
            rendered = json.dumps(conf, sort_keys=True)
        except TypeError as exc:
            raise Untranslatable("AM103", "conf holds values only known at run time") from exc
        parameters.append((DAG_RUN_CONF, templated(rendered, task, ctx, "conf")))
    wait = task.arg("wait_for_completion") is True
    return Translation(RunWorkflow(target, tuple(parameters), wait))


def external_task_sensor(task: TaskDraft, ctx: TranslateContext) -> Translation:
    target = task.arg("external_dag_id")
    if not isinstance(target, str):
        raise Untranslatable("AM103", "external_dag_id is only known at run time")
    interval, timeout, _ = poll_settings(task)
    note = ("AM119", f"waits for the latest run of {target!r} to succeed; Airflow matches the run by logical date")
    return Translation(AwaitWorkflow(target, interval, timeout), notes=(note,))
