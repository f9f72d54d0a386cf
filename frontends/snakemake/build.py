"""A Snakemake plan → one IR workflow: rules become shared step definitions, jobs become tasks (or items of a
fan-out, see :mod:`frontends.snakemake.fanout`), raw inputs are staged in by Init and the targets kept by Finalize.

A ``shell:`` job runs the command Snakemake formatted, with Snakemake's shell (bash gets ``set -euo pipefail;``),
in the workspace, after what Snakemake does before a job (remove old outputs, create the output and log folders)
and before what it does after (touch, protect, remove a failed job's outputs). The rule's shell text is kept as
its literal pieces; each replacement field whose value differs between the rule's jobs becomes a parameter, so
the jobs of one rule share one template. Other jobs (``run:``, ``script:``, ``wrapper:``, conda…) run with
Snakemake itself in their pod.
"""

from __future__ import annotations

import functools
import os
import posixpath
import re
import shlex
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import PurePosixPath

import networkx as nx

from frontends.snakemake import directives
from frontends.snakemake.fanout import LaneGroup, RuleLoop, Single, plan_units, spell_items
from frontends.snakemake.plan import Job, Plan, Rule
from frontends.snakemake.slurm import SlurmLogin, job_script
from frontends.snakemake.slurm import payload as slurm_payload
from migrator.diagnostics import Diagnostic, diag
from migrator.ir import (
    DIRECTORY,
    FILE,
    STRING,
    ContainerRun,
    Group,
    InputRef,
    Loop,
    Noop,
    OutputRef,
    Port,
    Resources,
    Retry,
    SourceLoc,
    Stage,
    Task,
    Text,
    Workflow,
    WrappedStatus,
    text,
)
from migrator.ir import Wrapped as WrappedAction

DEFAULT_IMAGE = "snakemake/snakemake:v9.27.1"
STAGE_IN = "stage-in"  # rule names are Python identifiers: a hyphen never clashes with a job
STAGE_OUT = "stage-out"
# A folder of at least this many raw inputs is staged as one folder: one artifact instead of one per file keeps the
# manifest under Argo's 1 MiB (5,000 per-file artifacts and copies alone are 1.1 MB).
STAGE_FOLDER_MIN = 100

# What Snakemake does around a shell job, as sh. Arguments: $1 outputs, $2 touch, $3 protected, $4 logs (each a
# newline-separated list), $5 benchmark file, $6 the shell, $7 the command.
JOB_SCRIPT = r"""set -u
each() { printf '%s\n' "$1" | while IFS= read -r f; do [ -n "$f" ] && "$2" "$f"; done; return 0; }
parent() { mkdir -p -- "$(dirname -- "$1")"; }
remove() { rm -rf -- "$1"; }
each "$1" remove; each "$4" remove
each "$1" parent; each "$4" parent
[ -z "$5" ] || parent "$5"
start=$(date +%s)
"$6" -c "$7"
status=$?
if [ "$status" -ne 0 ]; then each "$1" remove; exit "$status"; fi
each "$2" touch
[ -z "$3" ] || printf '%s\n' "$3" | while IFS= read -r f; do [ -n "$f" ] && chmod -R a-w -- "$f"; done
if [ -n "$5" ]; then
  s=$(( $(date +%s) - start ))
  printf 's\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n' > "$5"
  printf '%s\t%d:%02d:%02d\tNA\tNA\tNA\tNA\tNA\tNA\tNA\tNA\n' "$s" $((s/3600)) $((s%3600/60)) $((s%60)) >> "$5"
fi
exit 0
"""


@dataclass(frozen=True)
class BuildOptions:
    default_image: str = DEFAULT_IMAGE
    source: str = "Snakefile"  # the Snakefile as the user named it (diagnostics, origins)
    source_rel: str = "Snakefile"  # the Snakefile relative to the workflow's folder (what wrapped jobs run)
    workflow_id: str = "snakemake"
    strategy: str = "auto"
    targets: tuple[str, ...] = ()
    configfiles: tuple[str, ...] = ()
    config: tuple[tuple[str, str], ...] = ()
    storage: str = "volume"  # or "artifacts": every job a task whose files are artifacts (no fan-out)
    stubbed: bool = False  # planned with --stub-files
    slurm: SlurmLogin | None = None  # --slurm-host: the whole-workflow cases run on this SLURM cluster


