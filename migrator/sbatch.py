"""``#SBATCH`` lines of a SLURM batch script → the IR's pod :class:`~migrator.ir.Resources` and a deadline.

Read as sbatch 22.05 reads them (``src/sbatch/opt.c``): directives are the lines that *start* with ``#SBATCH``, up to
the first line that is neither blank nor a comment; words are split like a shell's (quotes, backslashes), and an
unquoted ``#`` starts a comment, even inside a word (``--job-name=a#b`` names the job ``a``). Options are
``getopt_long``'s: ``--opt=value``, ``--opt value``, ``-c 4``, ``-c4``, and a long option may be abbreviated to any
prefix that names one option only (``--job-n``); a later option overrides an earlier one.

What each option becomes is :data:`OPTIONS` (printable with :func:`table`); an option with no pod equivalent, an
unknown or ambiguous one, and a value sbatch would refuse are each reported in ``notes``, never dropped silently.
Quantities follow SLURM: sizes are MiB unless suffixed K, M, G or T (powers of 1024, an optional trailing B); a
time limit is whole minutes, rounded up (``--time=0:30`` is one minute), and 0, ``INFINITE`` or ``UNLIMITED`` mean
none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from migrator.ir import Resources

REQUIRED, OPTIONAL, NONE = "required", "optional", "none"


@dataclass(frozen=True)
class Option:
    long: str
    short: str = ""
    arg: str = REQUIRED
    maps_to: str = ""  # empty: no pod equivalent, reported as a note


OPTIONS: tuple[Option, ...] = (
    Option("cpus-per-task", "c", maps_to="CPU request: cpus-per-task × tasks"),
    Option("ntasks", "n", maps_to="tasks: multiplies the CPU request (and --mem-per-cpu, --gpus-per-task)"),
    Option("ntasks-per-node", maps_to="tasks, when --ntasks is not given (× the minimum of --nodes)"),
    Option("nodes", "N", maps_to="1 maps to a pod; more is a note (the pod gets every task)"),
    Option("mem", maps_to="memory request and limit (SLURM kills a job above it, as a pod's limit does); "
                          "0 (a whole node's memory) is a note"),
    Option("mem-per-cpu", maps_to="memory request and limit: mem-per-cpu × CPUs"),
    Option("mem-per-gpu", maps_to="memory request and limit: mem-per-gpu × GPUs"),
    Option("gres", maps_to="gpu, gpu:N or gpu:TYPE:N → GPU count; the type and other GRES are notes"),
    Option("gpus", "G", maps_to="GPU count ([TYPE:]N; the type is a note)"),
    Option("gpus-per-node", maps_to="GPU count ([TYPE:]N; the type is a note)"),
    Option("gpus-per-task", maps_to="GPU count: N × tasks"),
    Option("tmp", maps_to="ephemeral-storage request"),
    Option("time", "t", maps_to="deadline (activeDeadlineSeconds): the limit in whole minutes, rounded up"),
    Option("job-name", "J", maps_to="the job's name"),
    # sbatch 22.05's other options (``sbatch --help``): known, no pod equivalent.
    Option("account", "A"), Option("acctg-freq"), Option("array", "a"), Option("batch"), Option("bb"),
    Option("bbf"), Option("begin", "b"), Option("chdir", "D"), Option("cluster-constraint"),
    Option("clusters", "M"), Option("comment"), Option("constraint", "C"), Option("container"),
    Option("contiguous", arg=NONE), Option("core-spec", "S"), Option("cores-per-socket"), Option("cpu-freq"),
    Option("cpus-per-gpu"), Option("deadline"), Option("delay-boot"), Option("dependency", "d"),
    Option("distribution", "m"), Option("error", "e"), Option("exclude", "x"), Option("exclusive", arg=OPTIONAL),
    Option("export", arg=OPTIONAL), Option("export-file"), Option("extra-node-info", "B"),
    Option("get-user-env", arg=OPTIONAL), Option("gid"), Option("gpu-bind"), Option("gpu-freq"),
    Option("gpus-per-socket"), Option("gres-flags"), Option("hint"), Option("hold", "H", NONE),
    Option("ignore-pbs", arg=NONE), Option("input", "i"), Option("kill-on-invalid-dep"),
    Option("licenses", "L"), Option("mail-type"), Option("mail-user"), Option("mcs-label"), Option("mem-bind"),
    Option("mincpus"), Option("network"), Option("nice", arg=OPTIONAL), Option("no-kill", "k", OPTIONAL),
    Option("no-requeue", arg=NONE), Option("nodefile", "F"), Option("nodelist", "w"),
    Option("ntasks-per-core"), Option("ntasks-per-gpu"), Option("ntasks-per-socket"), Option("open-mode"),
    Option("output", "o"), Option("overcommit", "O", NONE), Option("oversubscribe", "s", NONE),
    Option("parsable", arg=NONE), Option("partition", "p"), Option("power"), Option("priority"),
    Option("profile"), Option("propagate", arg=OPTIONAL), Option("qos", "q"), Option("quiet", "Q", NONE),
    Option("reboot", arg=NONE), Option("requeue", arg=NONE), Option("reservation"), Option("signal"),
    Option("sockets-per-node"), Option("spread-job", arg=NONE), Option("switches"), Option("test-only", arg=NONE),
    Option("thread-spec"), Option("threads-per-core"), Option("time-min"), Option("uid"),
    Option("use-min-nodes", arg=NONE), Option("verbose", "v", NONE), Option("wait", "W", NONE),
    Option("wait-all-nodes"), Option("wckey"), Option("wrap", arg=OPTIONAL),
)

_BY_LONG = {o.long: o for o in OPTIONS}
_BY_SHORT = {o.short: o for o in OPTIONS if o.short}
_SIZE = re.compile(r"([0-9]+)([KMGTkmgt]?)[Bb]?")
_UNIT_MIB = {"": 1, "M": 1, "G": 1024, "T": 1024 * 1024}
_TIMESPEC = re.compile(r"[0-9:-]+")


@dataclass(frozen=True)
class SbatchRequest:
    resources: Resources | None
    deadline_seconds: int | None
    job_name: str | None
    options: tuple[tuple[str, str], ...]  # (long name, value; "" for a flag) in the script's order
    notes: tuple[str, ...]


def table() -> list[tuple[str, str]]:
    """(option, what it becomes) for every option, the mapped ones first."""
    return [(f"--{o.long}" + (f", -{o.short}" if o.short else ""), o.maps_to or "no pod equivalent: a note")
            for o in OPTIONS]


# --- reading the script ------------------------------------------------------------------------------------------


def directives(script: str) -> list[tuple[int, list[str]]]:
    """(line number, words) of every ``#SBATCH`` line that sbatch reads."""
    out: list[tuple[int, list[str]]] = []
    for number, line in enumerate(script.splitlines(), 1):
        if line.startswith("#SBATCH"):
            out.append((number, _words(line[len("#SBATCH"):])))
        elif line.strip() and not line.lstrip().startswith("#"):
            break  # the first command ends the directives
    return out


