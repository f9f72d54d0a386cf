# constructs: branch-python-operator, task-branch, short-circuit-operator, task-short-circuit, branch-datetime, branch-day-of-week, latest-only, trigger-rules, lambda-callable
"""Branches and short-circuits: the chosen paths run, the others are Skipped, joins use trigger rules."""

import datetime
import random

from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.datetime import BranchDateTimeOperator
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.latest_only import LatestOnlyOperator
from airflow.providers.standard.operators.python import BranchPythonOperator, ShortCircuitOperator
from airflow.providers.standard.operators.weekday import BranchDayOfWeekOperator
from airflow.sdk import DAG, task

with DAG(dag_id="branching", schedule="@daily", start_date=datetime.datetime(2024, 1, 1), catchup=False):
    latest = LatestOnlyOperator(task_id="latest_only")
    pick = BranchPythonOperator(task_id="pick", python_callable=lambda: random.choice(["left", "right"]))
    left = BashOperator(task_id="left", bash_command="echo left")
    right = BashOperator(task_id="right", bash_command="echo right")
    join = EmptyOperator(task_id="join", trigger_rule="none_failed_min_one_success")
    latest >> pick >> [left, right] >> join

    @task.branch
    def size_check(limit=10):
        return "small" if random.randint(0, 20) < limit else "large"

    small = EmptyOperator(task_id="small")
    large = EmptyOperator(task_id="large")
    join >> size_check() >> [small, large]

    weekday = BranchDayOfWeekOperator(
        task_id="weekday", follow_task_ids_if_true="weekend_report", follow_task_ids_if_false="weekday_report",
        week_day={"Saturday", "Sunday"}, use_task_logical_date=True,
    )
    office_hours = BranchDateTimeOperator(
        task_id="office_hours", follow_task_ids_if_true=["notify"], follow_task_ids_if_false=["queue"],
        target_lower=datetime.time(9, 0), target_upper=datetime.time(17, 0),
    )
    weekend_report = EmptyOperator(task_id="weekend_report")
    weekday_report = EmptyOperator(task_id="weekday_report")
    notify = BashOperator(task_id="notify", bash_command="echo notify")
    queue = BashOperator(task_id="queue", bash_command="echo queue")
    small >> weekday >> [weekend_report, weekday_report]
    large >> office_hours >> [notify, queue]

    gate = ShortCircuitOperator(task_id="gate", python_callable=lambda: datetime.date.today().day != 1)
    after_gate = EmptyOperator(task_id="after_gate")
    final = EmptyOperator(task_id="final", trigger_rule="all_done")
    [weekend_report, weekday_report] >> gate >> after_gate >> final

    @task.short_circuit(ignore_downstream_trigger_rules=False)
    def has_data():
        return True

    has_data() >> EmptyOperator(task_id="process_data")