@dataclass
class _Builder:
    plan: Plan
    options: BuildOptions
    workflow: Workflow
    diagnostics: list[Diagnostic] = field(default_factory=list)
    warned: set[tuple[str, str]] = field(default_factory=set)
    produced: dict[str, str] = field(default_factory=dict)  # file → the task that writes it
    job_task: dict[str, str] = field(default_factory=dict)  # job key → its task
    # values() per job key: asked for by the fan-out, the varying names, the items and the command (10k jobs).
    _values: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    # --- positions and diagnostics ---------------------------------------------------------------------------------

    def origin(self, rule: Rule) -> SourceLoc:
        base = os.path.dirname(self.plan.snakefile)
        rel = os.path.relpath(rule.path, base) if rule.path else os.path.basename(self.plan.snakefile)
        shown = os.path.normpath(os.path.join(os.path.dirname(self.options.source), rel))
        return SourceLoc(shown.replace(os.sep, "/"), rule.line, 1)

    def warn(self, code: str, rule: Rule, message: str) -> None:
        if (code, rule.name + message) in self.warned:
            return
        self.warned.add((code, rule.name + message))
        o = self.origin(rule)
        self.diagnostics.append(diag(code, o.path, o.line, o.column, f"rule {rule.name}: {message}"))

    # --- per-job values ----------------------------------------------------------------------------------------------

    def native(self, job: Job) -> bool:
        rule = self.plan.rules[job.rule]
        return rule.kind in directives.NATIVE_KINDS and not rule.conda and not rule.envmodules

    def image(self, job: Job) -> str:
        """The pod's image: Snakemake's ``docker://`` URL without its scheme (a pod spec names the image alone)."""
        url = job.container
        if not url:
            return self.options.default_image
        if url.startswith("docker://"):
            return url[len("docker://"):]
        if "://" in url or url.endswith(".sif"):
            self.warn("AM204", self.plan.rules[job.rule], f"container {url!r} is not an image a pod can pull; "
                      f"{self.options.default_image} is used")
            return self.options.default_image
        return url

    def values(self, job: Job) -> list[tuple[str, str]]:
        """The job's values that may differ between the jobs of its rule, named for parameters."""
        cached = self._values.get(job.key)
        if cached is not None:
            return cached
        rule = self.plan.rules[job.rule]
        out: list[tuple[str, str]] = []
        if rule.shell_parts is not None and job.shell_values is not None:
            names = _field_names(rule.shell_parts)
            out.extend(zip(names, job.shell_values, strict=True))
        else:
            out.append(("command", job.shell or ""))
        files = [f for f in job.output]
        out.append(("outputs", "\n".join(f.path for f in files)))
        out.append(("touch", "\n".join(f.path for f in files if f.flagged("touch"))))
        out.append(("protected", "\n".join(f.path for f in files if f.flagged("protected"))))
        out.append(("logs", "\n".join(job.log)))
        out.append(("benchmark", job.benchmark or ""))
        self._values[job.key] = out
        return out

    def command(self, job: Job, ref: Callable[[str], Text], varying: set[str]) -> tuple[Text, ...]:
        rule = self.plan.rules[job.rule]
        values = dict(self.values(job))

        def value(name: str) -> Text:
            return ref(name) if name in varying else text(values[name])

        shell = self.plan.shell
        cmd: list[str | object] = []
        if shell.prefix:
            cmd.append(shell.prefix + " ")
        if rule.shell_parts is not None and job.shell_values is not None:
            names = iter(_field_names(rule.shell_parts))
            for part in rule.shell_parts:
                cmd.extend((part,) if isinstance(part, str) else value(next(names)))
        else:
            cmd.extend(value("command"))
        if shell.suffix:
            cmd.append(" " + shell.suffix)
        return (text("/bin/sh"), text("-c"), text(JOB_SCRIPT), text("snakemake-job"), value("outputs"),
                value("touch"), value("protected"), value("logs"), value("benchmark"), text(shell.executable),
                _join(cmd))

    def resources(self, job: Job) -> tuple[Resources | None, int | None]:
        rule = self.plan.rules[job.rule]
        memory = disk = None
        gpu = None
        timeout = None
        for name, value in job.resources:
            if value == "<TBD>":
                self.warn("AM207", rule, f"resource {name} is only known when the job runs (it depends on its "
                          "input); not requested")
                continue
            if name in directives.MEMORY and isinstance(value, int | float):
                memory = f"{int(value)}M"
            elif name in directives.DISK and isinstance(value, int | float):
                disk = f"{int(value)}M"
            elif name in directives.RUNTIME and isinstance(value, int | float):
                timeout = int(value) * 60
            elif name in directives.GPU and isinstance(value, int | float) and value:
                gpu = int(value)
            elif name not in directives.IMPLIED:
                self.warn("AM207", rule, f"resource {name}={value!r} has no Kubernetes counterpart; not requested")
        cpu = str(job.threads) if job.threads and job.threads > 1 else None
        if cpu is None and memory is None and disk is None and gpu is None:
            return None, timeout
        return Resources(cpu=cpu, memory=memory, ephemeral_storage=disk, gpu=gpu), timeout

    def uniform(self, key: str) -> Hashable:
        job = self.plan.by_key[key]
        resources, timeout = self.resources(job)
        return (self.native(job), job.container, resources, timeout, job.retries, job.group,
                tuple(name for name, _ in self.values(job)))

    def notes(self, job: Job) -> None:
        rule = self.plan.rules[job.rule]
        if any(f.flagged("temp") for f in job.output):
            self.warn("AM204", rule, "temp() output kept until the run ends (the workspace volume goes with the "
                      "workflow); Snakemake deletes it once its consumers are done")
        if job.benchmark:
            self.warn("AM204", rule, "benchmark: only the wall-clock time is measured; memory, I/O and CPU "
                      "columns are NA")
        if job.priority:
            self.warn("AM204", rule, f"priority {job.priority} dropped: Argo orders ready tasks itself")
        if rule.shadow:
            self.warn("AM204", rule, f"shadow: {rule.shadow!r} not used; the job runs in the workspace itself")
        if rule.local and rule.kind == "shell":
            self.warn("AM204", rule, "localrule: runs in a pod like every other job")

    # --- tasks ---------------------------------------------------------------------------------------------------

    def job_task_fields(self, job: Job) -> dict[str, object]:
        rule = self.plan.rules[job.rule]
        resources, timeout = self.resources(job)
        return {"origin": self.origin(rule), "construct": rule.kind, "resources": resources,
                "timeout_seconds": timeout, "retry": Retry(job.retries) if job.retries else None,
                "doc": job.message or rule.docstring}

    def wrapped(self, job: Job, task_id: str) -> Task:
        rule = self.plan.rules[job.rule]
        why = ("conda environment" if rule.conda else "environment modules" if rule.envmodules
               else f"{rule.kind}: block")
        self.warn("AM202", rule, f"{why}: its jobs run with Snakemake in their pod (wrapped)")
        payload = (("file", self.options.source_rel), ("rule", job.rule), ("target", _target(job)),
                   ("cores", str(max(job.threads, 1))),
                   ("sdm", "conda" if rule.conda else "env-modules" if rule.envmodules else ""),
                   # the job runs with the config the plan was made with
                   ("configfiles", " ".join(self.options.configfiles)),
                   ("config", " ".join(f"{k}={v}" for k, v in self.options.config)))
        fields = self.job_task_fields(job)
        return Task(task_id, action=WrappedAction("snakemake-job", payload),
                    status=WrappedStatus("snakemake-job", f"{why} needs the Snakemake runtime"), **fields)  # type: ignore[arg-type]

    def shell_task(self, jobs: list[Job], task_id: str, loop_keys: dict[str, Text] | None, group: str | None,
                   rule_varying: set[str]) -> Task:
        """One task for ``jobs`` (one job, or a rule's jobs as loop items when ``loop_keys`` spells each varying
        value from the item, see :func:`frontends.snakemake.fanout.spell_items`)."""
        job = jobs[0]
        rule = self.plan.rules[job.rule]
        fields = self.job_task_fields(job)
        if rule.kind == "none":
            return Task(task_id, action=Noop(), group=group, **fields)  # type: ignore[arg-type]
        image = self.image(job)
        if loop_keys is not None:
            action = ContainerRun(image, self.command(job, lambda n: loop_keys[n], rule_varying),
                                  in_workspace=True)
            return Task(task_id, action=action, group=group, **fields)  # type: ignore[arg-type]
        values = dict(self.values(job))
        varying = [n for n, _ in self.values(job) if n in rule_varying]
        action = ContainerRun(image, self.command(job, lambda n: (InputRef(n),), rule_varying), in_workspace=True)
        return Task(task_id, action=action, group=group, inputs=tuple(Port(n, STRING) for n in varying),
                    arguments=tuple((n, text(values[n])) for n in varying), **fields)  # type: ignore[arg-type]

    def group_task(self, group: str, jobs: list[Job]) -> Task:
        """The jobs of one Snakemake group, run one after the other in one pod."""
        first = jobs[0]
        rule = self.plan.rules[first.rule]
        # The job program once, in a variable; each job runs it with its own arguments.
        lines = ["set -e", f"JOB={shlex.quote(JOB_SCRIPT)}"]
        for job in jobs:
            argv = [str(part) for part in (p[0] if len(p) == 1 else "".join(str(x) for x in p)
                                           for p in self.command(job, lambda n: text(""), set()))]
            lines.append('/bin/sh -c "$JOB" ' + " ".join(shlex.quote(a) for a in argv[3:]))
        images = {self.image(j) for j in jobs}
        if len(images) > 1:
            self.warn("AM204", rule, f"group {group}: its jobs name different images ({', '.join(sorted(images))}); "
                      "the pod uses the first")
        fields = self.job_task_fields(first)
        # One job at a time: the pod needs the most any job needs, and the sum of their time limits.
        each = [self.resources(j) for j in jobs]
        requests = [r for r, _ in each if r is not None]
        fields["resources"] = Resources(
            cpu=_most([r.cpu for r in requests]), memory=_most([r.memory for r in requests]),
            ephemeral_storage=_most([r.ephemeral_storage for r in requests]),
            gpu=max((r.gpu for r in requests if r.gpu), default=None)) if requests else None
        limits = [t for _, t in each]
        fields["timeout_seconds"] = sum(t for t in limits if t) if limits and all(limits) else None
        fields["construct"] = "group"
        action = ContainerRun(sorted(images)[0] if len(images) > 1 else images.pop(),
                              (text("/bin/sh"), text("-c"), text("\n".join(lines) + "\n")), in_workspace=True)
        return Task(f"group-{_slug(group)}", action=action, jobs=tuple(j.key for j in jobs), **fields)  # type: ignore[arg-type]


