"""The ``slurm-job`` wrapper: one SLURM batch job (or a Snakemake/Nextflow/CWL command line) on a login node, from
an Argo step, over ssh.

``main`` is a steps template with one step, ``run`` (the script ``programs/slurm_job.sh``: Init copies the inputs
to ``<remote-dir>/<job name>/`` on the login node, Main runs ``sbatch --parsable --wait`` there and exits with the
job's exit code, Finalize copies ``<outputs-path>`` back as the ``outputs`` artifact). Stopping is covered twice: the
program traps SIGTERM and cancels the job, and ``run``'s exit hook ``cancel`` cancels it by its name whenever ``run``
did not succeed, for a pod killed without a chance to trap anything. Both find the job by the same deterministic
name, ``<job-name>-<checksum of {{workflow.uid}}/{{node.name}}>``, which ``main`` hands to both.

Credentials come only from the Secret ``slurm-ssh`` (keys ``ssh-privatekey``, ``known_hosts``), mounted read-only;
host keys are checked strictly. The program retries connection failures (ssh's exit status 255) itself, with a
doubling backoff, and follows an already submitted job instead of submitting it again; ``retryStrategy``
(``OnError``: a pod lost, never a job that failed) reruns the step, which then follows the same job.

The step's exit code is the job's (128 + the signal when it was killed); besides: 64 bad parameters, 69 the login
node stayed unreachable, 70 the job's fate is unknown (its record expired while the step was disconnected), 77 the
Secret's key or host key was refused (never retried), 143 stopped.

A second entry template, ``workspace`` (what a frontend running a whole workflow on the cluster calls, see
:func:`entry_for`), works on a folder of the calling workflow's ``workspace`` volume instead of artifacts: that
folder is copied to the work folder, the workflow's sources (the ConfigMap bundle argo-migrate writes beside the
manifests, when ``sources`` names it) are laid out there by the login node's ``python3`` before the job starts,
and ``outputs-path`` comes back into the same folder, where the workflow's next steps find it. The wrapper's own
files in the work folder (``.argo-migrate*``, the job script) are never copied back.
"""

from __future__ import annotations

from typing import Any

from backends.wrappers import WrapperOptions
from backends.wrappers.catalogue import (
    Output,
    Param,
    SecretUse,
    WrapperDoc,
    base_template,
    inputs_of,
    params_env,
    program,
    template_name,
)
from migrator.ir import Wrapped

ENGINE = "slurm-job"
SECRET = "slurm-ssh"
MOUNT = "/etc/argo-migrate/slurm-ssh"
INPUTS = "/work/inputs"
OUTPUTS = "/work/outputs"
RESULTS = "/tmp/argo-migrate-slurm"
PRIVATE = "/tmp/argo-migrate-ssh"  # the key's 0600 copy: a memory-backed emptyDir, never the node's disk
DATA = "/tmp/argo-migrate-data"  # staged inputs and outputs (tar through ssh)
WORKSPACE = "/workspace"
SOURCES = "/etc/argo-migrate/sources"
# The volume of an empty `sources`: a ConfigMap volume needs a name; optional, so a missing one mounts nothing.
NO_SOURCES = "argo-migrate-no-sources"
PROGRAM = "slurm_job.sh"
# A well-known Alpine image with the OpenSSH client and rsync (the program falls back to tar through ssh when a
# side has no rsync), used until WrapperOptions has a field for it.
IMAGE = "instrumentisto/rsync-ssh:alpine3.21"

