"""Every diagnostic code, its severity and its documentation: the source of ``argo-migrate explain``.

Codes are stable once released. Groups: AM0xx input and output, AM1xx Airflow, AM2xx Snakemake, AM3xx CWL,
AM4xx backend, AM5xx wrappers, AM9xx internal errors (bugs of ours).
"""

from __future__ import annotations

from dataclasses import dataclass

from migrator.diagnostics import Severity


@dataclass(frozen=True)
class Code:
    code: str
    severity: Severity
    title: str
    doc: str


_E, _W, _I = Severity.ERROR, Severity.WARNING, Severity.INFO

_ROWS = [
    Code("AM001", _E, "path does not exist", "An input path named on the command line does not exist."),
    Code("AM002", _E, "unreadable input",
         "The file is binary, not UTF-8, cannot be read, or is not a regular file (a named pipe, a device)."),
    Code("AM003", _E, "output not writable",
         "The output folder cannot be created or written; nothing was written for this input."),
    Code("AM004", _W, "duplicate workflow name",
         "Two sources produce the same workflow name; the later one gets a numbered suffix."),
    Code("AM005", _W, "name sanitised",
         "A source id was not a valid Argo/DNS-1123 name (or would leave the output folder) and was rewritten."),
    Code("AM006", _W, "no input files", "A folder named on the command line holds no file of the source language."),
    Code("AM007", _W, "empty workflow",
         "The source defines a workflow without any task (or none could be seen); Argo needs at least one, so "
         "nothing is written for it."),
    Code("AM100", _E, "syntax error", "The DAG file is not valid Python; it is not migrated."),
    Code("AM101", _W, "no DAG found",
         "The file defines no DAG that can be found without executing it (nothing to migrate)."),
    Code("AM102", _W, "unsupported operator",
         "The operator has no translation yet; the task runs the original operator with Airflow in a pod."),
    Code("AM103", _W, "dynamic value",
         "A value depends on run-time data (a call, a variable, the environment) and cannot be evaluated statically."),
    Code("AM104", _E, "unknown task reference", "A dependency names something that is not a task of this DAG."),
    Code("AM105", _E, "dependency cycle", "The dependencies form a cycle; Airflow rejects this DAG too."),
    Code("AM106", _E, "duplicate task_id", "Two tasks in one DAG have the same task_id; Airflow rejects this DAG."),
    Code("AM107", _W, "task outside any DAG", "An operator is created with no DAG context and no dag=; it is ignored."),
    Code("AM108", _W, "unsupported schedule",
         "The schedule is not a cron string or preset (a timedelta, timetable or asset); no CronWorkflow is made."),
    Code("AM109", _W, "argument splat",
         "Operator arguments come from a **kwargs splat that cannot be evaluated; the task is wrapped."),
    Code("AM110", _I, "argument not translated",
         "An operator or DAG argument has no Argo equivalent yet and is left out of the manifest."),
    Code("AM111", _W, "untranslated Jinja",
         "A templated field uses Jinja that has no Argo translation yet; the task is wrapped so that raw "
         "templates never reach a container."),
    Code("AM112", _W, "callable not found",
         "A python_callable is not a function defined at module level in the same file; the task is wrapped."),
    Code("AM113", _W, "Airflow context used",
         "A Python callable reads the Airflow task context (ti, ds, **context...); the task is wrapped."),
    Code("AM114", _I, "catchup not reproduced", "CronWorkflows do not backfill missed runs as catchup=True does."),
    Code("AM115", _W, "unsupported construct",
         "A statement or call that builds the DAG is not understood; tasks it would create may be missing."),
    Code("AM116", _W, "kind not applicable", "The requested --kind does not fit this workflow; another was chosen."),
    Code("AM117", _W, "unsupported output reference",
         "A task consumes an output that only Python tasks produce natively; the value is not passed."),
    Code("AM118", _I, "Airflow context rebuilt",
         "The callable reads the Airflow task context; the script rebuilds the part it uses (dates, run id, "
         "params, dag_run.conf, xcom_pull of upstream outputs, xcom_push) from the Argo run."),
    Code("AM119", _W, "approximated",
         "The construct is translated with a documented difference from Airflow (the message says which)."),
    Code("AM120", _I, "nothing to do in Argo",
         "The operator only steers Airflow itself (or waits for a person); the migrated step does the Argo "
         "equivalent, which may be nothing."),
    Code("AM122", _W, "operator plugin failed to load",
         "A package registered rows under the argo_migrate.operators entry point, but they could not be loaded."),
    Code("AM123", _W, "optional import assumed available",
         "A try/except ImportError builds DAGs when a module is importable; argo-migrate assumes it is, so DAGs "
         "that Airflow builds only without the module (or only with it, on a machine lacking it) may differ."),
    Code("AM124", _E, "not migratable natively",
         "With --strategy migrate, a workflow with any task that has no native translation is not written."),
    Code("AM125", _W, "cannot integrate",
         "The integration strategy was asked for, but the source engine offers no way to run this workflow whole."),
    Code("AM126", _E, "evaluation budget exceeded",
         "Evaluating the file statically needs more steps than the evaluator allows (a huge loop, a recursion); "
         "the file is not migrated rather than migrated in part."),
    Code("AM128", _E, "not supported by the backend yet",
         "The workflow needs something the Argo backend cannot write yet (the message says what, and what to use "
         "instead); it is not written rather than written wrong."),
    Code("AM121", _W, "credential replaced by a Secret reference",
         "A value that looks like a credential was not copied into the manifest; it is read from a Kubernetes "
         "Secret that you must create."),
    Code("AM200", _E, "Snakemake refused the workflow",
         "Snakemake's own parser or planner stopped with an error (a syntax error, a missing include, a cyclic or "
         "ambiguous rule graph, a missing config key, an impossible target, a module the Snakefile imports that "
         "is not installed…); the message is Snakemake's, at the position it gives. Nothing is written for it."),
    Code("AM201", _E, "Snakemake planning timed out",
         "Parsing and planning the workflow did not finish within --parse-timeout seconds (a Snakefile that "
         "never terminates, or waits for input); Snakemake's process was stopped and nothing is written."),
    Code("AM202", _W, "job wrapped",
         "The rule needs Snakemake's runtime (a run:, script:, notebook: or wrapper: block, a conda environment, "
         "environment modules): each of its jobs runs with Snakemake in its pod (the snakemake-job wrapper), "
         "the workflow's sources shipped beside the manifest."),
    Code("AM203", _W, "checkpoint: whole workflow wrapped",
         "A checkpoint makes the job DAG depend on what the checkpoint produces, so it cannot be compiled ahead: "
         "the whole workflow is run by Snakemake in one pod (engine-in-pod), between staging in and out."),
    Code("AM204", _W, "approximated directive",
         "A directive is translated with a difference the message names (temp files kept until the run ends, a "
         "benchmark with wall-clock time only, a priority or shadow dropped, a local rule in a pod)."),
    Code("AM205", _W, "pipe: whole workflow wrapped",
         "Jobs joined by a pipe() must run at the same time in one place: the whole workflow is run by Snakemake "
         "in one pod."),
    Code("AM206", _I, "raw inputs expected on the cluster",
         "The files the workflow reads but no job writes: staged in from the artifact repository (keyed by their "
         "path), or, for paths outside the workflow's folder, expected at that path in every pod."),
    Code("AM207", _W, "resource not requested",
         "A Snakemake resource has no Kubernetes counterpart, or is only known when the job runs; the pod does "
         "not request it."),
    Code("AM208", _E, "needs the workspace volume",
         "With --storage artifacts every job passes its files as artifacts; a job Snakemake runs in its pod (a "
         "wrapped rule, a whole workflow) needs the shared workspace volume instead. Nothing is written: use "
         "--storage volume."),
    Code("AM209", _I, "glob_wildcards matched files",
         "The Snakefile discovers inputs with glob_wildcards; the job DAG is planned for the files it matched on this "
         "machine (or in the --stub-files listing): check they are the cluster's."),
    Code("AM210", _W, "glob_wildcards matched nothing",
         "A glob_wildcards call found no file when Snakemake planned, so the jobs it would drive are missing. When "
         "the data lives on the cluster, pass a listing of its files with --stub-files."),
    Code("AM211", _W, "rule chosen by this machine's files",
         "Planned without its input files the workflow was ambiguous (two rules can make one file, and Snakemake "
         "picks the one whose inputs exist); it was planned again as `snakemake -n` does, with the files here "
         "deciding. The cluster's files must lead to the same choice; --stub-files with their listing makes sure."),
    Code("AM401", _E, "workflow too large", "The manifest exceeds Argo's object size or task-count limits."),
    # AM402-AM422: `argo-migrate lint` (backends/argo/lint/; each semantic rule documents itself in rules/).
    Code("AM402", _E, "invalid YAML",
         "The file is not valid YAML or JSON (syntax error, unknown tag, recursive or exploding aliases, nesting "
         "too deep, an integer too long to read), or a document in it is not a mapping."),
    Code("AM403", _E, "unknown kind",
         "A document has no kind or apiVersion, names an argoproj.io kind that does not exist, or a kind that "
         "looks like a misspelt Workflow kind. Workflow, WorkflowTemplate, ClusterWorkflowTemplate and "
         "CronWorkflow are checked; apiVersion must be argoproj.io/v1alpha1."),
    Code("AM404", _I, "kind not checked",
         "The document is a Kubernetes object that is not a workflow (a ConfigMap, a WorkflowEventBinding...); "
         "lint skips it."),
    Code("AM405", _E, "unknown field",
         "A field that Argo's API (as Hera's generated models describe it) does not have, usually a typo such as "
         "`dependecies`. Argo would drop it silently; `argo lint` rejects it."),
    Code("AM406", _W, "field newer than Hera's models",
         "The field exists in a newer Argo release than the one Hera's models were generated from; its content is "
         "not checked. Not an error: Argo accepts it."),
    Code("AM407", _E, "invalid field value",
         "A field has the wrong type (a string where Argo wants an integer...), a required field is missing, or "
         "apiVersion is not argoproj.io/v1alpha1."),
    Code("AM408", _E, "invalid name",
         "A name breaks Argo's rules: metadata.name a DNS-1123 subdomain of at most 63 characters (52 for a "
         "CronWorkflow); template, task and step names `[a-zA-Z0-9][-a-zA-Z0-9]*` of at most 128 characters, not "
         "starting with a digit in a DAG that uses depends or dependencies; parameter and artifact names "
         "`[-a-zA-Z0-9_]+`."),
    Code("AM409", _E, "duplicate name",
         "Two templates, two tasks of one DAG, two steps of one template, or two parameters or artifacts of one "
         "list have the same name."),
    Code("AM410", _E, "undefined template",
         "A template, templateRef, entrypoint, onExit or hook names a template that does not exist (templateRefs "
         "are checked when the referenced WorkflowTemplate is among the files linted), or a Workflow has no "
         "entrypoint."),
    Code("AM411", _E, "conflicting dependency fields",
         "One DAG template uses both `depends` and `dependencies`, or `continueOn` together with `depends` (use "
         "`task.Failed` / `task.Errored` instead)."),
    Code("AM412", _E, "invalid depends expression",
         "A `depends` expression does not parse (operators are &&, || and !, with parentheses) or uses a task "
         "result other than Succeeded, Failed, Errored, Skipped, Omitted, Daemoned, AnySucceeded, AllFailed."),
    Code("AM413", _E, "unknown dependency",
         "`depends`, `dependencies` or the DAG's `target` names a task that is not in the DAG."),
    Code("AM414", _E, "dependency cycle", "The tasks of a DAG template depend on each other in a cycle."),
    Code("AM415", _E, "fan-out result on a single task",
         "`.AnySucceeded` or `.AllFailed` is used on a task without withItems, withParam or withSequence."),
    Code("AM416", _E, "reference to a non-ancestor task",
         "`{{tasks.x...}}` names a task that is not an ancestor (through depends/dependencies) of the task using "
         "it, or is not a task of the DAG at all; Argo cannot resolve it."),
    Code("AM417", _E, "unresolved parameter",
         "`{{inputs.parameters.x}}` names no input parameter of its template, or `{{workflow.parameters.x}}` no "
         "parameter of the Workflow's spec.arguments."),
    Code("AM418", _W, "undeclared workflow parameter",
         "A WorkflowTemplate uses `{{workflow.parameters.x}}` without declaring x in spec.arguments: it resolves "
         "only if the Workflow that runs the template supplies it."),
    Code("AM419", _E, "invalid loop",
         "withItems, withParam and withSequence are combined, withSequence has both count and end, a literal "
         "withParam is not a JSON list, or `{{item...}}` is used where no loop provides it."),
    Code("AM420", _E, "invalid template type",
         "A template has none, or more than one, of container, containerSet, script, resource, dag, steps, "
         "suspend, data, http, plugin."),
    Code("AM421", _W, "duplicate YAML key",
         "A mapping has the same key twice; like Kubernetes, lint keeps the last value, but the first is lost."),
    Code("AM422", _E, "invalid CronWorkflow schedule",
         "A CronWorkflow has no schedule, a schedule that is not a 5-field cron expression or @descriptor, an "
         "unknown timezone or concurrencyPolicy, or a negative startingDeadlineSeconds."),
    Code("AM501", _I, "wrapped with the original engine", "The task runs its original engine from an Argo step."),
    Code("AM502", _I, "wrapper image chosen",
         "Which image a wrapper runs in and why: for Airflow tasks, the Airflow major version the DAG file is "
         "written for (from its imports and DAG arguments), or --airflow-image."),
    Code("AM503", _I, "cluster objects the wrapped tasks need",
         "The Secrets and ConfigMaps the wrapped tasks read (Airflow Connections, Variables, the DAG folder); "
         "create them in the workflow's namespace. Only what the source names literally is listed."),
    Code("AM504", _W, "file not shipped with the wrapped tasks",
         "A file the wrapped tasks import could not be put into the DAG folder ConfigMap (unreadable, too large, or "
         "holding what looks like a credential); the message says which and why."),
    Code("AM901", _E, "internal error", "A bug in argo-migrate; please report it with the input file."),
    Code("AM902", _E, "invariant violated", "A frontend or pass produced an inconsistent IR (a bug of ours)."),
    Code("AM903", _E, "invalid output", "The manifest written did not validate (a bug of ours)."),
]

CODES: dict[str, Code] = {row.code: row for row in _ROWS}
