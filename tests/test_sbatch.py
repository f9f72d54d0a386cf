"""``#SBATCH`` lines → pod resources and a deadline (migrator/sbatch.py): the forms and units on their own, then the
same scripts submitted to a real SLURM 22.05 (held, never run) so that sbatch's own reading is the reference."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from migrator.ir import Resources
from migrator.sbatch import OPTIONS, parse_script, quantity, size_mib, table, time_limit_seconds, time_seconds
from tests.engines.slurm import Slurm, module_fixture

slurm = module_fixture()


def script(*lines: str) -> str:
    return "\n".join(["#!/bin/bash", *lines, "srun hostname", ""])


@pytest.mark.parametrize(("text", "seconds"), [
    ("90", 5400), ("0:30", 30), ("10:00", 600), ("1:02:03", 3723), ("2-3", 2 * 86400 + 3 * 3600),
    ("1-", 86400), ("1-2:03", 86400 + 7200 + 180), ("1-2:3:4", 86400 + 7200 + 180 + 4), ("0", 0),
    ("UNLIMITED", None), ("infinite", None), ("-1", None),
])
def test_every_slurm_time_format(text: str, seconds: int | None) -> None:
    assert time_seconds(text) == seconds


@pytest.mark.parametrize("text", ["1:2:3:4", "5:", "1-2-3", "1:2-3", "abc", "", "1.5", "-5", "1::2"])
def test_times_sbatch_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        time_seconds(text)


def test_the_time_limit_is_whole_minutes_rounded_up_and_zero_is_none() -> None:
    assert time_limit_seconds("0:30") == 60
    assert time_limit_seconds("1-2:3:4") == 86400 + 7200 + 240
    assert time_limit_seconds("0") is None and time_limit_seconds("UNLIMITED") is None


@pytest.mark.parametrize(("text", "mib"), [("512", 512), ("4G", 4096), ("4g", 4096), ("1GB", 1024), ("900K", 1),
                                           ("2048k", 2), ("2T", 2 * 1024 * 1024), ("100M", 100), ("1.5G", None),
                                           ("-1", None), ("4X", None)])
def test_slurm_sizes(text: str, mib: int | None) -> None:
    assert size_mib(text) == mib


def test_quantities_use_the_largest_whole_binary_unit() -> None:
    assert [quantity(m) for m in (512, 1024, 1536, 3 * 1024 * 1024)] == ["512Mi", "1Gi", "1536Mi", "3Ti"]


@pytest.mark.parametrize("line", ["#SBATCH -c 4", "#SBATCH -c4", "#SBATCH --cpus-per-task=4",
                                  "#SBATCH --cpus-per-task 4", "#SBATCH --cpus-per-t=4"])
def test_short_long_and_abbreviated_forms(line: str) -> None:
    assert parse_script(script(line)).resources == Resources(cpu="4")


def test_a_full_script() -> None:
    got = parse_script(script(
        "#SBATCH --job-name=align -c 4",
        "#SBATCH --mem-per-cpu=2G",
        "#SBATCH -t 1-12:30 --gres=gpu:a100:2",
        "#SBATCH --tmp=10G  # scratch space",
        "#SBATCH --partition=gpu --account=lab",
    ))
    assert got.resources == Resources(cpu="4", memory="8Gi", memory_limit="8Gi", gpu=2, ephemeral_storage="10Gi")
    assert got.deadline_seconds == 86400 + 12 * 3600 + 30 * 60
    assert got.job_name == "align"
    assert "--partition=gpu: no pod equivalent, not mapped" in got.notes
    assert "--account=lab: no pod equivalent, not mapped" in got.notes
    assert any("GPU type 'a100'" in n for n in got.notes)


def test_memory_per_cpu_counts_tasks_and_cpus() -> None:
    got = parse_script(script("#SBATCH -n 2 -c 3 --mem-per-cpu=512M"))
    assert got.resources == Resources(cpu="6", memory="3Gi", memory_limit="3Gi")
    per_gpu = parse_script(script("#SBATCH --gpus=2 --mem-per-gpu=4G"))
    assert per_gpu.resources == Resources(memory="8Gi", memory_limit="8Gi", gpu=2)


@pytest.mark.parametrize(("line", "gpus"), [
    ("#SBATCH --gres=gpu", 1), ("#SBATCH --gres=gpu:2", 2), ("#SBATCH --gres=gpu:v100:3", 3),
    ("#SBATCH --gres=gpu:2,shard:1", 2), ("#SBATCH -G a100:4", 4), ("#SBATCH --gpus-per-node=2", 2),
    ("#SBATCH -n 3 --gpus-per-task=1", 3),
])
def test_gpu_requests(line: str, gpus: int) -> None:
    resources = parse_script(script(line)).resources
    assert resources is not None and resources.gpu == gpus


def test_directives_end_at_the_first_command_and_need_the_line_start() -> None:
    got = parse_script("#!/bin/sh\n#SBATCH -c 2\n\n# a comment\n  #SBATCH -c 7\necho go\n#SBATCH -c 8\n")
    assert got.resources == Resources(cpu="2")
    assert [o for o in got.options if o[0] == "cpus-per-task"] == [("cpus-per-task", "2")]


def test_quotes_and_comments_as_sbatch_splits_them() -> None:
    assert parse_script(script("#SBATCH -J 'my job' # why")).job_name == "my job"
    assert parse_script(script("#SBATCH --job-name=a#b")).job_name == "a"
    assert parse_script(script('#SBATCH -J"x y"')).job_name == "x y"


def test_nothing_is_dropped_silently() -> None:
    got = parse_script(script("#SBATCH --frobnicate=3 -Z --mail-type=END -Hv --exclusive", "#SBATCH --tim=5",
                              "#SBATCH --mem=0", "#SBATCH stray"))
    notes = "\n".join(got.notes)
    for needle in ("unknown option --frobnicate", "unknown option -Z", "--mail-type=END: no pod equivalent",
                   "--hold: no pod equivalent", "--verbose: no pod equivalent", "--exclusive: no pod equivalent",
                   "--tim is ambiguous (--time, --time-min): sbatch refuses", "--mem=0: all of a node's memory",
                   "'stray' is not an option"):
        assert needle in notes, needle
    assert got.resources is None


def test_refusals_are_notes() -> None:
    got = parse_script(script("#SBATCH --mem=1G --mem-per-cpu=100", "#SBATCH -t 1:2:3:4", "#SBATCH -c"))
    notes = "\n".join(got.notes)
    assert "mutually exclusive" in notes and "--time=1:2:3:4: not a SLURM time limit" in notes
    assert "--cpus-per-task needs a value" in notes and got.deadline_seconds is None


def test_heterogeneous_jobs_read_the_first_component() -> None:
    got = parse_script(script("#SBATCH -c 2", "#SBATCH hetjob", "#SBATCH -c 8"))
    assert got.resources == Resources(cpu="2") and any("heterogeneous" in n for n in got.notes)


def test_the_table_documents_every_option() -> None:
    rows = dict(table())
    assert rows["--time, -t"].startswith("deadline")
    assert rows["--mem"].startswith("memory request and limit")
    assert rows["--partition, -p"] == "no pod equivalent: a note"
    assert len(rows) == len(OPTIONS) == len({o.long for o in OPTIONS})


# --- against sbatch itself -----------------------------------------------------------------------------------------

REAL = [
    ("#SBATCH -t 90",), ("#SBATCH --time=0:30",), ("#SBATCH --time 10:0",), ("#SBATCH -t1-2:3:4",),
    ("#SBATCH --time=2-3",), ("#SBATCH --time=1-",), ("#SBATCH -t 0",), ("#SBATCH --time=UNLIMITED",),
    ("#SBATCH -c 2 --mem-per-cpu=256M",), ("#SBATCH -n 2 --mem-per-cpu=100",), ("#SBATCH --mem=900K",),
    ("#SBATCH --mem=1GB",), ("#SBATCH --mem=512",), ("#SBATCH --ntasks-per-node=2",), ("#SBATCH -Hv -c2",),
    ("#SBATCH --tmp=2G",), ("#SBATCH --job-n=short",), ("#SBATCH -J 'two words' # comment",),
    ("#SBATCH --job-name=a#b",), ("#SBATCH -c 2", "echo x", "#SBATCH --mem=64"), ("  #SBATCH -c 2",),
    ("#SBATCH --mem=1.5G",), ("#SBATCH --tim=5",), ("#SBATCH -t 1:2:3:4",), ("#SBATCH --time=5:",),
    ("#SBATCH --mem=1G --mem-per-cpu=100",),
]


def _slurm_seconds(text: str) -> int | None:
    if text == "UNLIMITED":
        return None
    match = re.fullmatch(r"(?:(\d+)-)?(\d+):(\d+):(\d+)", text)
    assert match, text
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return ((days * 24 + hours) * 60 + minutes) * 60 + seconds


def _slurm_mib(text: str) -> int:
    match = re.fullmatch(r"([0-9.]+)([MGT]?)", text)
    assert match, text
    return round(float(match.group(1)) * {"": 1, "M": 1, "G": 1024, "T": 1024 * 1024}[match.group(2)])


def _k8s_mib(text: str) -> int:
    match = re.fullmatch(r"([0-9]+)(Mi|Gi|Ti)", text)
    assert match, text
    return int(match.group(1)) * {"Mi": 1, "Gi": 1024, "Ti": 1024 * 1024}[match.group(2)]


def _held(cluster: Slurm, folder: Path, body: str) -> tuple[dict[str, str], str] | str:
    """scontrol's fields of the job sbatch makes of ``body`` (held: never run) and its name, or sbatch's refusal."""
    path = folder / "job.sh"
    path.write_text(body)
    done = subprocess.run(["sbatch", "--hold", "--parsable", str(path)], env=cluster.env, capture_output=True,
                          text=True, cwd=folder, timeout=30)
    if done.returncode != 0:
        return done.stderr.strip()
    job = done.stdout.strip().split(";")[0]
    try:
        line = cluster.command("scontrol", "-o", "show", "job", job)
        name = cluster.command("squeue", "-h", "-j", job, "-o", "%j").strip()
    finally:
        cluster.command("scancel", job)
    fields = dict(part.split("=", 1) for part in line.split() if "=" in part and not part.startswith("="))
    return fields, name


@pytest.mark.parametrize("lines", REAL, ids=[" | ".join(lines) for lines in REAL])
def test_sbatch_reads_the_script_the_same_way(slurm: Slurm, tmp_path: Path, lines: tuple[str, ...]) -> None:
    body = script(*lines)
    ours = parse_script(body)
    theirs = _held(slurm, tmp_path, body)
    refused = [n for n in ours.notes if "sbatch refuses" in n]
    if isinstance(theirs, str):
        assert refused, f"sbatch refused it ({theirs}) and the notes do not say so: {ours.notes}"
        return
    assert not refused, f"sbatch took it; the notes say it would not: {refused}"
    fields, name = theirs
    assert ours.deadline_seconds == _slurm_seconds(fields["TimeLimit"])
    resources = ours.resources or Resources()
    assert int(resources.cpu or "1") == int(fields["NumCPUs"])
    tres = dict(item.split("=", 1) for item in fields["TRES"].split(","))
    if resources.memory is not None:
        assert _k8s_mib(resources.memory) == _slurm_mib(tres["mem"])
    storage = _k8s_mib(resources.ephemeral_storage) if resources.ephemeral_storage else 0
    assert storage == _slurm_mib(fields["MinTmpDiskNode"])
    assert name == (ours.job_name or "job.sh")
