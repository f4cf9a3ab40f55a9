"""The mailer contract, run against both implementations: the data folder's outbox and SMTP to
a real aiosmtpd server (STARTTLS with a certificate made here, and a login); then the ways
sending fails, each one MailUnavailable."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest

from glint.config import Settings
from glint.infra import mail
from tests.conftest import base_settings
from tests.factories.mail import (
    SMTP_PASSWORD,
    SMTP_USER,
    SmtpServer,
    read_outbox,
    write_certificate,
)
from tests.live import free_port


@dataclass
class Delivery:
    """A mailer and a way to read back what it delivered."""

    mailer: mail.Mailer
    delivered: Callable[[], list[EmailMessage]]


def _message(subject: str = "Confirm your address", to: str = "zoë@example.com") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Glint <no-reply@example.com>"
    message["To"] = to
    message["Subject"] = subject
    message.set_content("Hello Zoë,\n\nOpen https://glint.example/verify-email?token=abc123\n")
    message.add_alternative(
        '<p>Hello Zoë,</p><p><a href="https://glint.example/verify-email?token=abc123">Open</a></p>',
        subtype="html",
    )
    return message


def _smtp_settings(
    folder: Path, port: int, certificate: tuple[Path, Path], **overrides: object
) -> Settings:
    """Settings of an SMTP mailer that logs in and trusts the test certificate."""
    values: dict[str, object] = {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_username": SMTP_USER,
        "smtp_password": SMTP_PASSWORD,
        "smtp_ca_file": str(certificate[0]),
    }
    return base_settings(folder, **{**values, **overrides})


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for the SMTP server (cert, key)."""
    return write_certificate(tmp_path_factory.mktemp("smtp-tls"))


@pytest.fixture(params=["outbox", "smtp"])
def delivery(
    request: pytest.FixtureRequest, tmp_path: Path, certificate: tuple[Path, Path]
) -> Iterator[Delivery]:
    """Each implementation as open_mailer builds it from settings."""
    if request.param == "outbox":
        settings = base_settings(tmp_path)
        yield Delivery(mail.open_mailer(settings), lambda: read_outbox(tmp_path / "outbox"))
        return
    with SmtpServer(cert=certificate, auth=True) as server:
        settings = _smtp_settings(tmp_path, server.port, certificate)
        yield Delivery(mail.open_mailer(settings), server.received.taken)


async def test_a_message_arrives_whole(delivery: Delivery) -> None:
    await delivery.mailer.send(_message())
    [got] = delivery.delivered()
    assert got["Subject"] == "Confirm your address"
    assert got["To"] == "zoë@example.com"
    assert got["From"] == "Glint <no-reply@example.com>"
    plain = got.get_body(preferencelist=("plain",))
    html = got.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    assert "Hello Zoë" in plain.get_content()
    assert 'href="https://glint.example/verify-email?token=abc123"' in html.get_content()
    assert mail.links_in(got) == ["https://glint.example/verify-email?token=abc123"]


async def test_messages_arrive_in_the_order_sent(delivery: Delivery) -> None:
    for n in range(5):
        await delivery.mailer.send(_message(subject=f"message {n}"))
    assert [m["Subject"] for m in delivery.delivered()] == [f"message {n}" for n in range(5)]


async def test_the_outbox_leaves_only_whole_files(tmp_path: Path) -> None:
    mailer = mail.open_mailer(base_settings(tmp_path))
    assert isinstance(mailer, mail.OutboxMailer)
    for _ in range(3):
        await mailer.send(_message())
    names = sorted(path.name for path in (tmp_path / "outbox").iterdir())
    assert len(names) == 3 and all(name.endswith(".eml") for name in names)
    assert not any(name.startswith(".") for name in names)  # no temporary file left over


async def test_smtp_goes_over_starttls_with_the_login(
    tmp_path: Path, certificate: tuple[Path, Path]
) -> None:
    with SmtpServer(cert=certificate, auth=True) as server:
        settings = _smtp_settings(tmp_path, server.port, certificate)
        mailer = mail.open_mailer(settings)
        assert isinstance(mailer, mail.SmtpMailer)
        await mailer.send(_message(to="bob@example.com"))
        assert server.received.over_tls == [True]
        assert server.received.recipients == [["bob@example.com"]]
        assert len(server.received.logins) == 1


async def test_a_server_down_is_unavailable(tmp_path: Path) -> None:
    settings = base_settings(
        tmp_path, smtp_host="127.0.0.1", smtp_port=free_port(), smtp_timeout_seconds=2
    )
    with pytest.raises(mail.MailUnavailable):
        await mail.open_mailer(settings).send(_message())


async def test_starttls_required_but_not_offered_is_unavailable(tmp_path: Path) -> None:
    with SmtpServer() as server:  # plain text only
        settings = base_settings(tmp_path, smtp_host="127.0.0.1", smtp_port=server.port)
        with pytest.raises(mail.MailUnavailable):
            await mail.open_mailer(settings).send(_message())
        assert server.received.taken() == []  # nothing went out in clear


async def test_an_untrusted_certificate_is_unavailable(
    tmp_path: Path, certificate: tuple[Path, Path]
) -> None:
    with SmtpServer(cert=certificate) as server:
        # The system's authorities do not know the test certificate.
        settings = base_settings(tmp_path, smtp_host="127.0.0.1", smtp_port=server.port)
        with pytest.raises(mail.MailUnavailable):
            await mail.open_mailer(settings).send(_message())
        assert server.received.taken() == []


async def test_a_wrong_login_is_unavailable(tmp_path: Path, certificate: tuple[Path, Path]) -> None:
    with SmtpServer(cert=certificate, auth=True) as server:
        settings = _smtp_settings(tmp_path, server.port, certificate, smtp_password="not-it")
        with pytest.raises(mail.MailUnavailable):
            await mail.open_mailer(settings).send(_message())
        assert server.received.taken() == []


async def test_plain_smtp_when_starttls_is_off(tmp_path: Path) -> None:
    with SmtpServer() as server:
        settings = base_settings(
            tmp_path, smtp_host="127.0.0.1", smtp_port=server.port, smtp_starttls=False
        )
        await mail.open_mailer(settings).send(_message())
        assert server.received.over_tls == [False]


async def test_an_unwritable_outbox_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "outbox").write_text("a file where the folder should be")
    with pytest.raises(mail.MailUnavailable):
        await mail.open_mailer(base_settings(tmp_path)).send(_message())
