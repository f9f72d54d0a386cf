"""The engine-in-pod wrapper: a whole Snakemake, cwltool or Nextflow workflow run by its own engine in one
pod.

One WorkflowTemplate with an ``engine`` parameter rather than three: the engines take the same inputs (a
folder on a shared volume, an entry file, an inputs file, an output folder) and give the same outputs, so one
``main`` keeps callers and documentation uniform; the image follows the engine unless ``image`` names another.

The workflow's files live on a volume named ``workspace``, mounted at ``/workspace``. A workflow that calls
``main`` by ``templateRef`` provides that volume itself (a PVC under ``spec.volumes`` or a
``volumeClaimTemplate`` named ``workspace``); a WorkflowTemplate's own ``spec.volumes`` do not follow a
``templateRef``. Submitted on its own (``argo submit --from workflowtemplate/…``), this WorkflowTemplate
mounts the PersistentVolumeClaim named by the ``pvc`` parameter.

The in-pod program (``programs/engine_in_pod.sh``) execs the engine, so the engine leads the step's process
group, which Argo's executor signals on stop (emissary forwards SIGTERM to the group): the engine and its
running jobs stop together and the engine's own handler cleans up; the step's exit status is the engine's.
"""

from __future__ import annotations

import shlex
from typing import Any

from backends.wrappers import WrapperOptions
from backends.wrappers.catalogue import (
    Output,
    Param,
    WrapperDoc,
    base_template,
    inputs_of,
    param_env,
    program,
    template_name,
)
from migrator.ir import Wrapped

ENGINE = "engine-in-pod"
ENGINES = ("snakemake", "cwltool", "nextflow")
MOUNT = "/workspace"
SOURCES = "/etc/argo-migrate/sources"
# The volume of an empty `sources`: a ConfigMap volume needs a name; optional, so a missing one mounts nothing.
NO_SOURCES = "argo-migrate-no-sources"
OBJECT_PATH = "/tmp/argo-migrate/output-object.json"
# The engines' own images; the versions are the ones the tests run (Nextflow's is not run here: see
# DOC.local).
IMAGES = {
    "snakemake": "snakemake/snakemake:v9.27.1",
    "cwltool": "quay.io/commonwl/cwltool:3.3.20260925135507",
    "nextflow": "nextflow/nextflow:25.10.0",
}

DOC = WrapperDoc(
    engine=ENGINE,
    summary="Run a whole Snakemake, cwltool or Nextflow workflow with its own engine in one pod, on a shared "
            "volume (`workspace`, mounted at /workspace: the calling workflow's volume of that name, or the "
            "PVC `pvc` when this template is submitted on its own); the step's exit status is the engine's, "
            "the output folder is an artifact and cwltool's output object a parameter.",
    parameters=(
        Param("engine", "snakemake, cwltool or nextflow"),
        Param("directory", "the workflow's folder, relative to the volume; the engine runs there", "."),
        Param("workflow", "the entry file, relative to `directory`; empty: Snakefile (Snakemake's search), "
              "main.nf (Nextflow); cwltool needs it", ""),
        Param("inputs", "an inputs file relative to `directory`: cwltool's job order, Snakemake's "
              "--configfile, Nextflow's -params-file; empty: none", ""),
        Param("outputs", "the output folder relative to `directory`, saved as the `outputs` artifact "
              "(cwltool's --outdir; Snakemake and Nextflow write there by the workflow's own paths)",
              "results"),
        Param("cores", "Snakemake's --cores", "1"),
        Param("args", "more arguments for the engine, separated by blanks (no quoting, no globbing)", ""),
        Param("image", "the image; empty: the engine's own (" + ", ".join(IMAGES.values()) + ")", ""),
        Param("sources", "a ConfigMap holding the workflow's sources as argo-migrate writes them (files under flat "
              "keys and argo-migrate-index.json), mounted at " + SOURCES + ": its files are laid out in "
              "`directory` before the engine runs (files already there are kept); empty: none", ""),
        Param("pvc", "the PersistentVolumeClaim mounted as `workspace` when this WorkflowTemplate is "
              "submitted on its own (a workflow calling `main` by templateRef mounts its own `workspace` "
              "volume)", "workspace"),
    ),
    outputs=(
        Output("outputs", "artifact", "the output folder (`outputs` under `directory`)"),
        Output("output-object", "parameter", "cwltool's output object (JSON); empty for the other engines"),
    ),
    stop="Argo's executor sends SIGTERM to the step's process group, which the engine leads (the program "
         "execs it): the engine and its running jobs get it together; Snakemake then removes the jobs' "
         "incomplete outputs and exits, cwltool kills what is left of its tools (waiting up to 10 s for "
         "each), Nextflow cancels its tasks; past the pod's grace period the kubelet kills the rest. The "
         "engine's files stay on the volume, so a rerun resumes where the engine's own rules allow "
         "(Snakemake may need --rerun-incomplete in `args`).",
    local="tests/test_wrapper_engine_in_pod.py runs real Snakemake and cwltool (pip, cached virtualenvs "
          "standing for the images with `--image`) through `run --local`: success with the outputs checked, "
          "a failing rule or step, and SIGTERM mid-run; tests/test_snakemake_integrate.py runs a migrated "
          "checkpoint Snakefile whose sources come from the bundle (`sources`), its files equal to Snakemake's own "
          "run. Nextflow is not run: its PyPI package is only the "
          "launcher, which downloads the Nextflow runtime from outside the package registries at first use.",
)


