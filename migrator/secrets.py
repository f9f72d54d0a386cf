"""One credential detector for every string that reaches a manifest, and the pass that replaces what it finds.

Detection asks detect-secrets' own plugins first (private keys, basic-auth URIs, AWS/GitHub/Slack/Stripe/JWT…
token shapes, and its keyword detector for ``password = "…"`` in code) and adds the shapes a workflow's command
lines carry that those plugins do not look for: a URI with a password anywhere in the text (``redis://:pw@``,
``jdbc:postgresql://u:pw@``, a ``/`` in the password), ``password=`` in a DSN, ``curl -u user:pw``, ``mysql -pPW``,
``export TOKEN=…``, ``--password=…`` and ``Bearer …``. A name (an environment variable, a header, a dict key) is
sensitive when one of its *words* is (``DB_PASSWORD``, ``apiKey``, ``FERNET_KEY``), so that ``AUTHOR`` and
``TOKENIZER_MODEL`` are not.

The pass is language-neutral: it walks the IR, and each literal secret becomes a :class:`~migrator.ir.SecretRef` to
the Secret ``argo-migrate-credentials`` under a key named for the workflow, task and place, with a warning (AM121)
that says which key to create. The value itself is never copied.
"""

from __future__ import annotations

import ast
import functools
import io
import re
import tokenize
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

from migrator.diagnostics import Diagnostic, diag
from migrator.ir import (
    Action,
    ContainerRun,
    HttpRequest,
    PyArg,
    PythonCall,
    RunWorkflow,
    SecretRef,
    Task,
    Text,
    Workflow,
)

SECRET_NAME = "argo-migrate-credentials"

_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_SENSITIVE_WORDS = frozenset({
    "password", "passwd", "pwd", "pw", "pass", "passphrase", "secret", "secrets", "token", "tokens", "credential",
    "credentials", "jwt", "cookie", "auth", "authorization", "apikey", "bearer", "privatekey",
})
# A compound word ending so is sensitive too (PGPASSWORD, mytoken), while TOKENIZER is not.
_SENSITIVE_ENDINGS = ("password", "passwd", "secret", "token", "apikey")
# Words that make "key" sensitive when they come right before it (FERNET_KEY, api-key, sshKey).
_KEY_PREFIXES = frozenset({
    "api", "private", "secret", "access", "fernet", "encryption", "signing", "ssh", "client", "master", "session",
    "auth", "service", "account", "license", "webhook", "hmac", "crypt",
})


def sensitive_name(name: str) -> bool:
    """Whether a name (env variable, header, keyword) says its value is a credential, judged word by word."""
    words = [w.lower() for w in _WORDS.findall(name)]
    if any(w in _SENSITIVE_WORDS or w.endswith(_SENSITIVE_ENDINGS) for w in words):
        return True
    return any(a in _KEY_PREFIXES and b in ("key", "keys") for a, b in zip(words, words[1:], strict=False))


# Shapes in free text whose group 1 is the secret.
_TEXT_PATTERNS = (
    # scheme://user:PW@ (user may be empty); the look-behind keeps the scan linear on long runs of letters.
    re.compile(r"(?<![a-z0-9+.-])[a-z][a-z0-9+.-]*://[^\s:/@'\"]*:([^\s@'\"]+)@", re.I),
    re.compile(r"\b(?:password|passwd|pwd)\s*=\s*'?([^\s;&'\"]+)", re.I),  # DSN: host=db password=PW
    re.compile(r"(?:^|\s)(?:-u|--user)\s+'?[^\s:'\"]+:([^\s'\"]+)"),  # curl -u admin:PW
    re.compile(r"\bmysql(?:dump|admin)?\b[^\n;|&]*?\s-p([^\s'\"]+)"),  # mysql -uroot -pPW
    re.compile(r"\bBearer\s+([A-Za-z0-9._~+/=-]{6,})"),  # Authorization: Bearer TOKEN
)
_TOKEN_CHAR = re.compile(r"[A-Za-z0-9_.+/=-]")
_PRIVATE_KEY = re.compile(r"-----BEGIN[A-Z ]*PRIVATE KEY( BLOCK)?-----.*?(-----END[A-Z ]*PRIVATE KEY( BLOCK)?-----|\Z)",
                          re.S)
