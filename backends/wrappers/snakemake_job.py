"""The snakemake-job wrapper: exactly one job of a Snakemake workflow, run by Snakemake in a pod.

What Snakemake's own Kubernetes executor does for every job, kept for the jobs argo-migrate cannot run as a plain
command (``run:``, ``script:``, ``notebook:``, ``wrapper:``, conda, environment modules): the pod runs
``snakemake --target-jobs RULE:WILDCARD=VALUE,... --allowed-rules RULE --force --nolock --notemp --no-hooks --mode
subprocess`` in the workflow's folder on the shared volume, so Snakemake plans a DAG of that one job (its inputs
are already there, made by the steps before it) and runs it with its own runtime.

The workflow's sources come from the ConfigMap argo-migrate writes beside the manifests (see
:mod:`migrator.source_bundle`), mounted at :data:`SOURCES`; ``programs/unpack_sources.py`` lays them out in the
workflow's folder before Snakemake starts (files already there are kept), which is where Snakemake's own source
deployment puts them: the Snakefile's ``script:``/``include:`` paths resolve beside it, ``configfile:`` and sample
sheets relative to the working directory.

The workspace volume (``workspace``, mounted at /workspace) is the calling workflow's: a migrated Workflow has a
``volumeClaimTemplate`` of that name. Submitted on its own, this WorkflowTemplate mounts the PVC named by ``pvc``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from backends.wrappers import WrapperOptions
from backends.wrappers.catalogue import (
    Param,
    WrapperDoc,
    base_template,
    inputs_of,
    param_env,
    program,
    template_name,
)
from migrator.ir import Wrapped

ENGINE = "snakemake-job"
MOUNT = "/workspace"
SOURCES = "/etc/argo-migrate/sources"
IMAGE = "snakemake/snakemake:v9.27.1"  # the Snakemake the frontend plans with (pinned in the test extra)
SDM = ("", "conda", "env-modules")

DOC = WrapperDoc(
    engine=ENGINE,
    summary="Run exactly one job of a Snakemake workflow with Snakemake in a pod, as Snakemake's own Kubernetes "
            "executor does (--target-jobs, --allowed-rules, --force, --nolock, --notemp, --mode subprocess), in the "
            "workflow's folder on the shared volume `workspace` (mounted at /workspace); the workflow's sources "
            "come from the ConfigMap argo-migrate writes beside the manifests. The step fails when the job fails.",
    parameters=(
        Param("file", "the Snakefile, relative to the workflow's folder (as in the source bundle)"),
        Param("rule", "the job's rule (--allowed-rules); empty: the target's", ""),
        Param("target", "the job: RULE:WILDCARD=VALUE,... (Snakemake's --target-jobs)"),
        Param("cores", "--cores (the job's threads)", "1"),
        Param("sdm", "Snakemake's --sdm: empty, conda or env-modules (the image must provide conda or the "
              "`module` command)", ""),
        Param("configfiles", "--configfiles, relative to the workflow's folder, separated by blanks", ""),
        Param("config", "--config KEY=VALUE words, separated by blanks", ""),
        Param("args", "more Snakemake arguments, separated by blanks (no quoting, no globbing)", ""),
        Param("directory", "the workflow's folder, relative to the volume: the sources are laid out and the job "
              "runs there", "."),
        Param("sources", "the ConfigMap holding the workflow's sources as argo-migrate writes them (files under "
              "flat keys and argo-migrate-index.json), mounted at " + SOURCES, "argo-migrate-dags"),
        Param("image", "the image, with Snakemake and what the job runs", IMAGE),
        Param("pvc", "the PersistentVolumeClaim mounted as `workspace` when this WorkflowTemplate is submitted on "
              "its own (a workflow calling `main` by templateRef mounts its own `workspace` volume)", "workspace"),
    ),
    stop="Argo's executor sends SIGTERM to the step's process group, which Snakemake leads (the program execs "
         "it): Snakemake stops the job and removes its incomplete outputs; past the pod's grace period the kubelet "
         "kills the rest.",
    local="tests/test_wrapper_snakemake_job.py and tests/test_snakemake_integrate.py run real Snakemake 9.27.1 "
          "(a cached virtualenv standing for the image with `--image`) through `run --local` on migrated "
          "Snakefiles with script: and run: rules: the files made equal, byte for byte, those of `snakemake "
          "--cores 2` on a copy of the folder; a failing job fails its step.",
)


def _doc(options: WrapperOptions) -> WrapperDoc:
    return dataclasses.replace(DOC, parameters=tuple(
        dataclasses.replace(p, default=options.dags_config_map) if p.name == "sources" else p
        for p in DOC.parameters))


def workflow_template(options: WrapperOptions) -> dict[str, Any]:
    doc = _doc(options)
    inputs = inputs_of(doc)
    for param in inputs["parameters"]:
        if param["name"] == "sdm":
            param["enum"] = list(SDM)
    main = {
        "name": "main",
        "inputs": inputs,
        # On the template, not the WorkflowTemplate's spec: a caller's templateRef brings the template's volumes.
        "volumes": [{"name": "sources", "configMap": {"name": "{{inputs.parameters.sources}}"}}],
        "script": {
            "image": "{{inputs.parameters.image}}",
            "command": ["sh"],
            "source": program("snakemake_job.sh"),
            "env": [param_env("AM_FILE", "file"), param_env("AM_RULE", "rule"), param_env("AM_TARGET", "target"),
                    param_env("AM_CORES", "cores"), param_env("AM_SDM", "sdm"), param_env("AM_CONFIGFILES", "configfiles"),
                    param_env("AM_CONFIG", "config"), param_env("AM_ARGS", "args"), param_env("AM_DIRECTORY", "directory"),
                    {"name": "AM_WORKSPACE", "value": MOUNT}, {"name": "AM_SOURCES", "value": SOURCES},
                    {"name": "AM_UNPACK", "value": program("unpack_sources.py")}],
            "volumeMounts": [{"name": "workspace", "mountPath": MOUNT},
                             {"name": "sources", "mountPath": SOURCES, "readOnly": True}],
            "workingDir": MOUNT,
        },
    }
    document = base_template(template_name(ENGINE), doc, [main])
    document["spec"]["volumes"] = [{"name": "workspace",
                                    "persistentVolumeClaim": {"claimName": "{{workflow.parameters.pvc}}"}}]
    return document


def needs(action: Wrapped, options: WrapperOptions) -> list[str]:
    return [f"ConfigMap {options.dags_config_map} (the workflow's sources)"]


def arguments(action: Wrapped, options: WrapperOptions) -> tuple[tuple[str, str], ...]:
    """The frontend's payload (file, rule, target, cores, sdm; configfiles, config and image when it gives them),
    and the sources' ConfigMap."""
    payload = dict(action.payload)
    fixed = [(name, payload[name]) for name in ("file", "rule", "target", "cores", "sdm", "configfiles", "config",
                                                "image") if payload.get(name)]
    return (*fixed, ("sources", options.dags_config_map))
