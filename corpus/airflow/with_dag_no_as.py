# constructs: with-dag-no-as, empty-operator, lshift, list-both-sides, preset-schedule
"""Fan out and fan in, written with << and lists on either side, inside `with DAG(...)` without `as`."""

from datetime import datetime

from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

with DAG("fan_out_in", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=False):
    start = EmptyOperator(task_id="start")
    left = BashOperator(task_id="left", bash_command="echo left")
    right = BashOperator(task_id="right", bash_command="echo right")
    join = EmptyOperator(task_id="join")
    done = EmptyOperator(task_id="done")

    [left, right] << start
    join << [left, right]
    [join] >> done