def _words(text: str) -> list[str]:
    """sbatch's ``_get_argument``: shell-like quotes and backslashes; an unquoted ``#`` ends the line."""
    words: list[str] = []
    current: list[str] = []
    started = quoted = escaped = False
    quote = ""
    for char in text:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = started = True
        elif quoted:
            if char == quote:
                quoted = False
            else:
                current.append(char)
        elif char in "\"'":
            quoted, quote, started = True, char, True
        elif char == "#":
            break
        elif char.isspace():
            if started:
                words.append("".join(current))
                current, started = [], False
        else:
            current.append(char)
            started = True
    if started:
        words.append("".join(current))
    return words


def _long(name: str) -> tuple[Option | None, str]:
    """The option a long name means (exact, or a prefix of exactly one), and a note when it is not exact."""
    if name in _BY_LONG:
        return _BY_LONG[name], ""
    matches = [o for o in OPTIONS if o.long.startswith(name)]
    if len(matches) == 1:
        return matches[0], f"--{name} is an abbreviation of --{matches[0].long} (sbatch accepts it)"
    if matches:
        names = ", ".join(f"--{o.long}" for o in matches)
        return None, f"--{name} is ambiguous ({names}): sbatch refuses the script"
    return None, f"unknown option --{name}: not mapped"


def options(script: str) -> tuple[list[tuple[str, str]], list[str]]:
    """The ``(long name, value)`` pairs of the script's directives, and notes on what could not be read."""
    pairs: list[tuple[str, str]] = []
    notes: list[str] = []
    for number, words in directives(script):
        if words[:1] in (["hetjob"], ["packjob"]):
            notes.append(f"line {number}: a heterogeneous job: only its first component is read")
            break
        i = 0
        while i < len(words):
            word = words[i]
            i += 1
            if word.startswith("--") and len(word) > 2:
                name, eq, attached = word[2:].partition("=")
                option, note = _long(name)
                if note:
                    notes.append(f"line {number}: {note}")
                value = attached if eq else None
            elif word.startswith("-") and len(word) > 1:
                option, value = _short(word, pairs, notes, number)
            else:
                notes.append(f"line {number}: {word!r} is not an option: sbatch takes no arguments here")
                continue
            if option is None:
                continue
            if option.arg == REQUIRED and value is None:
                if i >= len(words):
                    notes.append(f"line {number}: --{option.long} needs a value: sbatch refuses the script")
                    continue
                value, i = words[i], i + 1
            elif option.arg == NONE and value is not None:
                notes.append(f"line {number}: --{option.long} takes no value: sbatch refuses the script")
                continue
            pairs.append((option.long, value or ""))
    return pairs, notes


