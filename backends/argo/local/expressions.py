"""The three expression languages of an Argo manifest, as far as a local run needs them.

- ``depends`` (ARGO-SEMANTICS §2.1): task names and ``name.Result`` atoms joined by ``&&``, ``||``, ``!`` and
  parentheses, parsed by ``backends.argo.manifest_model`` (the parser lint uses) and evaluated here.
- ``when`` (§2.2): govaluate after ``{{…}}`` substitution. A bare word is a string (``Succeeded == Succeeded``);
  ``true``/``false`` are booleans, numbers are numbers, quoted text is a string; ``==``, ``!=``, ``<``, ``>``,
  ``<=``, ``>=``, ``=~``, ``!~``, ``&&``, ``||``, ``!``, ``+ - * / %``, ``? :`` and parentheses.
- Expression tags ``{{= … }}`` (§2.5): a documented subset of expr-lang — literals, ``a.b``, ``a['b']``, ``a[0]``,
  arithmetic, comparisons, ``&&``/``and``, ``||``/``or``, ``!``/``not``, ``? :``, ``??``, ``in``, ``matches``,
  ``contains``, ``startsWith``, ``endsWith``, and the functions of :data:`FUNCTIONS` (``asInt``, ``asFloat``,
  ``string``, ``int``, ``float``, ``len``, ``toJson``, ``jsonpath``, ``lower``, ``upper``, ``trim``, ``split``,
  ``join``, ``keys``, ``values``) and :data:`SPRIG` (``sprig.upper``…). Anything else is an :class:`ExpressionError`
  naming the construct, never a guess.
"""

from __future__ import annotations

import base64
import datetime
import json
import math
import re
from collections.abc import Callable
from typing import Any

from backends.argo.manifest_model import AllOf, Depends, Expr, Not, Ref


class ExpressionError(Exception):
    """An expression that cannot be parsed or evaluated; the message says which and why."""


# --------------------------------------------------------------------------------------------------- depends

def evaluate_depends(depends: Depends, result: Callable[[str, str], bool],
                     continue_on: Callable[[str], dict[str, Any]]) -> bool:
    """``result(task, Result)`` answers one ``task.Result``; a bare name expands as Argo's ``expandDependency`` does:
    Succeeded, Skipped or Daemoned, plus Errored/Failed when the named task's ``continueOn`` allows them."""

    def bare(task: str) -> bool:
        wanted = ["Succeeded", "Skipped", "Daemoned"]
        policy = continue_on(task) or {}
        if policy.get("error"):
            wanted.append("Errored")
        if policy.get("failed"):
            wanted.append("Failed")
        return any(result(task, r) for r in wanted)

    def ev(node: Expr) -> bool:
        # Recursion is bounded: the parser refuses nesting deeper than MAX_NESTING, and &&/|| are n-ary.
        if isinstance(node, Ref):
            return result(node.task, node.result) if node.result is not None else bare(node.task)
        if isinstance(node, Not):
            return not ev(node.operand)
        if isinstance(node, AllOf):
            return all(ev(n) for n in node.operands)
        return any(ev(n) for n in node.operands)

    return ev(depends.tree)


# --------------------------------------------------------------------------------------------------- when / expr