def _image_expression() -> str:
    chosen = "inputs.parameters.engine"
    by_engine = " : ".join([*(f"{chosen} == '{e}' ? '{IMAGES[e]}'" for e in ENGINES[:-1]),
                            f"'{IMAGES[ENGINES[-1]]}'"])
    return "{{=inputs.parameters.image != '' ? inputs.parameters.image : " + by_engine + "}}"


def workflow_template(options: WrapperOptions) -> dict[str, Any]:
    inputs = inputs_of(DOC)
    for param in inputs["parameters"]:
        if param["name"] == "engine":
            param["enum"] = list(ENGINES)
    main = {
        "name": "main",
        "inputs": inputs,
        # On the template, not the WorkflowTemplate's spec: a caller's templateRef brings the template's volumes.
        "volumes": [{"name": "sources", "configMap": {
            "name": "{{=inputs.parameters.sources != '' ? inputs.parameters.sources : '%s'}}" % NO_SOURCES,
            "optional": True}}],
        "script": {
            "image": _image_expression(),
            "command": ["sh"],
            "source": program("engine_in_pod.sh"),
            "env": [param_env("ENGINE", "engine"), param_env("DIRECTORY", "directory"), param_env("WORKFLOW", "workflow"),
                    param_env("INPUTS", "inputs"), param_env("OUTPUTS", "outputs"), param_env("CORES", "cores"),
                    param_env("ARGS", "args"), param_env("SOURCES", "sources"),
                    {"name": "SOURCES_DIR", "value": SOURCES},
                    {"name": "UNPACK", "value": program("unpack_sources.py")}],
            "volumeMounts": [{"name": "workspace", "mountPath": MOUNT},
                             {"name": "sources", "mountPath": SOURCES, "readOnly": True}],
            "workingDir": MOUNT,
        },
        "outputs": {
            "parameters": [{"name": "output-object", "valueFrom": {"path": OBJECT_PATH}}],
            # Optional: a Snakemake or Nextflow workflow writes where its own paths say, maybe not there.
            "artifacts": [{"name": "outputs", "optional": True,
                           "path": MOUNT + "/{{inputs.parameters.directory}}/{{inputs.parameters.outputs}}"}],
        },
    }
    document = base_template(template_name(ENGINE), DOC, [main])
    document["spec"]["volumes"] = [{"name": "workspace",
                                    "persistentVolumeClaim": {"claimName": "{{workflow.parameters.pvc}}"}}]
    return document


def needs(action: Wrapped, options: WrapperOptions) -> list[str]:
    return [f"ConfigMap {options.dags_config_map} (the workflow's sources)"] if action.get("file") else []


def arguments(action: Wrapped, options: WrapperOptions) -> tuple[tuple[str, str], ...]:
    """A frontend's whole-workflow action: ``engine``, ``file`` (the entry file, relative to the workflow's folder,
    shipped in the sources' ConfigMap), ``targets`` (shell words), ``configfiles`` and ``config`` (blank-separated
    words), ``cores`` when given."""
    engine = action.get("engine", "snakemake")
    args = shlex.split(action.get("targets"))
    if action.get("configfiles").split():
        args += ["--configfiles", *action.get("configfiles").split()]
    if action.get("config").split():
        args += ["--config", *action.get("config").split()]  # last: --config takes every word after it
    out = [("engine", engine), ("workflow", action.get("file"))]
    if action.get("cores"):
        out.append(("cores", action.get("cores")))
    if args:
        out.append(("args", " ".join(args)))
    if action.get("file"):
        out.append(("sources", options.dags_config_map))
    return tuple(out)