def _short(word: str, pairs: list[tuple[str, str]], notes: list[str], number: int) -> tuple[Option | None, str | None]:
    """``-c4``, ``-c`` (its value the next word) or flags run together (``-Hv``): flags go straight to ``pairs``;
    the option that takes a value, with the value attached to it if any."""
    for j in range(1, len(word)):
        option = _BY_SHORT.get(word[j])
        if option is None:
            notes.append(f"line {number}: unknown option -{word[j]}: not mapped")
            return None, None
        if option.arg != NONE:
            return option, word[j + 1:] or None
        pairs.append((option.long, ""))
    return None, None


# --- quantities --------------------------------------------------------------------------------------------------


def size_mib(text: str) -> int | None:
    """A SLURM size (``--mem``, ``--tmp``…) in MiB, K rounded up as sbatch does; None when sbatch refuses it."""
    match = _SIZE.fullmatch(text.strip())
    if match is None:
        return None
    number, unit = int(match.group(1)), match.group(2).upper()
    if unit == "K":
        return (number + 1023) // 1024
    return number * _UNIT_MIB[unit]


def quantity(mib: int) -> str:
    """MiB as a Kubernetes quantity, in the largest binary unit that keeps it whole."""
    for unit, factor in (("Ti", 1024 * 1024), ("Gi", 1024)):
        if mib and mib % factor == 0:
            return f"{mib // factor}{unit}"
    return f"{mib}Mi"


def time_seconds(text: str) -> int | None:
    """A SLURM duration in seconds (``time_str2secs``): minutes, minutes:seconds, hours:minutes:seconds,
    days-hours, days-hours:minutes, days-hours:minutes:seconds; -1, INFINITE and UNLIMITED are None.
    ValueError for what sbatch refuses."""
    value = text.strip()
    if value.upper() in ("-1", "INFINITE", "UNLIMITED"):
        return None
    if not _TIMESPEC.fullmatch(value) or not _valid_timespec(value):
        raise ValueError(f"{text!r} is not a SLURM time")
    days, dash, rest = value.partition("-")
    if dash and not days:
        raise ValueError(f"{text!r} is not a SLURM time")
    parts = [int(p) if p else 0 for p in rest.split(":")] if dash else [int(p) for p in value.split(":")]
    if dash:
        hours, minutes, seconds = (parts + [0, 0, 0])[:3]
        return int(days) * 86400 + hours * 3600 + minutes * 60 + seconds
    if len(parts) == 3:
        return parts[0] * 3600 + parts[1] * 60 + parts[2]
    return parts[0] * 60 + (parts[1] if len(parts) == 2 else 0)


def _valid_timespec(value: str) -> bool:
    """SLURM's ``_is_valid_timespec``: digit groups, at most one dash (before any colon) and two colons."""
    digits = len(re.findall(r"[0-9]+", value))
    dashes, colons = value.count("-"), value.count(":")
    if not digits or dashes > 1 or colons > 2 or (dashes and ":" in value.split("-", 1)[0]):
        return False
    if dashes:
        return not ((colons == 1 and digits < 3) or (colons == 2 and digits < 4))
    return not ((colons == 1 and digits < 2) or (colons == 2 and digits < 3))


