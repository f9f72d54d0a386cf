"""Groups: a mapped task group runs its tasks once per item, each item on its own (Airflow's semantics), as a
nested DAG template looped over the items; a failed item stops only itself."""

from __future__ import annotations

import json
from pathlib import Path

from migrator.cli import main

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "airflow"


def test_a_failed_item_of_a_mapped_group_stops_only_itself(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["airflow", str(CORPUS / "mapped_groups.py"), "-o", str(out), "--quiet"]) == 0
    report = tmp_path / "run.json"
    code = main(["run", "--local", str(out / "mapped-groups.yaml"), "--workdir", str(tmp_path / "run"),
                 "--report", str(report), "--quiet"])
    nodes = {k: n["phase"] for k, n in json.loads(report.read_text())["nodes"].items()}
    assert nodes["per-item(1).per-item-check"] == "Failed"  # fetch(2) * 10 == 20 raises
    assert nodes["per-item(0).per-item-check"] == nodes["per-item(2).per-item-check"] == "Succeeded"
    assert nodes["per-item(1).per-item-fetch"] == "Succeeded"
    assert nodes["summarise"] == "Succeeded"  # trigger_rule all_done, as Airflow runs it
    assert code == 0


def test_the_group_is_one_looped_nested_dag(tmp_path: Path) -> None:
    import yaml

    out = tmp_path / "out"
    main(["airflow", str(CORPUS / "mapped_groups.py"), "-o", str(out), "--quiet"])
    document = next(yaml.safe_load_all((out / "mapped-groups.yaml").read_text()))
    templates = {t["name"]: t for t in document["spec"]["templates"]}
    entry = {t["name"]: t for t in templates["main"]["dag"]["tasks"]}
    assert entry["per-item"]["withItems"] == [1, 2, 3]
    inner = [t["name"] for t in templates["per-item"]["dag"]["tasks"]]
    assert inner == ["per-item-fetch", "per-item-check"]
    assert not any("withItems" in t or "withParam" in t for t in templates["per-item"]["dag"]["tasks"])


def test_a_groups_result_passed_to_a_task_keeps_the_dependency(tmp_path: Path) -> None:
    """``total(grp.expand(n=items()))``: total runs after the group, as in Airflow, even though its argument
    (every item's result) is only known at run time and the task is wrapped for it."""
    import yaml

    (tmp_path / "g.py").write_text(
        "from airflow.sdk import dag, task, task_group\n"
        "@task\ndef items():\n    return [1, 2]\n"
        "@task\ndef add(n, k):\n    return n + k\n"
        "@task\ndef total(values):\n    return sum(values)\n"
        "@task_group\ndef grp(n):\n    return add(n, 3)\n"
        "@dag(dag_id='dyn_group', schedule=None)\ndef d():\n    total(grp.expand(n=items()))\nd()\n")
    out = tmp_path / "out"
    assert main(["airflow", str(tmp_path / "g.py"), "-o", str(out), "--quiet"]) == 0
    spec = next(yaml.safe_load_all((out / "dyn-group.yaml").read_text()))["spec"]
    tasks = {t["name"]: t for t in spec["templates"][0]["dag"]["tasks"]}
    assert tasks["total"]["depends"] == "grp"
    assert tasks["grp"]["withParam"] == "{{tasks.items.outputs.parameters.return_value}}"
