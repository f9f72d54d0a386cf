"""The whole workflow on a SLURM cluster (``--slurm-host``): the ``slurm-job`` wrapper's ``workspace`` entry copies
the workspace folder (the staged raw inputs) and the workflow's sources to a work folder on the login node, runs
``sbatch --wait`` of a job script that runs ``snakemake --cores N`` there, and copies the work folder back into the
workspace (stage-out keeps the targets); the step's exit code is the job's, so it fails when Snakemake fails.

One batch job rather than ``snakemake --executor slurm`` on the login node: the executor plugin
(snakemake-executor-plugin-slurm) must be installed beside Snakemake on the cluster, and follows its jobs with
``sacct``, which needs SLURM's accounting database; a batch job needs neither, and its jobs run on one node with
``--cpus-per-task`` cores.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

# The Snakemake job's own output file; its name starts like the wrapper's files, which are never copied back.
JOB_LOG = ".argo-migrate-slurm-%j.log"


@dataclass(frozen=True)
class SlurmLogin:
    """Where and how the workflow runs on the cluster (the Secret ``slurm-ssh`` holds the key and host keys)."""

    host: str
    port: int = 22
    user: str = ""
    remote_dir: str = "argo-migrate"  # under the login user's home when relative
    partition: str = ""
    account: str = ""
    time_limit: str = ""
    setup: str = ""  # shell lines the job runs before Snakemake (module load, conda activate, PATH)


def job_script(file: str, targets: tuple[str, ...], configfiles: tuple[str, ...],
               config: tuple[tuple[str, str], ...], cores: int, setup: str) -> str:
    """The batch script: Snakemake on the whole workflow, in the work folder (sbatch's working directory)."""
    argv = ["snakemake", "--snakefile", file, "--cores", str(cores), "--nocolor", *targets]
    if configfiles:
        argv += ["--configfiles", *configfiles]
    if config:
        argv += ["--config", *(f"{k}={v}" for k, v in config)]  # last: --config takes every word after it
    lines = ["#!/bin/sh", f"#SBATCH --output={JOB_LOG}", f"#SBATCH --cpus-per-task={cores}"]
    if setup.strip():
        lines.append(setup.rstrip("\n"))
    lines.append("exec " + " ".join(shlex.quote(a) for a in argv))
    return "\n".join(lines) + "\n"


def payload(login: SlurmLogin, script: str, workflow_id: str) -> tuple[tuple[str, str], ...]:
    """The ``slurm-job`` action: the login node, the job, and the workspace folder (``directory``), which makes the
    call the wrapper's ``workspace`` entry; empty settings keep the wrapper's defaults."""
    settings = (("host", login.host), ("port", str(login.port)), ("user", login.user),
                ("remote-dir", login.remote_dir), ("partition", login.partition), ("account", login.account),
                ("time-limit", login.time_limit),
                ("job-name", re.sub(r"[^A-Za-z0-9._-]+", "-", workflow_id)[:40] or "snakemake"),
                ("job-script", script), ("outputs-path", "."), ("directory", "."))
    return tuple((k, v) for k, v in settings if v)