_PAIR = re.compile(r"[\"']([A-Za-z_][\w-]*)[\"']\s*:\s*[\"']([^\"'\n]+)[\"']")  # "password": "…" in JSON or a dict
_ASSIGNMENT = re.compile(r"(?:^|[\s;&|(])(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=('[^']*'|\"[^\"]*\"|[^\s;&|)]+)")
_OPTION = re.compile(r"(?:^|\s)--([A-Za-z][A-Za-z0-9-]*)[= ]('[^']*'|\"[^\"]*\"|[^\s-][^\s]*)")


@cache
def _plugins() -> tuple[Any, ...]:
    # Imported on first use: detect-secrets pulls in requests, which a run without any string does not need.
    from detect_secrets.plugins.aws import AWSKeyDetector
    from detect_secrets.plugins.azure_storage_key import AzureStorageKeyDetector
    from detect_secrets.plugins.github_token import GitHubTokenDetector
    from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
    from detect_secrets.plugins.jwt import JwtTokenDetector
    from detect_secrets.plugins.npm import NpmDetector
    from detect_secrets.plugins.openai import OpenAIDetector
    from detect_secrets.plugins.private_key import PrivateKeyDetector
    from detect_secrets.plugins.pypi_token import PypiTokenDetector
    from detect_secrets.plugins.sendgrid import SendGridDetector
    from detect_secrets.plugins.slack import SlackDetector
    from detect_secrets.plugins.stripe import StripeDetector

    # BasicAuthDetector is left out: the URI pattern above finds what it finds, and more (an empty user, a '/').
    return tuple(cls() for cls in (AWSKeyDetector, AzureStorageKeyDetector, GitHubTokenDetector,
                                   GitLabTokenDetector, JwtTokenDetector, NpmDetector, OpenAIDetector,
                                   PypiTokenDetector, SendGridDetector, SlackDetector, StripeDetector)) + (
        PrivateKeyDetector(),)


@cache
def _keyword() -> Any:
    from detect_secrets.plugins.keyword import KeywordDetector

    return KeywordDetector()


def _unquote(value: str) -> tuple[str, int]:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1], 1
    return value, 0


@functools.lru_cache(maxsize=65536)
def secret_spans(value: str, code: bool = False) -> tuple[tuple[int, int], ...]:
    """The (start, end) spans of ``value`` that hold credentials, sorted and merged. ``code``: the text is
    program source, where detect-secrets' keyword detector applies."""
    if len(value) < 4:
        return ()
    spans: list[tuple[int, int]] = []

    def add(secret: str, start_at: int = 0) -> None:
        if not secret or "{{" in secret or "$(" in secret or secret.startswith("$"):
            return  # a template or a variable, not a literal
        at = value.find(secret, start_at)
        while at >= 0:
            spans.append((at, at + len(secret)))
            at = value.find(secret, at + len(secret))

    for pattern in _TEXT_PATTERNS:
        for m in pattern.finditer(value):
            spans.append(m.span(1))
    for m in _ASSIGNMENT.finditer(value):
        if sensitive_name(m.group(1)):
            inner, q = _unquote(m.group(2))
            if inner and not inner.startswith("$"):
                spans.append((m.start(2) + q, m.start(2) + q + len(inner)))
    for m in _PAIR.finditer(value):
        if sensitive_name(m.group(1)) and not m.group(2).startswith(("$", "{{")):
            spans.append(m.span(2))
    for m in _OPTION.finditer(value):
        if sensitive_name(m.group(1)):
            inner, q = _unquote(m.group(2))
            if inner and not inner.startswith(("$", "{{")):
                spans.append((m.start(2) + q, m.start(2) + q + len(inner)))
    for plugin in _plugins():
        for regex in plugin.denylist:
            for m in regex.finditer(value):
                # A plugin's group is sometimes only the token's prefix (``ghp``): the secret is the whole token.
                start, end = m.span()
                while end < len(value) and _TOKEN_CHAR.match(value[end]):
                    end += 1
                spans.append((start, end))
    for m in _PRIVATE_KEY.finditer(value):  # the plugin names the header; the whole block is the secret
        spans.append(m.span())
    if code:
        for line in value.splitlines():
            for found in _keyword().analyze_string(line):
                add(found)
    return tuple(_merge(spans))


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(end, out[-1][1]))
        else:
            out.append((start, end))
    return out


