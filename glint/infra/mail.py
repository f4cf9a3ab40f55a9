"""Sending e-mail: one Protocol, two implementations.

Embedded, each message becomes an `.eml` file in the data folder's outbox and its links are
logged, so a small community runs without a mail server (an admin can forward a reset link by
hand). Scale-out, messages go to an SMTP server (`GLINT_SMTP_*`). Either way a failure is one
exception, MailUnavailable, so the job that sends retries.
"""

from __future__ import annotations

import os
import re
import secrets
import ssl
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

import aiosmtplib
import anyio

from glint.config import Settings
from glint.infra.logging import get_logger

log = get_logger(__name__)

OUTBOX_FOLDER = "outbox"
EML_SUFFIX = ".eml"
_LINK = re.compile(r"https?://[^\s<>\"']+")


class MailUnavailable(Exception):
    """The message could not be handed over (the mail server is down, refused it, or the
    outbox cannot be written); trying again later may work."""


class Mailer(Protocol):
    """Hands e-mail messages over for delivery."""

    async def send(self, message: EmailMessage) -> None:
        """Deliver one message, or raise MailUnavailable."""
        ...


def links_in(message: EmailMessage) -> list[str]:
    """The web addresses in a message's plain-text body (what a reader would follow)."""
    body = message.get_body(preferencelist=("plain",))
    if body is None:
        return []
    return _LINK.findall(str(body.get_content()))


class OutboxMailer:
    """Embedded: each message is written as `<outbox>/<time>-<random>.eml` and its links are
    logged. Names sort by the time they were written."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def send(self, message: EmailMessage) -> None:
        """Write the message atomically (a reader never sees half a file)."""
        data = bytes(message)
        name = f"{time.time_ns():020d}-{secrets.token_hex(4)}{EML_SUFFIX}"
        try:
            await anyio.to_thread.run_sync(self._write, name, data)
        except OSError as exc:
            raise MailUnavailable(f"the outbox cannot be written: {exc}") from exc
        log.info(
            "mail_written",
            to=message["To"],
            subject=message["Subject"],
            file=name,
            links=links_in(message),
        )

    def _write(self, name: str, data: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        temporary = self.folder / f".{name}.tmp"
        with temporary.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(self.folder / name)


class SmtpMailer:
    """Scale-out: each message is sent over SMTP, one connection per message."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        username: str = "",
        password: str = "",
        starttls: bool = True,
        timeout: float = 10.0,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.starttls = starttls
        self.timeout = timeout
        self.tls_context = tls_context

    async def send(self, message: EmailMessage) -> None:
        """Send the message; STARTTLS is required when configured (never sent in clear then)."""
        try:
            await aiosmtplib.send(
                message,
                hostname=self.host,
                port=self.port,
                username=self.username or None,
                password=self.password or None,
                start_tls=self.starttls,
                tls_context=self.tls_context,
                timeout=self.timeout,
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise MailUnavailable(
                f"SMTP {self.host}:{self.port}: {type(exc).__name__}: {exc}"
            ) from exc
        log.info("mail_sent", to=message["To"], subject=message["Subject"])


def tls_context(ca_file: str) -> ssl.SSLContext:
    """The TLS context SMTP connections verify the server with: the system's authorities, or
    only those of `ca_file` (a private relay's own)."""
    return ssl.create_default_context(cafile=ca_file or None)


def open_mailer(settings: Settings) -> Mailer:
    """SMTP when a host is configured, else the data folder's outbox."""
    if settings.smtp_host:
        return SmtpMailer(
            host=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
            timeout=settings.smtp_timeout_seconds,
            tls_context=tls_context(settings.smtp_ca_file),
        )
    return OutboxMailer(settings.data_dir / OUTBOX_FOLDER)
