"""What becomes of each Snakemake directive: one row per directive, the source of the README's support matrix
(``argo-migrate matrix snakemake``) and of the tables the builder reads (rule kinds, resources).

How: ``native`` (an Argo construct), ``planned`` (Snakemake's own planning resolves it: the jobs and files already
carry its effect), ``wrapped`` (the job runs with Snakemake in its pod), ``approximated`` (native, with a warning
naming the difference), ``diagnostic`` (refused or dropped, with a diagnostic).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Directive:
    name: str
    how: str
    mapping: str


DIRECTIVES: tuple[Directive, ...] = (
    Directive("input / output", "native",
              "files in the workspace; the job's edges are Snakemake's. Named inputs, lists, `expand`, functions "
              "are resolved by Snakemake's planning"),
    Directive("temp()", "approximated",
              "kept until the run ends (the workspace volume goes with the workflow), not deleted once consumed "
              "(AM204)"),
    Directive("protected()", "native", "made read-only after the job (`chmod a-w`)"),
    Directive("directory()", "native", "a Directory output; its parent folder is created"),
    Directive("ancient()", "planned", "no effect: every job runs (the migration plans with `--forceall`)"),
    Directive("touch()", "native", "touched after the command"),
    Directive("pipe()", "diagnostic",
              "jobs joined by a pipe must run at once: the whole workflow is run by Snakemake in one pod (AM205)"),
    Directive("params", "native", "formatted into the command; functions are evaluated by Snakemake's planning"),
    Directive("threads", "native", "CPU request (`cpu`)"),
    Directive("resources", "native",
              "`mem_mb`/`mem` → memory request, `disk_mb`/`disk` → ephemeral-storage request, `runtime` (minutes) → "
              "activeDeadlineSeconds, `gpu`/`nvidia_gpu` → `nvidia.com/gpu`; others are reported (AM207)"),
    Directive("container / singularity", "native", "the image; rules without one use `--default-image`"),
    Directive("conda / envmodules", "wrapped",
              "the job runs with Snakemake in its pod, which sets the environment up (`--sdm conda`/`env-modules`)"),
    Directive("shell", "native",
              "a container template running Snakemake's formatted command with its shell (bash: `set -euo "
              "pipefail;`), shared by the jobs of the rule"),
    Directive("run / script / notebook / wrapper / cwl / template_engine", "wrapped",
              "the job runs with Snakemake in its pod (`--target-jobs`), the workflow's sources shipped to it"),
    Directive("log", "native", "log files' folders created before the command, as Snakemake does"),
    Directive("benchmark", "approximated", "wall-clock seconds measured around the command; memory and I/O "
              "columns are NA (AM204)"),
    Directive("retries", "native", "`retryStrategy.limit`"),
    Directive("priority", "diagnostic", "dropped: Argo orders ready tasks itself (AM204)"),
    Directive("localrule / localrules", "approximated", "runs in a pod like every job (AM204)"),
    Directive("group", "native", "the jobs of one group run in one pod, one after the other"),
    Directive("shadow", "approximated", "the job runs in the workspace itself, without a shadow folder (AM204)"),
    Directive("message", "native", "the task's description"),
    Directive("wildcard_constraints / ruleorder", "planned", "resolved by Snakemake's planning"),
    Directive("include / module / use rule / configfile", "planned",
              "read by Snakemake's parser; their files are shipped with wrapped jobs"),
    Directive("checkpoint", "wrapped",
              "the job DAG is only known at run time: the whole workflow is run by Snakemake in one pod (AM203)"),
    Directive("localrules, onstart/onsuccess/onerror", "diagnostic", "handlers are not run (AM204)"),
)

# Rule kinds (how a rule says what it runs) → whether the job is native.
NATIVE_KINDS = frozenset({"shell", "none"})

# Snakemake resource name → (IR field, unit factor to the IR's unit). Memory and disk are MB (10^6 bytes).
MEMORY = ("mem_mb",)
DISK = ("disk_mb",)
RUNTIME = ("runtime",)
GPU = ("gpu", "nvidia_gpu")
# Resources Snakemake itself sets or derives: not worth a diagnostic.
IMPLIED = frozenset({"mem", "disk", "mem_mib", "disk_mib", "tmpdir", "_cores", "_nodes"})


def matrix() -> str:
    """The support matrix as Markdown."""
    rows = ["| directive | how | what it becomes |", "|---|---|---|"]
    rows += [f"| `{d.name}` | {d.how} | {d.mapping} |" for d in DIRECTIVES]
    return "\n".join(rows) + "\n"