def _most(values: list[str | None]) -> str | None:
    """The largest of quantities written as an integer with an optional unit suffix of one kind (``3``, ``1500M``)."""
    known = [v for v in values if v]
    return max(known, key=lambda v: int("".join(c for c in v if c.isdigit()) or 0)) if known else None


def _target(job: Job) -> str:
    """The job as Snakemake's --target-jobs names it: RULE:WILDCARD=VALUE,..."""
    return job.rule + (":" + ",".join(f"{k}={v}" for k, v in job.wildcards) if job.wildcards else "")


def _slug(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", value).strip("-").lower() or "x"


@functools.lru_cache(maxsize=256)  # one rule's shell text, asked for by each of its jobs
def _field_names(parts: tuple[object, ...]) -> tuple[str, ...]:
    """A parameter name for each replacement field (``input.counts`` → ``input-counts``), unique in the rule."""
    names: list[str] = []
    for part in parts:
        if isinstance(part, str):
            continue
        assert isinstance(part, tuple)
        base = _slug(part[0]) or "field"
        name, n = base, 1
        while name in names or name in ("outputs", "touch", "protected", "logs", "benchmark", "command"):
            n += 1
            name = f"{base}-{n}"
        names.append(name)
    return tuple(names)


def _join(parts: list[object]) -> Text:
    """Adjacent literals merged."""
    out: list[object] = []
    for part in parts:
        if isinstance(part, str) and out and isinstance(out[-1], str):
            out[-1] = out[-1] + part
        elif part != "":
            out.append(part)
    return tuple(out)  # type: ignore[arg-type]


def build(plan: Plan, options: BuildOptions) -> tuple[Workflow, list[Diagnostic]]:
    shown = options.source
    workflow = Workflow(id=options.workflow_id, origin=SourceLoc(shown, 1, 1),
                        description=f"Snakemake workflow {shown} (planned by Snakemake {plan.version})")
    b = _Builder(plan, options, workflow)
    jobs = plan.jobs
    _report_globs(b)
    for job in jobs:
        b.notes(job)

    # Whole-workflow integration: forced, or a construct the job DAG cannot express.
    rules_by_kind = {r.name for r in plan.rules.values() if r.checkpoint}
    piped = [j for j in jobs if any(f.flagged("pipe") for f in j.output)]
    reason = None
    if rules_by_kind:
        rule = plan.rules[sorted(rules_by_kind)[0]]
        reason = f"checkpoint {rule.name}: the jobs after it are only known once it has run"
        b.warn("AM203", rule, f"{reason}; the whole workflow is run by Snakemake in {_where(options)}")
    elif piped:
        rule = plan.rules[piped[0].rule]
        reason = f"pipe() output of rule {rule.name}: jobs joined by a pipe must run at the same time"
        b.warn("AM205", rule, f"{reason}; the whole workflow is run by Snakemake in {_where(options)}")
    elif options.strategy == "integrate":
        reason = "--strategy integrate"
    artifacts = options.storage == "artifacts"
    if artifacts:
        needs_volume = reason or next((f"rule {j.rule} runs with Snakemake in its pod" for j in jobs
                                       if not b.native(j)), None)
        if needs_volume:
            o = workflow.origin
            b.diagnostics.append(diag("AM208", o.path, o.line, o.column,
                                      f"{needs_volume}, which needs the shared workspace volume: use --storage volume"))
            return Workflow(id=options.workflow_id, origin=workflow.origin), b.diagnostics
    if reason is not None:
        _whole(b, reason)
        return workflow, b.diagnostics

    produced = {f.path: j.key for j in jobs for f in j.output}
    raw: list[str] = sorted({f.path for j in jobs for f in j.input if f.path not in produced})

    # Snakemake groups: the connected jobs of a group share one pod, as Snakemake bundles them (one group job per
    # connected component: --group-components 1); only shell jobs, others keep their own pods.
    by_name: dict[str, list[Job]] = {}
    for job in jobs:
        if job.group is not None and b.native(job) and plan.rules[job.rule].kind == "shell":
            by_name.setdefault(job.group, []).append(job)
    grouped: dict[str, list[Job]] = {}
    for g, js in by_name.items():
        keys = {j.key for j in js}
        inside = nx.DiGraph([(u, v) for u, v in plan.edges if u in keys and v in keys])
        inside.add_nodes_from(keys)
        rank = {j.key: i for i, j in enumerate(js)}
        parts = sorted((c for c in nx.weakly_connected_components(inside) if len(c) > 1),
                       key=lambda c: min(rank[k] for k in c))
        whole = nx.DiGraph(plan.edges)
        for part in [p for p in parts if not _convex(whole, p)]:
            # A job outside the group between two of its jobs: one pod would wait for itself. Snakemake refuses
            # such a group under a cluster executor (DAG.validate_group); the jobs keep their own pods.
            parts.remove(part)
            b.warn("AM204", plan.rules[plan.by_key[min(part, key=rank.__getitem__)].rule],
                   f"group {g}: jobs outside the group run between its jobs; they are not run in one pod")
        for i, part in enumerate(parts):
            # The pod runs the jobs in list order: Snakemake's job ids are not a topological order.
            order = nx.lexicographical_topological_sort(inside.subgraph(part), key=rank.__getitem__)
            grouped[g if len(parts) == 1 else f"{g}-{i + 1}"] = [plan.by_key[k] for k in order]
    grouped = {g: js for g, js in grouped.items() if not artifacts}
    in_group = {j.key: g for g, js in grouped.items() for j in js}

    jobs_of: dict[str, list[Job]] = {}
    for job in jobs:
        jobs_of.setdefault(job.rule, []).append(job)
    varying: dict[str, set[str]] = {}
    for rule_name in plan.rules:
        rule_jobs = jobs_of.get(rule_name, [])
        names = [n for n, _ in b.values(rule_jobs[0])] if rule_jobs else []
        seen: dict[str, set[str]] = {n: set() for n in names}
        for j in rule_jobs:
            for n, v in b.values(j):
                seen.setdefault(n, set()).add(v)
        varying[rule_name] = {n for n, vs in seen.items() if len(vs) > 1}

    free = [(j.key, j.rule) for j in jobs if j.key not in in_group]
    free_keys = {k for k, _ in free}
    edges = [(u, v) for u, v in plan.edges if u in free_keys and v in free_keys]
    # With artifacts every job passes its own files (a port's path is fixed): no fan-out.
    units = [Single(k) for k, _ in free] if artifacts else \
        plan_units(free, edges, lambda k: (b.uniform(k), b.native(plan.by_key[k])))
    raw_port = {p: f"raw-{i}" for i, p in enumerate(_relative(raw))}
    out_port = {f.path: (j.key, f"out-{k}") for j in jobs for k, f in enumerate(j.output)}

    for unit in units:
        if isinstance(unit, Single):
            job = plan.by_key[unit.job]
            task = b.shell_task([job], job.key, None, None, varying[job.rule]) if b.native(job) \
                else b.wrapped(job, job.key)
            if artifacts:
                task = _with_files(task, job, raw_port, out_port)
            workflow.add_task(task)
            b.job_task[job.key] = task.id
        elif isinstance(unit, RuleLoop):
            group_jobs = [plan.by_key[k] for k in unit.jobs]
            first = group_jobs[0]
            if not b.native(first):
                for job in group_jobs:  # wrapped jobs stay one task each (their payload names the job)
                    task = b.wrapped(job, job.key)
                    workflow.add_task(task)
                    b.job_task[job.key] = task.id
                continue
            rows = [{n: v for n, v in b.values(j) if n in varying[unit.rule]} for j in group_jobs]
            items, spelled = spell_items(rows, [dict(j.wildcards) for j in group_jobs])
            task = b.shell_task(group_jobs, unit.rule, spelled, None, varying[unit.rule])
            task = _replace(task, loop=Loop(items=items), jobs=unit.jobs)
            workflow.add_task(task)
            for k in unit.jobs:
                b.job_task[k] = task.id
        else:
            _lane_group(b, unit, varying)

    for g, group_jobs in sorted(grouped.items()):
        task = b.group_task(g, group_jobs)
        workflow.add_task(task)
        for j in group_jobs:
            b.job_task[j.key] = task.id

    for u, v in plan.edges:
        tu, tv = b.job_task[u], b.job_task[v]
        if tu != tv:
            workflow.add_edge(tu, tv)

    _stage(b, raw, produced, out_port if artifacts else None)
    return workflow, b.diagnostics


def _convex(graph: nx.DiGraph, part: set[str]) -> bool:
    """No path leaves ``part`` and comes back into it."""
    below = set().union(*(nx.descendants(graph, k) for k in part)) - part
    return not any(part & nx.descendants(graph, k) for k in below)


def _relative(paths: list[str]) -> list[str]:
    return [p for p in paths if not PurePosixPath(p).is_absolute() and ".." not in PurePosixPath(p).parts]


def _with_files(task: Task, job: Job, raw_port: dict[str, str], out_port: dict[str, tuple[str, str]]) -> Task:
    """The job's files as ports (``--storage artifacts``): each input bound to the output of the job that writes it
    (or of ``stage-in``), each output, log and benchmark kept as an artifact at its path in the workspace."""
    inputs, arguments = list(task.inputs), list(task.arguments)
    for i, f in enumerate(job.input):
        ref = OutputRef(*out_port[f.path]) if f.path in out_port else \
            OutputRef(STAGE_IN, raw_port[f.path]) if f.path in raw_port else None
        if ref is None:
            continue  # an absolute path: expected in every pod (AM206)
        inputs.append(Port(f"in-{i}", DIRECTORY if f.flagged("directory") else FILE, path=f.path))
        arguments.append((f"in-{i}", (ref,)))
    outputs = [Port(f"out-{k}", DIRECTORY if f.flagged("directory") else FILE, path=f.path)
               for k, f in enumerate(job.output)]
    outputs += [Port(f"log-{k}", FILE, path=p) for k, p in enumerate(job.log)]
    if job.benchmark:
        outputs.append(Port("benchmark", FILE, path=job.benchmark))
    return _replace(task, inputs=tuple(inputs), arguments=tuple(arguments), outputs=tuple(outputs))


def _report_globs(b: _Builder) -> None:
    """What ``glob_wildcards`` found when Snakemake planned: the samples of a workflow that discovers them from files
    are those of this machine (or of the --stub-files listing), which may not be the cluster's."""
    o = b.workflow.origin
    if b.plan.files_decided:
        b.diagnostics.append(diag("AM211", o.path, o.line, o.column,
                                  "without the input files several rules could make one file; planned as "
                                  "`snakemake -n` does, with this machine's files choosing the rule: the cluster's "
                                  "files must be the same (or pass their listing with --stub-files)"))
    where = "the --stub-files listing" if b.options.stubbed else "this machine's files"
    for pattern, matches in b.plan.globbed:
        if matches:
            b.diagnostics.append(diag("AM209", o.path, o.line, o.column,
                                      f"glob_wildcards({pattern!r}) matched {matches} file(s) in {where}; the "
                                      "workflow's jobs are planned for those"))
        else:
            b.diagnostics.append(diag("AM210", o.path, o.line, o.column,
                                      f"glob_wildcards({pattern!r}) matched nothing in {where}: if the data lives "
                                      "on the cluster, pass its listing with --stub-files"))


def _replace(task: Task, **changes: object) -> Task:
    from dataclasses import replace

    return replace(task, **changes)  # type: ignore[arg-type]


def _lane_group(b: _Builder, unit: LaneGroup, varying: dict[str, set[str]]) -> None:
    plan, workflow = b.plan, b.workflow
    gid = "lanes-" + "-".join(unit.rules)
    rule0 = plan.rules[unit.rules[0]]
    rows, wildcards = [], []
    for lane in unit.lanes:
        item: dict[str, str] = {}
        lane_wildcards: dict[str, str] = {}
        clash: set[str] = set()  # a wildcard name the lane's jobs give different values
        for key in lane:
            job = plan.by_key[key]
            item.update({f"{job.rule}.{n}": v for n, v in b.values(job) if n in varying[job.rule]})
            if not b.native(job):
                item[f"{job.rule}.target"] = _target(job)
            for n, v in job.wildcards:
                if lane_wildcards.setdefault(n, v) != v:
                    clash.add(n)
        rows.append(item)
        wildcards.append({n: v for n, v in lane_wildcards.items() if n not in clash})
    items, spelled = spell_items(rows, wildcards)
    workflow.groups[gid] = Group(gid, b.origin(rule0), label=" → ".join(unit.rules), loop=Loop(items=items))
    for i, rule_name in enumerate(unit.rules):
        jobs = [plan.by_key[lane[i]] for lane in unit.lanes]
        keys = {n: spelled[f"{rule_name}.{n}"] for n in varying[rule_name]}
        if b.native(jobs[0]):
            task = b.shell_task(jobs, rule_name, keys, gid, varying[rule_name])
        else:  # a wrapped rule inside a lane: the item names the job (its wildcards)
            task = b.wrapped(jobs[0], rule_name)
            assert isinstance(task.action, WrappedAction)
            payload = tuple((k, "" if k == "target" else v) for k, v in task.action.payload)
            task = _replace(task, group=gid, action=WrappedAction(task.action.engine, payload),
                            inputs=(Port("target", STRING),),
                            arguments=(("target", spelled[f"{rule_name}.target"]),))
        workflow.add_task(_replace(task, jobs=tuple(j.key for j in jobs)))
        for j in jobs:
            b.job_task[j.key] = rule_name


def _whole(b: _Builder, reason: str) -> None:
    """The whole workflow run by Snakemake in one pod (engine-in-pod), or in one SLURM job (slurm-job, with
    ``--slurm-host``), between Init and Finalize."""
    plan, workflow = b.plan, b.workflow
    produced = {f.path: j.key for j in plan.jobs for f in j.output}
    raw = sorted({f.path for j in plan.jobs for f in j.input if f.path not in produced
                  and not f.flagged("checkpoint_target")})
    targets = " ".join(shlex.quote(t) for t in b.options.targets)
    cores = _cores(plan)
    payload = (("engine", "snakemake"), ("file", b.options.source_rel), ("targets", targets),
               ("configfiles", " ".join(b.options.configfiles)),
               ("config", " ".join(f"{k}={v}" for k, v in b.options.config)), ("cores", str(cores)))
    origin = workflow.origin
    action, status = WrappedAction("engine-in-pod", payload), WrappedStatus("engine-in-pod", reason)
    if b.options.slurm is not None:
        action, status = _on_slurm(b, b.options.slurm, cores, reason)
    workflow.add_task(Task("snakemake", origin, "workflow", action, status=status,
                           jobs=tuple(j.key for j in plan.jobs),
                           doc="the whole workflow, run by Snakemake"))
    for j in plan.jobs:
        b.job_task[j.key] = "snakemake"
    _stage(b, raw, produced)


def _where(options: BuildOptions) -> str:
    return f"a SLURM job on {options.slurm.host}" if options.slurm is not None else "one pod"


def _on_slurm(b: _Builder, login: SlurmLogin, cores: int, reason: str) -> tuple[WrappedAction, WrappedStatus]:
    """The whole workflow as one SLURM batch job running Snakemake on the cluster (see frontends/snakemake/slurm.py)."""
    o = b.options
    script = job_script(o.source_rel, o.targets, o.configfiles, o.config, cores, login.setup)
    # `file` (the Snakefile, as the bundle lays it out) asks for the sources' bundle; the wrapper ignores it.
    return (WrappedAction("slurm-job", (("file", o.source_rel), *slurm_payload(login, script, o.workflow_id))),
            WrappedStatus("slurm-job", f"{reason}; Snakemake runs the whole workflow in a SLURM job on {login.host}"))


def _cores(plan: Plan) -> int:
    """Enough cores for Snakemake to run the widest job, and the jobs joined by pipes at once (it refuses to start
    a pipe group whose threads add up to more than ``--cores``)."""
    piped = {f.path for j in plan.jobs for f in j.output if f.flagged("pipe")}
    joined = nx.Graph()
    joined.add_nodes_from(j.key for j in plan.jobs)
    for job in plan.jobs:
        for f in job.input:
            if f.path in piped:
                joined.add_edges_from((u, job.key) for u, v in plan.edges if v == job.key
                                      and any(o.path == f.path for o in plan.by_key[u].output))
    widths = [sum(max(plan.by_key[k].threads, 1) for k in part) for part in nx.connected_components(joined)]
    return max(widths, default=1)


def _whole_folders(relative: list[str], produced: dict[str, str]) -> dict[str, int]:
    """The folders staged whole (→ their number of raw inputs): at least STAGE_FOLDER_MIN raw inputs directly in
    the folder, and nothing else under it that the workflow reads or writes (a subfolder of raw inputs, an output)."""
    count: dict[str, int] = {}
    for p in relative:
        folder = posixpath.dirname(p)
        count[folder] = count.get(folder, 0) + 1
    folders = {f: n for f, n in count.items() if f and n >= STAGE_FOLDER_MIN}
    for path in [*relative, *produced]:
        parent = posixpath.dirname(path)
        for f in [f for f in folders if path.startswith(f + "/") and (parent != f or path in produced)]:
            del folders[f]
    return folders


def _stage(b: _Builder, raw: list[str], produced: dict[str, str],
           out_port: dict[str, tuple[str, str]] | None = None) -> None:
    """Init brings the raw inputs into the workspace (from the artifact repository, keyed by their path), Finalize
    keeps the targets: the outputs of the jobs nothing waits for (for a target rule without outputs, its inputs)."""
    plan, workflow = b.plan, b.workflow
    origin = workflow.origin
    relative = _relative(raw)
    staged = set(relative)
    absolute = [p for p in raw if p not in staged]
    if absolute:
        b.diagnostics.append(diag("AM206", origin.path, origin.line, origin.column,
                                  f"{len(absolute)} raw input(s) outside the workflow's folder are expected at the "
                                  f"same path in every pod (not staged): {', '.join(absolute[:5])}"
                                  + (" …" if len(absolute) > 5 else "")))
    if relative:
        # With artifacts each job is bound to its own raw file's port: no folder there.
        folders = _whole_folders(relative, produced) if out_port is None else {}
        entries = sorted({*(p for p in relative if posixpath.dirname(p) not in folders), *folders})
        ports = tuple(Port(f"raw-{i}", DIRECTORY if p in folders else FILE, path=p, default=p)
                      for i, p in enumerate(entries))
        workflow.add_task(Task(STAGE_IN, origin, "stage-in", Stage("in"), outputs=ports,
                               doc="the workflow's raw inputs, from the artifact repository (key: their path)"))
        whole = "".join(f"; folder {f} is staged whole ({n} raw inputs, one key)" for f, n in sorted(folders.items()))
        b.diagnostics.append(diag("AM206", origin.path, origin.line, origin.column,
                                  f"{len(relative)} raw input file(s) are staged in from the artifact repository, "
                                  f"keyed by their path: {', '.join(relative[:5])}" + (" …" if len(relative) > 5
                                                                                        else "") + whole))
        readers = {b.job_task[j.key] for j in plan.jobs if any(f.path in staged for f in j.input)}
        for reader in sorted(readers):
            workflow.add_edge(STAGE_IN, reader)
    downstream = {u for u, _ in plan.edges}
    sinks = [j for j in plan.jobs if j.key not in downstream]
    targets: list[tuple[str, bool]] = []
    for job in sinks:
        files = job.output or tuple(f for f in job.input if f.path in produced)
        targets.extend((f.path, f.flagged("directory")) for f in files)
    targets = sorted(set(targets))
    if not targets:
        return
    inputs = tuple(Port(f"target-{i}", DIRECTORY if is_dir else FILE, path=p)
                   for i, (p, is_dir) in enumerate(targets))
    # With artifacts, Finalize is passed each target by the job that wrote it; with the volume it copies them.
    # (the volume's copy names the file by its path, which it is passed as).
    arguments = tuple((port.name, (OutputRef(*out_port[port.path]),) if out_port is not None and port.path in out_port
                       else text(port.path or "")) for port in inputs)
    workflow.add_task(Task(STAGE_OUT, origin, "stage-out", Stage("out"), inputs=inputs, arguments=arguments,
                           doc="the workflow's targets, kept in the artifact repository"))
    for job in sinks:
        task = b.job_task[job.key]
        workflow.add_edge(task, STAGE_OUT)


__all__ = ["BuildOptions", "build", "DEFAULT_IMAGE", "OutputRef"]
