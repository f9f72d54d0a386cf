# constructs: mapped-task-group, shared-definitions
"""A mapped task group: each item runs the group's tasks on its own, so a failed item stops only itself."""

import pendulum

from airflow.sdk import dag, task, task_group


@task
def fetch(n: int) -> int:
    return n * 10


@task
def check(value: int) -> int:
    if value == 20:
        raise ValueError("item 2 is bad")
    return value + 1


@task(trigger_rule="all_done")
def summarise() -> None:
    print("every item was checked")


@task_group
def per_item(n: int):
    return check(fetch(n))


@dag(dag_id="mapped_groups", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC"))
def mapped_groups():
    per_item.expand(n=[1, 2, 3]) >> summarise()


mapped_groups()
