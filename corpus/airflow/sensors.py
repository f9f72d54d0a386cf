# constructs: time-delta-sensor, time-sensor, date-time-sensor, day-of-week-sensor, file-sensor, bash-sensor, python-sensor, task-sensor, soft-fail
"""Sensors: fixed waits become suspends, conditions become polling steps with poke_interval and timeout."""

import datetime
import os

from airflow.providers.standard.sensors.bash import BashSensor
from airflow.providers.standard.sensors.date_time import DateTimeSensor
from airflow.providers.standard.sensors.filesystem import FileSensor
from airflow.providers.standard.sensors.python import PythonSensor
from airflow.providers.standard.sensors.time import TimeSensor
from airflow.providers.standard.sensors.time_delta import TimeDeltaSensor
from airflow.providers.standard.sensors.weekday import DayOfWeekSensor
from airflow.sdk import DAG, PokeReturnValue, task


def marker_exists():
    return os.path.exists("/data/marker")


with DAG(dag_id="sensing", schedule=None):
    pause = TimeDeltaSensor(task_id="pause", delta=datetime.timedelta(minutes=2))
    nine = TimeSensor(task_id="after_nine", target_time=datetime.time(9, 0), poke_interval=300)
    launch = DateTimeSensor(task_id="after_launch", target_time=datetime.datetime(2025, 1, 1, 12, 0))
    monday = DayOfWeekSensor(task_id="on_monday", week_day="Monday", timeout=600, soft_fail=True)
    landed = FileSensor(task_id="file_landed", filepath="/data/incoming/*.csv", poke_interval=30, timeout=3600)
    ready = BashSensor(task_id="service_ready", bash_command="test -f /data/ready", poke_interval=10, timeout=120)
    marker = PythonSensor(task_id="marker", python_callable=marker_exists, poke_interval=15, timeout=900)

    @task.sensor(poke_interval=20, timeout=600)
    def queue_drained() -> PokeReturnValue:
        depth = len(os.listdir("/data/queue")) if os.path.isdir("/data/queue") else 0
        return PokeReturnValue(is_done=depth == 0, xcom_value=depth)

    pause >> nine >> launch >> landed >> ready >> marker >> queue_drained()
    monday >> pause