DOC = WrapperDoc(
    engine=ENGINE,
    summary="Run one SLURM batch job (sbatch --wait) or a workflow engine's command line on a login node over ssh: "
            "inputs copied there, the job's exit code is the step's, outputs copied back; stopping the workflow "
            "cancels the job. The entry template `workspace` takes a folder of the caller's `workspace` volume "
            "instead of artifacts (parameters `directory` and `sources`, a source bundle ConfigMap laid out by the "
            "login node's python3; no inputs-path, no outputs artifact): outputs-path comes back into that folder.",
    parameters=(
        Param("host", "the login node (a host name or address)"),
        Param("port", "its ssh port", "22"),
        Param("user", "the login user (empty: ssh's default, the pod's user)", ""),
        Param("job-script", "the batch script (text, with its #!/bin/... line and #SBATCH lines); give this or "
                            "command", ""),
        Param("command", "instead of a job script: a command line run on the login node in the work folder (a "
                         "Snakemake, Nextflow or CWL runner that submits its own jobs)", ""),
        Param("partition", "sbatch --partition (empty: the cluster's default)", ""),
        Param("account", "sbatch --account (empty: the user's default)", ""),
        Param("time-limit", "sbatch --time, in any SLURM time format (empty: the partition's default)", ""),
        Param("job-name", "the job name's prefix; a checksum of the workflow and the calling node is appended, so "
                          "the exit hook can cancel exactly this job (it overrides the script's #SBATCH "
                          "--job-name)", "argo-migrate"),
        Param("sbatch-args", "more sbatch options, as shell words (e.g. --mem=4G --cpus-per-task=2)", ""),
        Param("remote-dir", "the folder on the login node under which each run gets its work folder (relative: "
                            "under the login user's home)", "argo-migrate"),
        Param("inputs-path", "the folder in the pod whose contents are copied into the work folder (the inputs "
                             "artifact lands at " + INPUTS + ")", INPUTS),
        Param("outputs-path", "the folder, relative to the work folder, copied back as the outputs artifact",
              "outputs"),
        Param("ssh-attempts", "connection attempts per operation before the step fails (exit code 69)", "6"),
        Param("ssh-backoff", "seconds before the second attempt, doubled each time up to 60", "5"),
    ),
    secrets=(SecretUse(SECRET, ("ssh-privatekey", "known_hosts"),
                       f"the login key and the login node's pinned host keys (ssh-keyscan -p PORT HOST), "
                       f"mounted read-only at {MOUNT}; StrictHostKeyChecking=yes; the key is never printed"),),
    outputs=(
        Output("job-id", "parameter", "the SLURM job id (empty in command mode)"),
        Output("job-state", "parameter", "the job's final state (COMPLETED, FAILED, CANCELLED, TIMEOUT, ...)"),
        Output("exit-code", "parameter", "the job's exit code (128+signal when it was killed)"),
        Output("outputs", "artifact", "the work folder's outputs-path, copied back (also after a failure)"),
    ),
    stop="SIGTERM makes the step scancel the job by name (or kill the command's process group) before exiting "
         "143; the run step's exit hook does the same whenever the step did not succeed, for a pod that was killed",
    local="tests/test_wrapper_slurm.py: SLURM 22.05 (munged, slurmctld, slurmd) and an sshd on 127.0.0.1, "
          "started by tests/engines/slurm.py; tests/test_snakemake_slurm.py runs a migrated Snakefile through the "
          "`workspace` entry (Snakemake in an sbatch job on that cluster) and compares its files with Snakemake's own",
)

# The `workspace` entry's parameters besides DOC's (inputs-path aside: the folder is the workspace's).
WORKSPACE_PARAMS = (
    Param("directory", "the folder of the calling workflow's `workspace` volume (relative to it) copied to the work "
                       "folder; outputs-path comes back into it", "."),
    Param("sources", "a ConfigMap holding the workflow's sources as argo-migrate writes them (flat keys and "
                     "argo-migrate-index.json), laid out in the work folder by the login node's python3 before "
                     "the job starts (files already there are kept); empty: none", ""),
)

# Parameters the exit hook needs to find the job again.
_CANCEL_PARAMS = ("host", "port", "user", "job-name", "remote-dir")


def _image(options: WrapperOptions) -> str:
    return str(getattr(options, "slurm_image", IMAGE))


def _volumes() -> list[dict[str, Any]]:
    return [{"name": SECRET, "secret": {"secretName": SECRET, "defaultMode": 0o400}},
            {"name": "ssh-private", "emptyDir": {"medium": "Memory", "sizeLimit": "16Mi"}},
            {"name": "staging", "emptyDir": {}}]


