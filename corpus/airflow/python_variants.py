# constructs: virtualenv-operator, task-virtualenv, external-python-operator, task-external-python, task-docker, task-kubernetes, branch-virtualenv, branch-external-python, setup-teardown
"""Python in other environments: requirements via uv, container images, external interpreters; setup/teardown."""

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.python import (
    BranchExternalPythonOperator,
    BranchPythonVirtualenvOperator,
    ExternalPythonOperator,
    PythonVirtualenvOperator,
)
from airflow.sdk import DAG, setup, task, teardown


def tabulate_numbers():
    from tabulate import tabulate

    return tabulate([[1, 2], [3, 4]])


def pick_path():
    return "fast_path"


with DAG(dag_id="python_environments", schedule=None):
    @setup
    def create_scratch():
        return "/scratch/run"

    @teardown
    def remove_scratch():
        print("removing scratch space")

    venv = PythonVirtualenvOperator(task_id="venv_table", python_callable=tabulate_numbers,
                                    requirements=["tabulate==0.9.0"])

    @task.virtualenv(requirements=["numpy>=1.26"])
    def mean():
        import numpy

        return float(numpy.mean([1, 2, 3]))

    external = ExternalPythonOperator(task_id="external", python="/opt/venvs/etl/bin/python",
                                      python_callable=tabulate_numbers)

    @task.external_python(python="/opt/venvs/etl/bin/python")
    def in_external():
        return 42

    @task.docker(image="python:3.12-alpine")
    def in_docker():
        return "docker"

    @task.kubernetes(image="python:3.12-slim", namespace="jobs")
    def in_pod():
        return "pod"

    choose_venv = BranchPythonVirtualenvOperator(task_id="choose_venv", python_callable=pick_path,
                                                 requirements=["requests"])
    choose_ext = BranchExternalPythonOperator(task_id="choose_external", python="/opt/venvs/etl/bin/python",
                                              python_callable=pick_path)
    fast = EmptyOperator(task_id="fast_path")
    slow = EmptyOperator(task_id="slow_path")

    @task.branch_virtualenv(requirements=["requests"])
    def venv_branch():
        return "fast_path_2"

    @task.branch_external_python(python="/opt/venvs/etl/bin/python")
    def external_branch():
        return "slow_path_2"

    fast_2 = EmptyOperator(task_id="fast_path_2")
    slow_2 = EmptyOperator(task_id="slow_path_2")

    scratch = create_scratch()
    scratch >> venv >> mean() >> external >> in_external() >> in_docker() >> in_pod()
    in_pod_done = EmptyOperator(task_id="computed")
    venv >> choose_venv >> [fast, slow] >> in_pod_done
    external >> choose_ext >> [fast, slow]
    in_pod_done >> venv_branch() >> [fast_2, slow_2]
    in_pod_done >> external_branch() >> [fast_2, slow_2]
    [fast_2, slow_2] >> remove_scratch()
