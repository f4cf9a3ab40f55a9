"""HTTP routes of two-factor sign-in: /auth/2fa (enrolment, recovery codes, turning it off).

The second step of signing in, POST /auth/login/2fa, lives with the login in accounts.py.
"""

from __future__ import annotations

from fastapi import APIRouter, status

from glint.accounts import twofactor
from glint.accounts.schemas import (
    RecoveryCodesOut,
    TwoFactorCodeIn,
    TwoFactorConfirmIn,
    TwoFactorSetupOut,
    TwoFactorStatusOut,
)
from glint.http.deps import CurrentUser, RuntimeDep, SessionDep

router = APIRouter(tags=["accounts"])


@router.get("/auth/2fa")
async def two_factor_status(user: CurrentUser, session: SessionDep) -> TwoFactorStatusOut:
    """Whether two-factor sign-in is on, a setup is waiting, and recovery codes left."""
    state = await twofactor.status(session, user=user)
    return TwoFactorStatusOut(
        enabled=state.enabled, pending=state.pending, recovery_codes_left=state.recovery_codes_left
    )


@router.post("/auth/2fa/setup")
async def setup(user: CurrentUser, runtime: RuntimeDep, session: SessionDep) -> TwoFactorSetupOut:
    """Start enrolment: a new secret for the authenticator app (QR code included), kept
    pending until a first code confirms it."""
    enrolment = twofactor.begin_setup(user)
    await runtime.commit(session)
    return TwoFactorSetupOut(
        secret=enrolment.secret, otpauth_uri=enrolment.otpauth_uri, qr_svg=enrolment.qr_svg
    )


@router.post("/auth/2fa/enable")
async def enable(
    body: TwoFactorCodeIn, user: CurrentUser, runtime: RuntimeDep, session: SessionDep
) -> RecoveryCodesOut:
    """Confirm the pending secret with a first code; answers the ten recovery codes, once."""
    codes = await twofactor.enable(
        session,
        ids=runtime.ids,
        user=user,
        code=body.code,
        limiter=runtime.limiter,
        settings=runtime.settings,
        now=runtime.clock.now().timestamp(),
    )
    await runtime.commit(session)
    return RecoveryCodesOut(recovery_codes=codes)


@router.post("/auth/2fa/recovery-codes")
async def regenerate_recovery_codes(
    body: TwoFactorConfirmIn, user: CurrentUser, runtime: RuntimeDep, session: SessionDep
) -> RecoveryCodesOut:
    """Ten new recovery codes (password and a code needed); the old ones stop working."""
    codes = await twofactor.regenerate_recovery_codes(
        session,
        ids=runtime.ids,
        user=user,
        password=body.password,
        code=body.code,
        limiter=runtime.limiter,
        settings=runtime.settings,
        now=runtime.clock.now().timestamp(),
    )
    await runtime.commit(session)
    return RecoveryCodesOut(recovery_codes=codes)


@router.post("/auth/2fa/disable", status_code=status.HTTP_204_NO_CONTENT)
async def disable(
    body: TwoFactorConfirmIn, user: CurrentUser, runtime: RuntimeDep, session: SessionDep
) -> None:
    """Turn two-factor sign-in off (password and a code needed)."""
    await twofactor.disable(
        session,
        user=user,
        password=body.password,
        code=body.code,
        limiter=runtime.limiter,
        settings=runtime.settings,
        now=runtime.clock.now().timestamp(),
    )
    await runtime.commit(session)
