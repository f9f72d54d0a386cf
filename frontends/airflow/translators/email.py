"""EmailOperator → a container that sends the mail over SMTP with curl.

The SMTP server and its credentials come from the Secret ``airflow-smtp`` (keys ``url`` such as
``smtps://mail.example.com:465``, ``user``, ``password``, ``from``), as Airflow's ``[smtp]`` settings would; the
message itself (recipients, subject, HTML body with Jinja translated) is in the manifest.
"""

from __future__ import annotations

from typing import Any

from frontends.airflow.model import TaskDraft
from frontends.airflow.translate import TranslateContext, Translation, Untranslatable, templated
from migrator.ir import ContainerRun, SecretRef, Text, text

CURL_IMAGE = "curlimages/curl:8.10.1"
SMTP_SECRET = "airflow-smtp"

_SEND = (
    'rcpt=""; for r in $MAIL_TO; do rcpt="$rcpt --mail-rcpt $r"; done\n'
    "printf 'From: %s\\r\\nTo: %s\\r\\nSubject: %s\\r\\nMIME-Version: 1.0\\r\\n"
    "Content-Type: text/html; charset=utf-8\\r\\n\\r\\n%s\\r\\n' "
    '"$SMTP_FROM" "$MAIL_TO" "$MAIL_SUBJECT" "$MAIL_BODY" > /tmp/mail.txt\n'
    'exec curl --fail --ssl-reqd --url "$SMTP_URL" --user "$SMTP_USER:$SMTP_PASSWORD" '
    '--mail-from "$SMTP_FROM" $rcpt --upload-file /tmp/mail.txt\n'
)


def _recipients(value: Any) -> str:
    if isinstance(value, str):
        return " ".join(part.strip() for part in value.replace(";", ",").split(",") if part.strip())
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return " ".join(value)
    raise Untranslatable("AM103", "the recipients are only known at run time")


def email_operator(task: TaskDraft, ctx: TranslateContext) -> Translation:
    if task.arg("files"):
        raise Untranslatable("AM115", "attachments (files=) are not translated yet")
    env: tuple[tuple[str, Text], ...] = (
        ("MAIL_TO", text(_recipients(task.arg("to")))),
        ("MAIL_SUBJECT", templated(task.arg("subject") or "", task, ctx, "subject")),
        ("MAIL_BODY", templated(task.arg("html_content") or "", task, ctx, "html_content")),
        ("SMTP_URL", (SecretRef(SMTP_SECRET, "url"),)),
        ("SMTP_USER", (SecretRef(SMTP_SECRET, "user"),)),
        ("SMTP_PASSWORD", (SecretRef(SMTP_SECRET, "password"),)),
        ("SMTP_FROM", (SecretRef(SMTP_SECRET, "from"),)),
    )
    return Translation(ContainerRun(CURL_IMAGE, (text("sh"), text("-c")), (text(_SEND),), env))