def _mounts() -> list[dict[str, Any]]:
    return [{"name": SECRET, "mountPath": MOUNT, "readOnly": True},
            {"name": "ssh-private", "mountPath": PRIVATE}, {"name": "staging", "mountPath": DATA}]


def _fixed_env(mode: str) -> list[dict[str, str]]:
    return [{"name": "AM_MODE", "value": mode}, {"name": "AM_SECRET_DIR", "value": MOUNT},
            {"name": "AM_PRIVATE_DIR", "value": PRIVATE}, {"name": "AM_DATA_DIR", "value": DATA}]


def _workspace_params() -> tuple[Param, ...]:
    return tuple(p for p in DOC.parameters if p.name != "inputs-path") + WORKSPACE_PARAMS


def _run_template(image: str, workspace: bool = False) -> dict[str, Any]:
    params = _workspace_params() if workspace else DOC.parameters
    names = tuple(p.name for p in params) + ("run-key",)
    env = params_env(names) + _fixed_env("run") + [{"name": "AM_RESULTS", "value": RESULTS}]
    outputs: dict[str, Any] = {"parameters": [{"name": n, "valueFrom": {"path": f"{RESULTS}/{n}", "default": ""}}
                                              for n in ("job-id", "job-state", "exit-code")]}
    volumes, mounts = _volumes(), _mounts()
    inputs: dict[str, Any] = {"parameters": [{"name": n} for n in names]}
    if workspace:
        folder = WORKSPACE + "/{{inputs.parameters.directory}}"
        env += [{"name": "AM_OUTPUTS", "value": folder}, {"name": "AM_INPUTS_PATH", "value": folder},
                {"name": "AM_SOURCES_DIR", "value": SOURCES}, {"name": "AM_UNPACK", "value": program("unpack_sources.py")}]
        # On the template: the caller's templateRef brings the template's volumes, and `workspace` is the caller's.
        volumes.append({"name": "sources", "configMap": {
            "name": "{{=inputs.parameters.sources != '' ? inputs.parameters.sources : '%s'}}" % NO_SOURCES,
            "optional": True}})
        mounts += [{"name": "workspace", "mountPath": WORKSPACE},
                   {"name": "sources", "mountPath": SOURCES, "readOnly": True}]
    else:
        env.append({"name": "AM_OUTPUTS", "value": OUTPUTS})
        inputs["artifacts"] = [{"name": "inputs", "path": INPUTS, "optional": True}]
        outputs["artifacts"] = [{"name": "outputs", "path": OUTPUTS}]
    return {
        "name": "run-workspace" if workspace else "run",
        "inputs": inputs,
        "outputs": outputs,
        # A lost pod (Error), never a failed job (Failed): the rerun follows the job the first pod submitted.
        "retryStrategy": {"limit": "2", "retryPolicy": "OnError"},
        "volumes": volumes,
        "script": {"image": image, "command": ["sh"], "source": program(PROGRAM), "env": env,
                   "volumeMounts": mounts},
    }


def _cancel_template(image: str) -> dict[str, Any]:
    names = _CANCEL_PARAMS + ("run-key", "step-status")
    env = params_env(names) + _fixed_env("cancel") + [{"name": "AM_SSH_ATTEMPTS", "value": "3"},
                                                {"name": "AM_SSH_BACKOFF", "value": "2"}]
    return {
        "name": "cancel",
        "inputs": {"parameters": [{"name": n} for n in names]},
        "volumes": _volumes(),
        "script": {"image": image, "command": ["sh"], "source": program(PROGRAM), "env": env,
                   "volumeMounts": _mounts()},
    }