class _Stream:
    def __init__(self, tokens: list[tuple[str, str]], source: str, what: str) -> None:
        self.tokens, self.pos, self.source, self.what = tokens, 0, source, what

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def next(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise ExpressionError(f"{self.what} {self.source!r}: unexpected end of expression")
        self.pos += 1
        return token

    def accept(self, *values: str) -> str | None:
        token = self.peek()
        if token is not None and token[0] in ("op", "ident") and token[1] in values:
            self.pos += 1
            return token[1]
        return None

    def expect(self, value: str) -> None:
        if self.accept(value) is None:
            found = self.peek()
            raise ExpressionError(f"{self.what} {self.source!r}: expected {value!r}, found "
                                  f"{found[1] if found else 'the end'!r}")


_NUMBER = r"\d+\.\d+|\d+"
_STRING = r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\""
_OPS = r"\?\?|&&|\|\||==|!=|>=|<=|=~|!~|[!<>+\-*/%?:()\[\],.]"
_GOVALUATE_TOKEN = re.compile(
    rf"(?P<ws>\s+)|(?P<number>{_NUMBER})|(?P<string>{_STRING})|(?P<ident>[A-Za-z_][A-Za-z0-9_.]*)|(?P<op>{_OPS})"
)
_EXPR_TOKEN = re.compile(
    rf"(?P<ws>\s+)|(?P<number>{_NUMBER})|(?P<string>{_STRING}|`[^`]*`)|(?P<ident>[A-Za-z_$#][A-Za-z0-9_]*)"
    rf"|(?P<op>{_OPS})"
)
_WORD_OPS = {"and": "&&", "or": "||", "not": "!"}
_COMPARISONS = ("==", "!=", "<", ">", "<=", ">=", "=~", "!~", "in", "matches", "contains", "startsWith",
                "endsWith")


def _tokens(text: str, pattern: re.Pattern[str], what: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        m = pattern.match(text, pos)
        if m is None:
            raise ExpressionError(f"{what} {text!r}: unexpected {text[pos:pos + 10]!r} at column {pos + 1}")
        pos = m.end()
        kind = m.lastgroup or ""
        if kind != "ws":
            out.append((kind, m.group()))
    return out


def _unquote(token: str) -> str:
    if token.startswith("`"):
        return token[1:-1]
    body = token[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


class _Parser:
    """Precedence climbing shared by both languages; ``govaluate`` mode reads identifiers as strings."""

    def __init__(self, text: str, govaluate: bool) -> None:
        self.govaluate = govaluate
        self.what = "when" if govaluate else "expression"
        self.text = text
        tokens = _tokens(text, _GOVALUATE_TOKEN if govaluate else _EXPR_TOKEN, self.what)
        if not govaluate:
            tokens = [("op", _WORD_OPS[v]) if k == "ident" and v in _WORD_OPS else (k, v) for k, v in tokens]
        self.s = _Stream(tokens, text, self.what)

    def parse(self) -> tuple[Any, ...]:
        if not self.s.tokens:
            raise ExpressionError(f"{self.what} is empty")
        tree = self.ternary()
        rest = self.s.peek()
        if rest is not None:
            raise ExpressionError(f"{self.what} {self.text!r}: unexpected {rest[1]!r}")
        return tree

    def ternary(self) -> tuple[Any, ...]:
        cond = self.nullish()
        if self.s.accept("?"):
            yes = self.ternary()
            self.s.expect(":")
            return ("?:", cond, yes, self.ternary())
        return cond

    def nullish(self) -> tuple[Any, ...]:
        left = self.disjunction()
        while not self.govaluate and self.s.accept("??"):
            left = ("??", left, self.disjunction())
        return left

    def disjunction(self) -> tuple[Any, ...]:
        left = self.conjunction()
        while self.s.accept("||"):
            left = ("||", left, self.conjunction())
        return left

    def conjunction(self) -> tuple[Any, ...]:
        left = self.comparison()
        while self.s.accept("&&"):
            left = ("&&", left, self.comparison())
        return left

    def comparison(self) -> tuple[Any, ...]:
        left = self.additive()
        while True:
            op = self.s.accept(*(_COMPARISONS[:8] if self.govaluate else _COMPARISONS))
            if op is None:
                return left
            left = (op, left, self.additive())

    def additive(self) -> tuple[Any, ...]:
        left = self.multiplicative()
        while True:
            op = self.s.accept("+", "-")
            if op is None:
                return left
            left = (op, left, self.multiplicative())

    def multiplicative(self) -> tuple[Any, ...]:
        left = self.unary()
        while True:
            op = self.s.accept("*", "/", "%")
            if op is None:
                return left
            left = (op, left, self.unary())

    def unary(self) -> tuple[Any, ...]:
        if self.s.accept("!"):
            return ("!", self.unary())
        if self.s.accept("-"):
            return ("neg", self.unary())
        return self.postfix()

    def postfix(self) -> tuple[Any, ...]:
        node = self.primary()
        while not self.govaluate:
            if self.s.accept("."):
                kind, name = self.s.next()
                if kind != "ident":
                    raise ExpressionError(f"expression {self.text!r}: expected a name after '.'")
                node = ("member", node, ("lit", name))
            elif self.s.accept("["):
                index = self.ternary()
                self.s.expect("]")
                node = ("member", node, index)
            elif self.s.accept("("):
                args: list[tuple[Any, ...]] = []
                if not self.s.accept(")"):
                    while True:
                        args.append(self.ternary())
                        if self.s.accept(")"):
                            break
                        self.s.expect(",")
                node = ("call", node, args)
            else:
                break
        return node

    def primary(self) -> tuple[Any, ...]:
        kind, value = self.s.next()
        if kind == "number":
            return ("lit", float(value) if self.govaluate or "." in value else int(value))
        if kind == "string":
            return ("lit", _unquote(value))
        if kind == "ident":
            if value in ("true", "false"):
                return ("lit", value == "true")
            if self.govaluate:
                return ("lit", value)  # govaluate variables are turned into strings (steps.go shouldExecute)
            if value == "nil":
                return ("lit", None)
            return ("var", value)
        if value == "(":
            inner = self.ternary()
            self.s.expect(")")
            return inner
        if value == "[" and not self.govaluate:
            items: list[tuple[Any, ...]] = []
            if not self.s.accept("]"):
                while True:
                    items.append(self.ternary())
                    if self.s.accept("]"):
                        break
                    self.s.expect(",")
            return ("list", items)
        raise ExpressionError(f"{self.what} {self.text!r}: unexpected {value!r}")


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _go_bool(v: Any, op: str, what: str) -> bool:
    if not isinstance(v, bool):
        raise ExpressionError(f"{what}: {op} needs booleans, got {_show(v)}")
    return v


def _show(v: Any) -> str:
    return "nil" if v is None else repr(v)


class _Evaluator:
    def __init__(self, env: dict[str, Any], what: str) -> None:
        self.env, self.what = env, what

    def ev(self, node: tuple[Any, ...]) -> Any:
        op = node[0]
        if op == "lit":
            return node[1]
        if op == "var":
            return self.env.get(node[1])
        if op == "list":
            return [self.ev(n) for n in node[1]]
        if op == "member":
            base, key = self.ev(node[1]), self.ev(node[2])
            return _member(base, key)
        if op == "call":
            return self.call(node[1], [self.ev(a) for a in node[2]])
        if op == "!":
            return not _go_bool(self.ev(node[1]), "!", self.what)
        if op == "neg":
            v = self.ev(node[1])
            if not _number(v):
                raise ExpressionError(f"{self.what}: cannot negate {_show(v)}")
            return -v
        if op == "&&":
            return _go_bool(self.ev(node[1]), op, self.what) and _go_bool(self.ev(node[2]), op, self.what)
        if op == "||":
            return _go_bool(self.ev(node[1]), op, self.what) or _go_bool(self.ev(node[2]), op, self.what)
        if op == "??":
            left = self.ev(node[1])
            return self.ev(node[2]) if left is None else left
        if op == "?:":
            return self.ev(node[2]) if _go_bool(self.ev(node[1]), "?:", self.what) else self.ev(node[3])
        return _binary(op, self.ev(node[1]), self.ev(node[2]), self.what)

    def call(self, callee: tuple[Any, ...], args: list[Any]) -> Any:
        if callee[0] == "var":
            name = callee[1]
            fn = FUNCTIONS.get(name)
        elif callee[0] == "member" and callee[1] == ("var", "sprig") and callee[2][0] == "lit":
            name = f"sprig.{callee[2][1]}"
            fn = SPRIG.get(callee[2][1])
        else:
            raise ExpressionError(f"{self.what}: only named functions can be called")
        if fn is None:
            raise ExpressionError(f"{self.what}: function {name!r} is not in the local runner's subset "
                                  "(see backends/argo/local/expressions.py)")
        try:
            return fn(*args)
        except ExpressionError:
            raise
        except Exception as exc:  # a wrong argument to a builtin: report it as the expression's error
            raise ExpressionError(f"{self.what}: {name}({', '.join(map(_show, args))}): {exc}") from None


def _member(base: Any, key: Any) -> Any:
    if base is None:
        return None  # lenient, like expr's ?. : an absent output stays absent so that ?? can replace it
    if isinstance(base, dict):
        return base.get(key if isinstance(key, str) else str(key))
    if isinstance(base, (list, str)) and _number(key):
        i = int(key)
        return base[i] if -len(base) <= i < len(base) else None
    return None


def _binary(op: str, a: Any, b: Any, what: str) -> Any:
    if op == "==":
        return _equal(a, b)
    if op == "!=":
        return not _equal(a, b)
    if op in ("<", ">", "<=", ">="):
        if not ((_number(a) and _number(b)) or (isinstance(a, str) and isinstance(b, str))):
            raise ExpressionError(f"{what}: cannot compare {_show(a)} {op} {_show(b)}")
        return {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]
    if op in ("=~", "!~", "matches"):
        if not (isinstance(a, str) and isinstance(b, str)):
            raise ExpressionError(f"{what}: {op} needs strings, got {_show(a)} and {_show(b)}")
        try:
            found = re.search(b, a) is not None
        except re.error as exc:
            raise ExpressionError(f"{what}: bad regular expression {b!r}: {exc}") from None
        return not found if op == "!~" else found
    if op == "in":
        if isinstance(b, dict):
            return a in b
        if isinstance(b, list):
            return any(_equal(a, x) for x in b)
        raise ExpressionError(f"{what}: 'in' needs a list or map on the right, got {_show(b)}")
    if op in ("contains", "startsWith", "endsWith"):
        if not (isinstance(a, str) and isinstance(b, str)):
            raise ExpressionError(f"{what}: {op} needs strings")
        return {"contains": b in a, "startsWith": a.startswith(b), "endsWith": a.endswith(b)}[op]
    if op == "+":
        if isinstance(a, str) or isinstance(b, str):
            if isinstance(a, str) and isinstance(b, str):
                return a + b
            raise ExpressionError(f"{what}: cannot add {_show(a)} and {_show(b)}")
    if not (_number(a) and _number(b)):
        raise ExpressionError(f"{what}: {op} needs numbers, got {_show(a)} and {_show(b)}")
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if b == 0:
        raise ExpressionError(f"{what}: division by zero")
    if op == "/":
        return a / b
    return math.fmod(a, b) if isinstance(a, float) or isinstance(b, float) else a % b


def _equal(a: Any, b: Any) -> bool:
    if _number(a) and _number(b):
        return float(a) == float(b)
    if type(a) is not type(b) and not (a is None or b is None):
        return False
    return bool(a == b)


# --------------------------------------------------------------------------------------------------- functions

def _as_int(v: Any) -> int:
    if _number(v):
        return int(v)
    text = str(v).strip()
    try:
        return int(text)
    except ValueError:
        raise ExpressionError(f"asInt: {text!r} is not an integer") from None


def _as_float(v: Any) -> float:
    try:
        return float(str(v).strip()) if not _number(v) else float(v)
    except ValueError:
        raise ExpressionError(f"asFloat: {v!r} is not a number") from None


def to_text(v: Any) -> str:
    """How a value prints in a substituted template: strings as they are, everything else as JSON."""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return json.dumps(v, separators=(",", ":"))


def _json_load(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        raise ExpressionError(f"not JSON: {text[:60]!r}") from None


_JSONPATH_STEP = re.compile(r"\.([A-Za-z_][-A-Za-z0-9_]*)|\[\s*'([^']*)'\s*\]|\[\s*\"([^\"]*)\"\s*\]|\[(\d+)\]|\[\*\]|\.\*")


def jsonpath(document: Any, path: str) -> Any:
    """The subset of JSONPath Argo's examples use: ``$``, ``.name``, ``['name']``, ``[0]``, ``[*]``."""
    data = _json_load(document)
    if not path.startswith("$"):
        raise ExpressionError(f"jsonpath {path!r} must start with '$'")
    values, pos, wildcard = [data], 1, False
    while pos < len(path):
        m = _JSONPATH_STEP.match(path, pos)
        if m is None:
            raise ExpressionError(f"jsonpath {path!r}: unsupported at {path[pos:]!r}")
        pos = m.end()
        nxt: list[Any] = []
        for v in values:
            key = m.group(1) or m.group(2) or m.group(3)
            if key is not None:
                if isinstance(v, dict) and key in v:
                    nxt.append(v[key])
            elif m.group(4) is not None:
                if isinstance(v, list) and int(m.group(4)) < len(v):
                    nxt.append(v[int(m.group(4))])
            else:
                wildcard = True
                nxt.extend(v if isinstance(v, list) else list(v.values()) if isinstance(v, dict) else [])
        if not nxt and not wildcard:
            # Argo's jsonpath (evilmonkeyinc/jsonpath) fails on a missing key or index, and the failure is an
            # error of the whole expression: a ``?? fallback`` around it does not catch it.
            raise ExpressionError(f"jsonpath {path!r}: {m.group(0)!r} not found in {_show(data)[:80]}")
        values = nxt
    if wildcard:
        return values
    return values[0]


_GO_LAYOUT = [("2006", "%Y"), ("January", "%B"), ("Monday", "%A"), ("Z07:00", "%z"), ("-07:00", "%z"),
              ("-0700", "%z"), ("MST", "%Z"), ("Jan", "%b"), ("Mon", "%a"), ("01", "%m"), ("02", "%d"),
              ("15", "%H"), ("03", "%I"), ("04", "%M"), ("05", "%S"), ("06", "%y"), ("PM", "%p"), (".000000", ".%f"),
              (".000", ".%f")]


def _strftime_of(layout: str) -> str:
    """A Go time layout (``2006-01-02T15:04:05Z07:00``) as a strftime pattern."""
    out, i = "", 0
    while i < len(layout):
        for go, py in _GO_LAYOUT:
            if layout.startswith(go, i):
                out += py
                i += len(go)
                break
        else:
            out += layout[i].replace("%", "%%")
            i += 1
    return out


def _to_date(layout: str, text: Any) -> datetime.datetime:
    if not isinstance(text, str):
        # As in Argo: a variable that has children (workflow.creationTimestamp has .Y, .m…) is a map in expressions.
        raise ExpressionError(f"toDate: expected a string, got a {type(text).__name__} ({_show(text)[:60]}…)")
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    try:
        return datetime.datetime.strptime(value, _strftime_of(layout))
    except ValueError as exc:
        raise ExpressionError(f"toDate: {text!r} does not match layout {layout!r}: {exc}") from None


def _date(layout: str, when: Any) -> str:
    if not isinstance(when, datetime.datetime):
        when = _to_date("2006-01-02T15:04:05Z07:00", when)
    text = when.strftime(_strftime_of(layout))
    return text.replace("+0000", "Z") if "Z07:00" in layout else text


def _date_modify(duration: str, when: Any) -> datetime.datetime:
    if not isinstance(when, datetime.datetime):
        raise ExpressionError(f"dateModify needs a date, got {when!r}")
    sign = -1.0 if duration.startswith("-") else 1.0
    body = duration.lstrip("+-")
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", body)
    if not parts or "".join(n + u for n, u in parts) != body:
        raise ExpressionError(f"dateModify: {duration!r} is not a duration such as -24h")
    return when + datetime.timedelta(seconds=sign * sum(float(n) * units[u] for n, u in parts))


def _string(v: Any) -> str:
    return "<nil>" if v is None else to_text(v)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "asInt": _as_int,
    "asFloat": _as_float,
    "string": _string,
    "int": _as_int,
    "float": _as_float,
    "len": lambda v: len(v),
    "toJson": lambda v: json.dumps(v, separators=(",", ":")),
    "jsonpath": jsonpath,
    "lower": lambda s: str(s).lower(),
    "upper": lambda s: str(s).upper(),
    "trim": lambda s, chars=None: str(s).strip(chars),
    "split": lambda s, sep: str(s).split(sep),
    "join": lambda items, sep="": sep.join(map(_string, items)),
    "keys": lambda d: list(d),
    "values": lambda d: list(d.values()),
}

SPRIG: dict[str, Callable[..., Any]] = {
    "upper": lambda s: str(s).upper(),
    "lower": lambda s: str(s).lower(),
    "trim": lambda s: str(s).strip(),
    "trimPrefix": lambda p, s: s[len(p):] if s.startswith(p) else s,
    "trimSuffix": lambda p, s: s[: -len(p)] if p and s.endswith(p) else s,
    "replace": lambda old, new, s: str(s).replace(old, new),
    "contains": lambda sub, s: sub in s,
    "hasPrefix": lambda p, s: str(s).startswith(p),
    "hasSuffix": lambda p, s: str(s).endswith(p),
    "add": lambda *xs: sum(_as_int(x) for x in xs),
    "sub": lambda a, b: _as_int(a) - _as_int(b),
    "mul": lambda *xs: math.prod(_as_int(x) for x in xs),
    "div": lambda a, b: _as_int(a) // _as_int(b),
    "mod": lambda a, b: _as_int(a) % _as_int(b),
    "max": lambda *xs: max(_as_int(x) for x in xs),
    "min": lambda *xs: min(_as_int(x) for x in xs),
    "int": _as_int,
    "atoi": _as_int,
    "float64": _as_float,
    "toString": _string,
    "default": lambda d, v=None: d if v in (None, "", [], {}, 0, False) else v,
    "empty": lambda v: v in (None, "", [], {}, 0, False),
    "ternary": lambda yes, no, cond: yes if cond else no,
    "join": lambda sep, items: sep.join(map(_string, items)),
    "splitList": lambda sep, s: str(s).split(sep),
    "list": lambda *xs: list(xs),
    "dict": lambda *kv: {str(kv[i]): kv[i + 1] for i in range(0, len(kv) - 1, 2)},
    "toJson": lambda v: json.dumps(v, separators=(",", ":")),
    "fromJson": _json_load,
    "quote": lambda *xs: " ".join(json.dumps(_string(x)) for x in xs),
    "squote": lambda *xs: " ".join(f"'{_string(x)}'" for x in xs),
    "repeat": lambda n, s: str(s) * _as_int(n),
    "substr": lambda a, b, s: str(s)[_as_int(a):_as_int(b)],
    "b64enc": lambda s: base64.b64encode(str(s).encode()).decode(),
    "b64dec": lambda s: base64.b64decode(str(s)).decode(),
    "toDate": _to_date,
    "date": _date,
    "dateModify": _date_modify,
    "now": lambda: datetime.datetime.now(datetime.timezone.utc),
    "first": lambda xs: xs[0] if xs else None,
    "last": lambda xs: xs[-1] if xs else None,
}


def evaluate_when(text: str) -> bool:
    """A substituted ``when``: true means run, false means Skipped; anything else raises."""
    value = _Evaluator({}, f"when {text!r}").ev(_Parser(text, govaluate=True).parse())
    if not isinstance(value, bool):
        raise ExpressionError(f"when {text!r}: expected a boolean, got {_show(value)}")
    return value


def evaluate_expr(text: str, env: dict[str, Any]) -> Any:
    """An expression tag's body against ``env`` (nested maps of the scope's variables)."""
    return _Evaluator(env, f"expression {text.strip()!r}").ev(_Parser(text, govaluate=False).parse())