# --- the pass ----------------------------------------------------------------------------------------------------


@dataclass
class _Hider:
    workflow: Workflow
    task: Task
    found: list[tuple[str, str]] = field(default_factory=list)  # (where, secret key)
    variables: int = 0  # environment variables made for literals in program text

    def key(self, where: str) -> str:
        base = re.sub(r"[^-._a-zA-Z0-9]+", "_", f"{self.workflow.id}.{self.task.id}.{where}")[:240]
        taken = {k for _, k in self.found}
        key, n = base, 2
        while key in taken:
            key, n = f"{base}-{n}", n + 1
        self.found.append((where, key))
        return key

    def ref(self, where: str) -> SecretRef:
        return SecretRef(SECRET_NAME, self.key(where))

    def text(self, value: Text, where: str, name: str | None = None) -> Text:
        """``value`` with each literal credential replaced by a reference; all of it when ``name`` is sensitive."""
        literal = "".join(p for p in value if isinstance(p, str))
        if name is not None and sensitive_name(name) and literal.strip() and not (
                len(value) == 1 and isinstance(value[0], SecretRef)):
            return (self.ref(where),)
        out: list[str | Any] = []
        for part in value:
            if not isinstance(part, str):
                out.append(part)
                continue
            cut = 0
            for start, end in secret_spans(part):
                out += [part[cut:start], self.ref(where)]
                cut = end
            out.append(part[cut:])
        result = tuple(p for p in out if p != "")
        return result if result != value else value

    def pairs(self, pairs: tuple[tuple[str, Text], ...], where: str) -> tuple[tuple[str, Text], ...]:
        return tuple((k, self.text(v, f"{where}.{k}", k)) for k, v in pairs)

    def python(self, source: str, where: str) -> tuple[str, tuple[tuple[str, Text], ...]]:
        """Program text with each string literal that holds a credential rebuilt from an environment variable."""
        env: list[tuple[str, Text]] = []
        try:
            tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
        except (tokenize.TokenError, SyntaxError, IndentationError):
            return source, ()
        lines = source.splitlines(keepends=True)
        offsets = [0]
        for line in lines:
            offsets.append(offsets[-1] + len(line))
        edits: list[tuple[int, int, str]] = []
        for i, tok in enumerate(tokens):
            if tok.type != tokenize.STRING:
                continue
            literal = _literal(tok.string)
            if not isinstance(literal, str):
                continue  # an f-string, bytes: left as they are
            # The name it is bound to: ``TOKEN = "…"``, ``f(password="…")``, ``{"api_key": "…"}``.
            label = ""
            if i >= 2 and tokens[i - 1].type == tokenize.OP and tokens[i - 1].string in ("=", ":"):
                before = tokens[i - 2]
                label = before.string if before.type == tokenize.NAME else str(_literal(before.string) or "")
            whole = sensitive_name(label) and len(literal) >= 4
            spans = [(0, len(literal))] if whole else secret_spans(literal, code=False)
            if not spans:
                continue
            pieces: list[str] = []
            cut = 0
            for start, end in spans:
                self.variables += 1
                var = f"AM_SECRET_{self.variables}"
                env.append((var, (self.ref(f"{where}.{var}"),)))
                if literal[cut:start]:
                    pieces.append(repr(literal[cut:start]))
                pieces.append(f"__import__('os').environ[{var!r}]")
                cut = end
            if literal[cut:]:
                pieces.append(repr(literal[cut:]))
            begin = offsets[tok.start[0] - 1] + tok.start[1]
            finish = offsets[tok.end[0] - 1] + tok.end[1]
            edits.append((begin, finish, "(" + " + ".join(pieces) + ")"))
        for begin, finish, new in reversed(edits):
            source = source[:begin] + new + source[finish:]
        return source, tuple(env)

    def action(self, action: Action) -> Action:
        if isinstance(action, ContainerRun):
            return replace(action, command=tuple(self.text(v, "command") for v in action.command),
                           args=tuple(self.text(v, f"args{i}") for i, v in enumerate(action.args)),
                           env=self.pairs(action.env, "env"))
        if isinstance(action, PythonCall):
            source, env = self.python(action.source, "source")
            preamble, env2 = self.python(action.preamble, "preamble")
            args = tuple(self.pyarg(a, i) for i, a in enumerate(action.args))
            return replace(action, source=source, preamble=preamble, args=args,
                           env=self.pairs(action.env, "env") + env + env2)
        if isinstance(action, HttpRequest):
            body = self.text(action.body, "body") if action.body is not None else None
            return replace(action, url=self.text(action.url, "url"), headers=self.pairs(action.headers, "headers"),
                           body=body)
        if isinstance(action, RunWorkflow):
            return replace(action, parameters=self.pairs(action.parameters, "parameters"))
        return action

    def pyarg(self, arg: PyArg, index: int) -> PyArg:
        if arg.literal is None:
            return arg
        where = f"arg.{arg.name or index}"
        try:
            value = ast.literal_eval(arg.literal)
        except (ValueError, SyntaxError):
            value = None
        if isinstance(value, str) and ((arg.name and sensitive_name(arg.name) and len(value) >= 4)
                                       or secret_spans(value)):
            return PyArg(arg.name, ref=self.ref(where))
        if isinstance(value, dict | list | tuple):
            if _holds_secret(value):
                return PyArg(arg.name, ref=self.ref(where))
        return arg


