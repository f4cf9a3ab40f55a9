"""The e-mails accounts send, composed: a subject, plain text and the same words as HTML, from
`mail_from`, with links that start with `public_url`."""

from __future__ import annotations

import html
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import urlencode

from glint.config import Settings

VERIFY_PATH = "/verify-email"
RESET_PATH = "/password/reset"
SETTINGS_PASSWORD_PATH = "/accounts/password"  # noqa: S105 (a page, not a secret)
FORGOT_PATH = "/password/forgot"


def link(settings: Settings, path: str, **query: str) -> str:
    """An absolute link to one of Glint's pages."""
    suffix = f"?{urlencode(query)}" if query else ""
    return f"{settings.public_url}{path}{suffix}"


def _compose(
    settings: Settings,
    *,
    to: str,
    subject: str,
    paragraphs: list[str],
    action: tuple[str, str] | None = None,
) -> EmailMessage:
    """One message: the paragraphs, then the action's link (label, URL) when there is one."""
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain="glint")
    text = list(paragraphs)
    markup = [f"<p>{html.escape(paragraph)}</p>" for paragraph in paragraphs]
    if action is not None:
        label, url = action
        text.insert(1, f"{label}:\n{url}")
        markup.insert(1, f'<p><a href="{html.escape(url)}">{html.escape(label)}</a></p>')
    message.set_content("\n\n".join(text) + "\n\n— Glint\n")
    message.add_alternative(
        "<!doctype html><html><body>" + "".join(markup) + "<p>— Glint</p></body></html>",
        subtype="html",
    )
    return message


def verification(settings: Settings, *, to: str, username: str, token: str) -> EmailMessage:
    """The link that confirms an address (a day to follow it)."""
    return _compose(
        settings,
        to=to,
        subject="Confirm your e-mail address",
        paragraphs=[
            f"Hi {username}, please confirm that this is your e-mail address.",
            "The link works once, within a day. If you did not sign up for Glint or change "
            "your address, ignore this message.",
        ],
        action=("Confirm my address", link(settings, VERIFY_PATH, token=token)),
    )


def password_reset(settings: Settings, *, to: str, username: str, token: str) -> EmailMessage:
    """The link that sets a new password (an hour to follow it)."""
    return _compose(
        settings,
        to=to,
        subject="Reset your password",
        paragraphs=[
            f"Hi {username}, someone (we hope you) asked to reset your Glint password.",
            "The link works once, within an hour, and signs you out everywhere. If you did "
            "not ask for it, ignore this message: your password stays as it is.",
        ],
        action=("Choose a new password", link(settings, RESET_PATH, token=token)),
    )


def password_changed(settings: Settings, *, to: str, username: str) -> EmailMessage:
    """The notice that the password changed."""
    return _compose(
        settings,
        to=to,
        subject="Your password was changed",
        paragraphs=[
            f"Hi {username}, the password of your Glint account was just changed.",
            "If that was not you, reset it now with the link below and check your devices "
            "in the settings.",
        ],
        action=("Reset my password", link(settings, FORGOT_PATH)),
    )


def email_changed(settings: Settings, *, to: str, username: str, new_email: str) -> EmailMessage:
    """The notice, to the old address, that the account moved to another one."""
    return _compose(
        settings,
        to=to,
        subject="Your e-mail address was changed",
        paragraphs=[
            f"Hi {username}, the e-mail address of your Glint account was changed from this "
            f"one to {new_email}.",
            "If that was not you, sign in and change your password at once.",
        ],
        action=("Your password settings", link(settings, SETTINGS_PASSWORD_PATH)),
    )