def _main_template() -> dict[str, Any]:
    # One value for the run step and its hook: the workflow and the node that called main (node.name is unique
    # for every call, in a loop too).
    run_key = {"name": "run-key", "value": "{{workflow.uid}}/{{node.name}}"}
    passed = [{"name": p.name, "value": "{{inputs.parameters.%s}}" % p.name} for p in DOC.parameters]
    hook = [{"name": n, "value": "{{inputs.parameters.%s}}" % n} for n in _CANCEL_PARAMS]
    hook += [run_key, {"name": "step-status", "value": "{{steps.run.status}}"}]
    inputs = inputs_of(DOC)
    inputs["artifacts"] = [{"name": "inputs", "optional": True}]
    return {
        "name": "main",
        "inputs": inputs,
        "outputs": {
            "parameters": [{"name": n, "valueFrom": {"parameter": "{{steps.run.outputs.parameters.%s}}" % n}}
                           for n in ("job-id", "job-state", "exit-code")],
            "artifacts": [{"name": "outputs", "from": "{{steps.run.outputs.artifacts.outputs}}"}],
        },
        "steps": [[{
            "name": "run",
            "template": "run",
            "arguments": {"parameters": [*passed, run_key],
                          "artifacts": [{"name": "inputs", "from": "{{inputs.artifacts.inputs}}", "optional": True}]},
            "hooks": {"exit": {"template": "cancel", "arguments": {"parameters": hook}}},
        }]],
    }


def _workspace_template() -> dict[str, Any]:
    """``main`` for a folder of the caller's workspace volume: the same run step and exit hook, no artifacts."""
    params = _workspace_params()
    run_key = {"name": "run-key", "value": "{{workflow.uid}}/{{node.name}}"}
    passed = [{"name": p.name, "value": "{{inputs.parameters.%s}}" % p.name} for p in params]
    hook = [{"name": n, "value": "{{inputs.parameters.%s}}" % n} for n in _CANCEL_PARAMS]
    hook += [run_key, {"name": "step-status", "value": "{{steps.run.status}}"}]
    return {
        "name": "workspace",
        "inputs": {"parameters": [{"name": p.name, **({"default": p.default} if p.default is not None else {})}
                                  for p in params]},
        "outputs": {"parameters": [{"name": n, "valueFrom": {"parameter": "{{steps.run.outputs.parameters.%s}}" % n}}
                                   for n in ("job-id", "job-state", "exit-code")]},
        "steps": [[{"name": "run", "template": "run-workspace", "arguments": {"parameters": [*passed, run_key]},
                    "hooks": {"exit": {"template": "cancel", "arguments": {"parameters": hook}}}}]],
    }


def workflow_template(options: WrapperOptions) -> dict[str, Any]:
    image = _image(options)
    document = base_template(template_name(ENGINE), DOC, [
        _main_template(), _run_template(image), _cancel_template(image), _workspace_template(),
        _run_template(image, workspace=True)])
    # For `workspace` submitted on its own: a throwaway folder (a caller's templateRef brings its own volume).
    document["spec"]["volumes"] = [{"name": "workspace", "emptyDir": {}}]
    return document


def entry_for(action: Wrapped, options: WrapperOptions) -> str:
    """The template a caller names: ``workspace`` when the payload names a workspace folder (``directory``)."""
    return "workspace" if action.get("directory") else "main"


def needs(action: Wrapped, options: WrapperOptions) -> list[str]:
    out = [f"Secret {SECRET} (ssh-privatekey, known_hosts: the login node's key and pinned host keys)"]
    if action.get("directory") and action.get("sources", "yes"):
        out.append(f"ConfigMap {options.dags_config_map} (the workflow's sources)")
    return out


def arguments(action: Wrapped, options: WrapperOptions) -> tuple[tuple[str, str], ...]:
    """The action's payload keys that name a parameter (``job-script`` or ``job_script``), in DOC's order; with a
    workspace folder (``directory``), that folder and the sources' ConfigMap too."""
    payload = {key.replace("_", "-"): value for key, value in action.payload}
    out = [(p.name, payload[p.name]) for p in DOC.parameters if p.name in payload]
    if payload.get("directory"):
        out = [(n, v) for n, v in out if n != "inputs-path"]
        out += [("directory", payload["directory"]), ("sources", payload.get("sources", options.dags_config_map))]
    return tuple(out)