def _literal(token: str) -> Any:
    try:
        return ast.literal_eval(token)
    except (ValueError, SyntaxError):
        return None


def _holds_secret(value: Any, name: str = "") -> bool:
    if isinstance(value, str):
        return (sensitive_name(name) and len(value) >= 4) or bool(secret_spans(value))
    if isinstance(value, dict):
        return any(_holds_secret(v, str(k)) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_holds_secret(v, name) for v in value)
    return False


def _walk(tasks: Iterator[Task], workflow: Workflow, found: list[Diagnostic],
          replace_task: Callable[[Task], None]) -> None:
    for task in tasks:
        hider = _Hider(workflow, task)
        action = hider.action(task.action)
        if not hider.found:
            continue
        replace_task(replace(task, action=action))
        o = task.origin
        if isinstance(action, HttpRequest) and any(
                isinstance(p, SecretRef) for p in (*action.url, *(action.body or ()))):
            found.append(diag("AM119", o.path, o.line, o.column,
                              f"task {task.id!r}: Argo's HTTP template reads Secrets only in headers; the credential "
                              "in its URL or body is sent as the placeholder $(…): move it to a header"))
        for where, key in hider.found:
            found.append(diag("AM121", o.path, o.line, o.column,
                              f"task {task.id!r}: a credential in {where} was not copied; create the Secret "
                              f"{SECRET_NAME!r} with key {key!r} holding it"))


def hide_secrets(workflow: Workflow) -> Workflow:
    """Every literal credential in what a task runs becomes a Secret reference and a warning."""
    out = workflow.copy()
    found: list[Diagnostic] = []
    _walk(iter(out.tasks()), out, found, out.replace_task)
    exits: list[Task] = []
    _walk(iter(out.on_exit), out, found, exits.append)
    if exits:
        replaced = {t.id: t for t in exits}
        out.on_exit = tuple(replaced.get(t.id, t) for t in out.on_exit)
    out.diagnostics = workflow.diagnostics + tuple(found)
    return out
