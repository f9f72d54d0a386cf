"""Files and Directories as data (a task makes its output's folder, as Snakemake and CWL runners do) (``--storage volume|artifacts``): raw inputs staged by Init, files passed from
producer to consumer, final outputs kept by Finalize. Checked by running the emitted workflow locally: the final
output arrives in the artifact repository with the content the tasks made."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from backends.argo.emit import EmitOptions, Kind, emit
from backends.argo.local.engine import Options, Runner
from backends.argo.local.model import load
from backends.argo.storage import StorageOptions
from backends.argo.yaml_out import dump
from migrator.diagnostics import Severity
from migrator.invariants import check
from migrator.ir import (
    FILE,
    ContainerRun,
    InputRef,
    OutputPath,
    OutputRef,
    Port,
    SourceLoc,
    Task,
    Workflow,
    text,
)
from migrator.stage import stage_in, stage_out

HERE = SourceLoc("files.py", 1)


def _sh(*parts: object) -> ContainerRun:
    return ContainerRun("busybox:1.36", (text("sh"), text("-c")), (tuple(parts),))  # type: ignore[arg-type]


def _workflow() -> Workflow:
    workflow = Workflow(id="files", origin=HERE)
    raw = stage_in(workflow, (Port("reads", FILE, path="data/reads.txt", default="inputs/reads.txt"),), HERE)
    workflow.add_task(Task("upper", SourceLoc("files.py", 2), "sh",
                           _sh("mkdir -p $(dirname ", OutputPath("out"), ") && tr a-z A-Z < ", InputRef("src"), " > ",
                               OutputPath("out")),
                           inputs=(Port("src", FILE),), arguments=(("src", (raw["reads"],)),),
                           outputs=(Port("out", FILE, path="work/upper.txt"),)))
    workflow.add_edge("init", "upper")
    workflow.add_task(Task("count", SourceLoc("files.py", 3), "sh",
                           _sh("mkdir -p $(dirname ", OutputPath("out"), ") && wc -l < ", InputRef("src"), " > ",
                               OutputPath("out")),
                           inputs=(Port("src", FILE),), arguments=(("src", (raw["reads"],)),),
                           outputs=(Port("out", FILE, path="results/count.txt"),)))
    workflow.add_edge("init", "count")
    stage_out(workflow, {"upper": OutputRef("upper", "out"), "count": OutputRef("count", "out")}, HERE)
    return workflow


@pytest.mark.parametrize("mode", ["volume", "artifacts"])
def test_files_flow_from_raw_inputs_to_final_outputs(mode: str, tmp_path: Path) -> None:
    workflow = _workflow()
    assert check(workflow) == []
    manifest = emit(workflow, "files", EmitOptions(kind=Kind.WORKFLOW, storage=StorageOptions(mode=mode)))
    assert not [d for d in manifest.diagnostics if d.severity is Severity.ERROR]
    path = tmp_path / "files.yaml"
    path.write_text(dump(manifest.document))
    document = yaml.safe_load(path.read_text())
    assert ("volumeClaimTemplates" in document["spec"]) == (mode == "volume")
    run = tmp_path / "run"
    (run / "artifacts" / "inputs").mkdir(parents=True)
    (run / "artifacts" / "inputs" / "reads.txt").write_text("acgt\nttga\n")
    result = Runner(load(path), Options(workdir=run, jobs=2, timeout=120, fast_forward=True)).run()
    assert result.phase == "Succeeded", {k: (n.phase, n.message) for k, n in result.nodes.items()}
    kept = next((run / "artifacts").glob("files*/outputs"))  # the run names the workflow from generateName
    assert (kept / "upper").read_text() == "ACGT\nTTGA\n"
    assert (kept / "count").read_text().strip() == "2"


def test_a_port_type_mismatch_is_an_invariant_violation() -> None:
    workflow = _workflow()
    from dataclasses import replace

    from migrator.ir import STRING

    workflow.replace_task(replace(workflow.task("upper"), inputs=(Port("src", STRING),)))
    assert any("port type mismatch" in p for p in check(workflow))


def test_storage_options_reach_the_workspace_claim(tmp_path: Path) -> None:
    from migrator.cli import main

    workflow = _workflow()
    manifest = emit(workflow, "files", EmitOptions(storage=StorageOptions("volume", "fast-ssd", "50Gi",
                                                                          "ReadWriteMany")))
    claim = manifest.document["spec"]["volumeClaimTemplates"][0]["spec"]
    assert claim == {"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": "50Gi"}},
                     "storageClassName": "fast-ssd"}
    dag = tmp_path / "d.py"
    dag.write_text("from airflow.sdk import DAG\n")
    assert main(["airflow", str(dag), "-o", str(tmp_path / "o"), "--storage-size", "lots"]) == 2
    assert main(["airflow", str(dag), "-o", str(tmp_path / "o"), "--storage", "artifacts", "--quiet"]) == 0


def _file_chain(n: int) -> Workflow:
    workflow = Workflow(id="chain", origin=HERE)
    for i in range(n):
        inputs, arguments = ((Port("src", FILE),), (("src", (OutputRef(f"t{i - 1}", "out"),)),)) if i else ((), ())
        workflow.add_task(Task(f"t{i}", SourceLoc("files.py", i + 1), "sh",
                               _sh("cp ", InputRef("src") if i else "/dev/null", " ", OutputPath("out")),
                               inputs=inputs, arguments=arguments, outputs=(Port("out", FILE, path=f"f{i}"),)))
        if i:
            workflow.add_edge(f"t{i - 1}", f"t{i}")
    return workflow


def test_files_cross_nested_dags_in_a_volume_but_not_yet_as_artifacts() -> None:
    workflow = _file_chain(250)
    assert check(workflow) == []
    volume = emit(workflow, "chain", EmitOptions())
    assert not [d for d in volume.diagnostics if d.severity is Severity.ERROR]
    assert sum(1 for t in volume.document["spec"]["templates"] if "dag" in t) > 1
    artifacts = emit(workflow, "chain", EmitOptions(storage=StorageOptions(mode="artifacts")))
    assert [d.code for d in artifacts.diagnostics if d.severity is Severity.ERROR][:1] == ["AM128"]
