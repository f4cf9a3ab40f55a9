"""Background work of accounts: retiring replaced profile photos, sending e-mail, forgetting
lapsed username reservations.

Mail jobs look at the present before sending: an address changed or confirmed since the event
gets nothing. The job makes the single-use token itself (events never carry one) and commits it
before sending; a send that fails raises MailUnavailable and the job retries with a new token.
"""

from __future__ import annotations

from email.message import EmailMessage

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from glint.accounts import emails, events, mail_messages, usernames
from glint.accounts.models import User
from glint.infra.logging import get_logger
from glint.infra.queue import JobContext
from glint.infra.runtime import Runtime
from glint.media import service as media_service

log = get_logger(__name__)


async def remove_old_avatar(ctx: JobContext, event: events.AvatarReplaced) -> None:
    """A replaced profile photo's renditions leave storage."""
    await media_service.delete_objects(ctx.runtime.storage, keys=[], prefixes=[event.old_prefix])


async def _holder(session: AsyncSession, user_id: int | None, email: str) -> User | None:
    """The active account that has this address now (the given one, or whichever)."""
    if user_id is None:
        user = await session.scalar(sa.select(User).where(User.email == email))
    else:
        user = await session.get(User, user_id)
    if user is None or not user.is_active_account or user.email != email:
        return None
    return user


async def _send_link(ctx: JobContext, *, user_id: int | None, email: str, purpose: str) -> None:
    runtime = ctx.runtime
    async with runtime.db.session() as session:
        user = await _holder(session, user_id, email)
        if user is None:
            return
        if purpose == emails.VERIFY_EMAIL and user.email_verified_at is not None:
            return
        if purpose == emails.RESET_PASSWORD and user.email_verified_at is None:
            return  # an unconfirmed address never receives a reset
        token = await emails.issue_token(
            session,
            ids=runtime.ids,
            secret=runtime.secret_key,
            user=user,
            purpose=purpose,
            now=runtime.clock.now(),
        )
        compose = (
            mail_messages.verification
            if purpose == emails.VERIFY_EMAIL
            else mail_messages.password_reset
        )
        message = compose(runtime.settings, to=email, username=user.username, token=token)
        await session.commit()
    await runtime.mailer.send(message)


async def send_verification(ctx: JobContext, event: events.EmailVerificationRequested) -> None:
    """Mail a link confirming the address (unless it changed or was confirmed meanwhile)."""
    await _send_link(ctx, user_id=event.user_id, email=event.email, purpose=emails.VERIFY_EMAIL)


async def send_password_reset(ctx: JobContext, event: events.PasswordResetRequested) -> None:
    """Mail a password reset link, if the address is an active account's confirmed one."""
    await _send_link(ctx, user_id=None, email=event.email, purpose=emails.RESET_PASSWORD)


async def _send_notice(runtime: Runtime, user_id: int, message: EmailMessage | None) -> None:
    if message is not None:
        await runtime.mailer.send(message)
    else:
        log.info("mail_notice_skipped", user_id=user_id)


async def tell_password_changed(ctx: JobContext, event: events.PasswordChanged) -> None:
    """Tell the address the account had that its password changed."""
    runtime = ctx.runtime
    async with runtime.db.session() as session:
        user = await session.get(User, event.user_id)
        message = None
        if user is not None and user.is_active_account:
            message = mail_messages.password_changed(
                runtime.settings, to=event.email, username=user.username
            )
    await _send_notice(runtime, event.user_id, message)


async def tell_email_changed(ctx: JobContext, event: events.EmailChanged) -> None:
    """Tell the old address that the account moved to another one."""
    runtime = ctx.runtime
    async with runtime.db.session() as session:
        user = await session.get(User, event.user_id)
        message = None
        if user is not None and user.is_active_account:
            message = mail_messages.email_changed(
                runtime.settings,
                to=event.old_email,
                username=user.username,
                new_email=event.new_email,
            )
    await _send_notice(runtime, event.user_id, message)


async def drop_expired_reservations(runtime: Runtime) -> None:
    """Periodic: forget username reservations that ran out (lookups ignore them already)."""
    async with runtime.db.session() as session:
        dropped = await usernames.drop_expired(session, now=runtime.clock.now())
        await session.commit()
    if dropped:
        log.info("username_reservations_dropped", count=dropped)
