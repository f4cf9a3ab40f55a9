"""E-mail in tests: a real SMTP server (aiosmtpd) on loopback, its TLS certificate, and reading
what either mailer delivered (the outbox's .eml files, or what the server received)."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import shutil
import ssl
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from functools import partial
from http.cookiejar import CookieJar, DefaultCookiePolicy
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from glint.config import Settings
from glint.infra.clock import MovableClock
from glint.infra.mail import EML_SUFFIX, OUTBOX_FOLDER, SmtpMailer, links_in
from glint.infra.runtime import Runtime
from tests.conftest import delete_queue, own_app, wait_for_jobs
from tests.live import LiveWorker, free_port, settings_env

SMTP_USER = "glint"
SMTP_PASSWORD = "smtp-secret"


def parse(data: bytes) -> EmailMessage:
    """A message as a mail client reads it."""
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def read_outbox(folder: Path) -> list[EmailMessage]:
    """The messages in an outbox folder, oldest first (names sort by time)."""
    if not folder.exists():
        return []
    return [parse(path.read_bytes()) for path in sorted(folder.glob(f"*{EML_SUFFIX}"))]


def link_token(message: EmailMessage, path: str) -> str:
    """The `token` query parameter of the message's link to `path` (the one a reader follows)."""
    for link in links_in(message):
        parts = urlsplit(link)
        if parts.path == path:
            return parse_qs(parts.query)["token"][0]
    raise AssertionError(f"no link to {path} in {links_in(message)}")


def write_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, and its key (PEM files)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "glint test smtp")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class Received:
    """What the server accepted: each message with its envelope, and whether it came over TLS
    and after a login."""

    messages: list[EmailMessage] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)
    over_tls: list[bool] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    refuse: bool = False

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        """aiosmtpd's hook: keep the message (or refuse it for now)."""
        if self.refuse:
            return "451 4.3.0 Try again later"
        with self.lock:
            self.messages.append(parse(envelope.original_content or envelope.content))
            self.recipients.append(list(envelope.rcpt_tos))
            self.over_tls.append(session.ssl is not None)
            if session.authenticated:
                self.logins.append(str(session.auth_data))
        return "250 OK"

    def taken(self) -> list[EmailMessage]:
        """A copy of the messages received so far."""
        with self.lock:
            return list(self.messages)

    def clear(self) -> None:
        """Forget what was received."""
        with self.lock:
            self.messages.clear()
            self.recipients.clear()
            self.over_tls.clear()
            self.logins.clear()


def _authenticate(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == SMTP_USER.encode()
        and auth_data.password == SMTP_PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False)


class SmtpServer:
    """A real SMTP server on a free loopback port, in a thread of the test process."""

    def __init__(self, *, cert: tuple[Path, Path] | None = None, auth: bool = False) -> None:
        self.port = free_port()
        self.received = Received()
        options: dict[str, Any] = {}
        if cert is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(str(cert[0]), str(cert[1]))
            options.update(tls_context=context, require_starttls=True)
        if auth:
            options.update(authenticator=_authenticate, auth_required=True)
        self.controller = Controller(self.received, hostname="127.0.0.1", port=self.port, **options)

    @contextmanager
    def refusing(self) -> Iterator[None]:
        """While entered, every message is refused as a temporary failure (451)."""
        self.received.refuse = True
        try:
            yield
        finally:
            self.received.refuse = False

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


@dataclass
class MailApi:
    """The API and the mail it sends: the outbox embedded, a real SMTP server scale-out."""

    client: httpx.AsyncClient
    runtime: Runtime
    delivered: Callable[[], list[EmailMessage]]
    # While entered, the mail server is away (embedded) or refuses mail (scale-out).
    outage: Callable[[], AbstractContextManager[None]]

    async def mail_to(self, address: str) -> list[EmailMessage]:
        """What reached an address once background jobs have settled, oldest first."""
        await wait_for_jobs(self.runtime)
        return [message for message in self.delivered() if message["To"] == address]

    async def last_token(self, address: str, path: str) -> str:
        """The token of the newest link to `path` sent to an address."""
        messages = [m for m in await self.mail_to(address) if path in " ".join(links_in(m))]
        assert messages, f"no link to {path} reached {address}"
        return link_token(messages[-1], path)

    def use_settings(self, **changes: Any) -> None:
        """Change settings the API reads (rate limits) for this test."""
        self.runtime.settings = self.runtime.settings.model_copy(update=changes)


@dataclass
class SmtpStack:
    """Scale-out: an app and a `glint worker` with a job queue of their own, whose settings
    point at a real SMTP server (STARTTLS with a certificate made here, and a login)."""

    server: SmtpServer
    runtime: Runtime
    client: httpx.AsyncClient


@pytest.fixture(scope="session")
async def smtp_stack(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[SmtpStack | None]:
    """Started once per run (a worker takes seconds to start); None when embedded."""
    if not settings.broker_url:
        yield None
        return
    cert = write_certificate(tmp_path_factory.mktemp("smtp"))
    with SmtpServer(cert=cert, auth=True) as server:
        own = settings.model_copy(
            update={
                "smtp_host": "127.0.0.1",
                "smtp_port": server.port,
                "smtp_username": SMTP_USER,
                "smtp_password": SMTP_PASSWORD,
                "smtp_ca_file": str(cert[0]),
                "job_queue_name": f"{settings.job_queue_name}-mail",
            }
        )
        worker = LiveWorker(settings_env(own))
        try:
            async with own_app(own) as (runtime, http):
                # Bearer tokens only, as the `client` fixture: no cookie carries over.
                http.cookies = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
                yield SmtpStack(server, runtime, http)
        finally:
            worker.stop()
            delete_queue(own.job_queue_name)


@contextmanager
def _no_server(runtime: Runtime) -> Iterator[None]:
    """Embedded: the runtime sends to an SMTP port nobody listens on while entered."""
    kept = runtime.mailer
    runtime.mailer = SmtpMailer(host="127.0.0.1", port=free_port(), starttls=False, timeout=2)
    try:
        yield
    finally:
        runtime.mailer = kept


@pytest.fixture
async def mail_api(
    client: httpx.AsyncClient, clean_runtime: Runtime, smtp_stack: SmtpStack | None
) -> AsyncIterator[MailApi]:
    """The API and the mail it sends, on clean state: embedded, the shared app and its outbox;
    scale-out, the SMTP stack (the same database, wiped by clean_runtime)."""
    if smtp_stack is None:
        outbox = clean_runtime.settings.data_dir / OUTBOX_FOLDER
        shutil.rmtree(outbox, ignore_errors=True)
        api = MailApi(
            client, clean_runtime, lambda: read_outbox(outbox), partial(_no_server, clean_runtime)
        )
    else:
        server = smtp_stack.server
        server.received.clear()
        api = MailApi(smtp_stack.client, smtp_stack.runtime, server.received.taken, server.refusing)
    original = api.runtime.settings
    api.runtime.clock = MovableClock()
    yield api
    await wait_for_jobs(api.runtime)
    api.runtime.settings = original
    api.runtime.clock = MovableClock()
    api.runtime.limiter.enabled = False
    await api.runtime.limiter.clear_all()
