"""The Python the static evaluator (evaluator.py) actually runs — builtins, library calls and operators on plain
values — and the budget within which it runs them.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
import string
import textwrap
from pathlib import PurePosixPath
from typing import Any

from frontends.airflow.values import DateTime, Duration, ParseTime, TimeOfDay, Unknown, Value

MAX_LOOP = 10_000
MAX_DEPTH = 16
# The evaluator's budget, so that a 200-byte file cannot exhaust the host (``range(10**9)``, ``"x" * 10**10``,
# ``9**9**9**9``, nested loops): a container or string larger than MAX_ITEMS, an integer wider than MAX_INT_BITS,
# a format width over MAX_WIDTH are "not statically known"; more than MAX_STEPS evaluations stop the file.
MAX_ITEMS = 100_000
MAX_INT_BITS = 4096
MAX_WIDTH = 10_000
MAX_STEPS = 2_000_000


class BudgetExceeded(Exception):
    """The file needs more evaluation steps than MAX_STEPS: its evaluation stops (AM126)."""


def plain(value: Value, depth: int = 0) -> bool:
    """A value made only of str, numbers, booleans, None, lists, tuples and dicts, all the way down: the only
    values that Python operations (format, %, +) may run on, so that no internal object is ever rendered."""
    if isinstance(value, str | int | float | bool | type(None)):
        return True
    if depth > 50:
        return False
    if isinstance(value, list | tuple):
        return all(plain(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(plain(k, depth + 1) and plain(v, depth + 1) for k, v in value.items())
    return False


_FORMAT_FIELD = re.compile(r"(\d+|[A-Za-z_]\w*)?")
_WIDE = re.compile(r"\d+")


def too_wide(spec: str) -> bool:
    return any(int(m.group()) > MAX_WIDTH for m in _WIDE.finditer(spec) if len(m.group()) < 12) or bool(
        re.search(r"\d{12,}", spec))


def safe_format(fmt: str) -> bool:
    """Whether every replacement field of ``fmt`` names an argument (no attribute or index walk) and no width is
    over MAX_WIDTH."""
    try:
        fields = list(string.Formatter().parse(fmt))
    except ValueError:
        return False
    for _, field_name, spec, _ in fields:
        if field_name is None:
            continue
        if not _FORMAT_FIELD.fullmatch(field_name) or (spec and (not safe_format(spec) or too_wide(spec))):
            return False
    return True


def affordable(op: str, left: Value, right: Value) -> bool:
    """Whether ``left op right`` stays within the evaluator's budget, judged before it is computed."""
    if op == "Multiply":
        for seq, times in ((left, right), (right, left)):
            if isinstance(seq, str | list | tuple) and isinstance(times, int) and len(seq) * max(times, 0) > MAX_ITEMS:
                return False
    if op == "Power" and isinstance(left, int) and isinstance(right, int) and abs(left) > 1:
        return right < 0 or right * abs(left).bit_length() <= MAX_INT_BITS
    if op == "Modulo" and isinstance(left, str):
        return not re.search(r"%[-#0 +]*(\*|\d{6,})", left)
    if op in ("Add",) and isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple):
        return len(left) + len(right) <= MAX_ITEMS * 10
    return True


def bounded(value: Value) -> Value:
    """``value`` when it is within the size limits, else Unknown."""
    if isinstance(value, str | list | tuple | dict) and len(value) > MAX_ITEMS * 10:
        return Unknown("a value over the evaluator's size limit")
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
        return Unknown("an integer over the evaluator's size limit")
    return value


def hashable(value: Value) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _timedelta(days: float = 0, seconds: float = 0, microseconds: float = 0, milliseconds: float = 0,
               minutes: float = 0, hours: float = 0, weeks: float = 0) -> Duration:
    return Duration(_dt.timedelta(days=days, seconds=seconds, microseconds=microseconds, milliseconds=milliseconds,
                                  minutes=minutes, hours=hours, weeks=weeks).total_seconds())


def _datetime(year: int, month: int = 1, day: int = 1, hour: int = 0, minute: int = 0, second: int = 0,
              *rest: Any, tz: Any = None, tzinfo: Any = None) -> DateTime:
    zone = tz if isinstance(tz, str) else (tzinfo if isinstance(tzinfo, str) else None)
    return DateTime(_dt.datetime(year, month, day, hour, minute, second).isoformat(), zone)


def _time(hour: int = 0, minute: int = 0, second: int = 0, *rest: Any, **kw: Any) -> TimeOfDay:
    if not all(isinstance(v, int) for v in (hour, minute, second)):
        raise TypeError("dynamic time")
    return TimeOfDay(hour, minute, second)


def _path(*parts: Any) -> PurePosixPath:
    if not all(isinstance(p, str | PurePosixPath) for p in parts):
        raise TypeError("dynamic path")
    return PurePosixPath(*parts)


# Library calls the evaluator computes, by the qualified name of what is called.
KNOWN_CALLS: dict[str, Any] = {
    "pathlib.Path": _path,
    "pathlib.PurePath": _path,
    "os.path.basename": os.path.basename,
    "os.path.dirname": os.path.dirname,
    "os.path.splitext": lambda p: list(os.path.splitext(p)),
    "os.path.join": os.path.join,
    "textwrap.dedent": textwrap.dedent,
    "textwrap.indent": textwrap.indent,
    "datetime.timedelta": _timedelta,
    "datetime.datetime": _datetime,
    "pendulum.datetime": _datetime,
    "pendulum.duration": _timedelta,
    "datetime.time": _time,
    "datetime.datetime.now": lambda *a, **k: ParseTime(),
    "datetime.datetime.utcnow": lambda *a, **k: ParseTime(),
    "pendulum.now": lambda *a, **k: ParseTime(),
    "pendulum.time": _time,
    "pendulum.timezone": lambda name: name,
}

STR_METHODS = {"lower", "upper", "strip", "lstrip", "rstrip", "replace", "join", "split", "title",
               "startswith", "endswith", "zfill"}


def _range(*args: int) -> list[int]:
    span = range(*args)
    if len(span) > MAX_ITEMS:
        raise ValueError("range over the evaluator's size limit")
    return list(span)


BUILTINS: dict[str, Any] = {
    "range": _range,
    "len": len,
    "str": str,
    "int": int,
    "float": float,
    "bool": bool,
    "list": lambda *a: list(*a),
    "tuple": lambda *a: tuple(*a),
    "dict": lambda *a, **k: dict(*a, **k),
    "enumerate": lambda *a, **k: list(enumerate(*a, **k)),
    "zip": lambda *a: list(zip(*a, strict=False)),
    "sorted": lambda *a, **k: sorted(*a, **k),
    "reversed": lambda a: list(reversed(a)),
    "min": min,
    "max": max,
    "abs": abs,
}