def time_limit_seconds(text: str) -> int | None:
    """What SLURM enforces for ``--time``: whole minutes, rounded up (``time_str2mins``); None for no limit
    (0 included, which sbatch reads as "no time limit")."""
    seconds = time_seconds(text)
    if seconds is None or seconds == 0:
        return None
    return -(-seconds // 60) * 60


# --- the mapping -------------------------------------------------------------------------------------------------


def _count(value: str, what: str, notes: list[str]) -> int | None:
    if re.fullmatch(r"[0-9]+", value.strip()) and int(value) > 0:
        return int(value)
    notes.append(f"--{what}={value}: not a positive whole number: sbatch refuses it")
    return None


def _typed_count(value: str, what: str, notes: list[str]) -> int | None:
    """``[TYPE:]N`` of the --gpus options; the type is a note."""
    kind, _, count = value.rpartition(":")
    if kind:
        notes.append(f"--{what}={value}: GPU type {kind!r} is not mapped (select such nodes with a nodeSelector)")
    return _count(count, what, notes)


def _gres_gpus(value: str, notes: list[str]) -> int | None:
    total: int | None = None
    for item in value.split(","):
        name, _, rest = item.partition(":")
        if name != "gpu":
            notes.append(f"--gres={item}: generic resource {name!r} has no pod equivalent")
            continue
        fields = rest.split(":") if rest else []
        count = fields[-1] if fields and fields[-1].isdigit() else "1"
        kinds = fields[:-1] if fields and fields[-1].isdigit() else fields
        if kinds:
            notes.append(f"--gres={item}: GPU type {':'.join(kinds)!r} is not mapped (select such nodes with a "
                         "nodeSelector)")
        total = (total or 0) + int(count)
    return total


def parse_script(script: str) -> SbatchRequest:
    """The pod resources and the deadline a batch script asks SLURM for."""
    pairs, notes = options(script)
    given: dict[str, str] = {}
    for name, value in pairs:
        given[name] = value  # a later option overrides an earlier one
    for name, value in given.items():
        if not _BY_LONG[name].maps_to:
            shown = f"--{name}={value}" if value else f"--{name}"
            notes.append(f"{shown}: no pod equivalent, not mapped")

    cpus_per_task = _count(given["cpus-per-task"], "cpus-per-task", notes) if "cpus-per-task" in given else None
    nodes = None
    if "nodes" in given:
        low = given["nodes"].split("-", 1)[0]
        nodes = _count(low, "nodes", notes)
        if nodes is not None and nodes > 1:
            notes.append(f"--nodes={given['nodes']}: a pod is one node; it requests every task's CPUs")
    tasks = None
    if "ntasks" in given:
        tasks = _count(given["ntasks"], "ntasks", notes)
    elif "ntasks-per-node" in given:
        per_node = _count(given["ntasks-per-node"], "ntasks-per-node", notes)
        tasks = per_node * (nodes or 1) if per_node else None
    cpus = (cpus_per_task or 1) * (tasks or 1)
    cpu = str(cpus) if cpus_per_task is not None or tasks is not None else None

    gpu = None
    if "gres" in given:
        gpu = _gres_gpus(given["gres"], notes)
    for name in ("gpus", "gpus-per-node"):
        if name in given:
            gpu = _typed_count(given[name], name, notes)
    if "gpus-per-task" in given:
        per_task = _typed_count(given["gpus-per-task"], "gpus-per-task", notes)
        gpu = per_task * (tasks or 1) if per_task else gpu

    memory = _memory(given, cpus, gpu, notes)
    storage = None
    if "tmp" in given:
        tmp = size_mib(given["tmp"])
        if tmp is None:
            notes.append(f"--tmp={given['tmp']}: not a SLURM size: sbatch refuses it")
        elif tmp:
            storage = quantity(tmp)

    deadline = None
    if "time" in given:
        try:
            deadline = time_limit_seconds(given["time"])
        except ValueError:
            notes.append(f"--time={given['time']}: not a SLURM time limit: sbatch refuses it")
    fields = {"cpu": cpu, "memory": memory, "memory_limit": memory, "gpu": gpu, "ephemeral_storage": storage}
    resources = Resources(**fields) if any(v is not None for v in fields.values()) else None  # type: ignore[arg-type]
    return SbatchRequest(resources, deadline, given.get("job-name") or None, tuple(pairs), tuple(notes))


def _memory(given: dict[str, str], cpus: int, gpus: int | None, notes: list[str]) -> str | None:
    kinds = [k for k in ("mem", "mem-per-cpu", "mem-per-gpu") if k in given]
    if len(kinds) > 1:
        notes.append(f"{', '.join('--' + k for k in kinds)} together: sbatch refuses the script (they are "
                     f"mutually exclusive); --{kinds[0]} is mapped")
    if not kinds:
        return None
    kind = kinds[0]
    mib = size_mib(given[kind])
    if mib is None:
        notes.append(f"--{kind}={given[kind]}: not a SLURM size: sbatch refuses it")
        return None
    if kind == "mem" and mib == 0:
        notes.append("--mem=0: all of a node's memory: no pod equivalent, not mapped")
        return None
    factor = {"mem": 1, "mem-per-cpu": cpus, "mem-per-gpu": gpus or 1}[kind]
    return quantity(mib * factor) if mib else None
