"""HTTP routes of the e-mail flows and renames: verifying the address, a forgotten password,
changing the address or the username. The rules are in accounts/emails.py and usernames.py."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from glint.accounts import emails, usernames
from glint.accounts.schemas import (
    EmailChangeIn,
    EmailVerifyIn,
    MeOut,
    PasswordForgotIn,
    PasswordResetIn,
    UsernameChangeIn,
)
from glint.http.deps import ClientIpDep, CurrentUser, MediaUrlsDep, RuntimeDep, SessionDep

router = APIRouter(tags=["accounts"])


@router.post(
    "/auth/email/verification", status_code=status.HTTP_202_ACCEPTED, response_class=Response
)
async def request_verification(
    user: CurrentUser, runtime: RuntimeDep, session: SessionDep, ip: ClientIpDep
) -> None:
    """Send (again) a link confirming the account's address; 409 `already_verified`."""
    await emails.request_verification(
        session,
        ids=runtime.ids,
        settings=runtime.settings,
        limiter=runtime.limiter,
        ip=ip,
        user=user,
    )
    await runtime.commit(session)


@router.post("/auth/email/verify")
async def verify_email(
    body: EmailVerifyIn, runtime: RuntimeDep, session: SessionDep, urls: MediaUrlsDep
) -> MeOut:
    """Confirm the address with a verification link's token (400 `invalid_token`)."""
    user = await emails.verify_email(
        session, secret=runtime.secret_key, token=body.token, now=runtime.clock.now()
    )
    await runtime.commit(session)
    return MeOut.of(user, urls=urls)


@router.post("/auth/password/forgot", status_code=status.HTTP_202_ACCEPTED, response_class=Response)
async def forgot_password(
    body: PasswordForgotIn, runtime: RuntimeDep, session: SessionDep, ip: ClientIpDep
) -> None:
    """Ask for a password reset link; the answer is the same whether or not the address has
    an account (only a verified one gets the e-mail)."""
    await emails.forgot_password(
        session,
        ids=runtime.ids,
        settings=runtime.settings,
        limiter=runtime.limiter,
        ip=ip,
        email=str(body.email),
    )
    await runtime.commit(session)


@router.post("/auth/password/reset", status_code=status.HTTP_204_NO_CONTENT)
async def reset_password(body: PasswordResetIn, runtime: RuntimeDep, session: SessionDep) -> None:
    """Set a new password with a reset link's token: every session ends (400 `invalid_token`)."""
    await emails.reset_password(
        session,
        ids=runtime.ids,
        settings=runtime.settings,
        token=body.token,
        new_password=body.new_password,
        now=runtime.clock.now(),
    )
    await runtime.commit(session)


@router.put("/users/me/email")
async def change_email(
    body: EmailChangeIn,
    user: CurrentUser,
    runtime: RuntimeDep,
    session: SessionDep,
    urls: MediaUrlsDep,
) -> MeOut:
    """Move the account to another address (unverified until its link is followed); the old
    address is told. 403 `wrong_password`, 409 `email_taken`."""
    await emails.change_email(
        session, ids=runtime.ids, user=user, email=str(body.email), password=body.password
    )
    await runtime.commit(session)
    return MeOut.of(user, urls=urls)


@router.put("/users/me/username")
async def change_username(
    body: UsernameChangeIn,
    user: CurrentUser,
    runtime: RuntimeDep,
    session: SessionDep,
    urls: MediaUrlsDep,
) -> MeOut:
    """Rename the account; the old name stays reserved for it for 14 days and its profile URL
    redirects. 403 `wrong_password`, 409 `username_taken`."""
    await usernames.change_username(
        session,
        ids=runtime.ids,
        user=user,
        username=body.username,
        password=body.password,
        now=runtime.clock.now(),
    )
    await runtime.commit(session)
    return MeOut.of(user, urls=urls)
