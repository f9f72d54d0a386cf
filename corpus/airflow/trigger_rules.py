# constructs: trigger-rules, rshift, airflow3-imports
"""Cleanup that runs whatever happened, and an alert when something failed."""

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, TriggerRule

with DAG(dag_id="with_cleanup", schedule=None):
    work_a = BashOperator(task_id="work_a", bash_command="echo a")
    work_b = BashOperator(task_id="work_b", bash_command="echo b")
    cleanup = BashOperator(task_id="cleanup", bash_command="echo cleanup", trigger_rule=TriggerRule.ALL_DONE)
    alert = BashOperator(task_id="alert", bash_command="echo alert", trigger_rule="one_failed")
    report = BashOperator(task_id="report", bash_command="echo report", trigger_rule="none_failed")

    [work_a, work_b] >> cleanup
    [work_a, work_b] >> alert
    cleanup >> report
