"""HTTP route of account deletion: DELETE /users/me."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response, status

from glint.http.deps import SESSION_COOKIE, CurrentUser, RuntimeDep, SessionDep, rate_limit
from glint.ownership import deletion
from glint.ownership.deletion_schemas import DeletionIn, DeletionOut

router = APIRouter(tags=["accounts"])


@router.delete(
    "/users/me",
    status_code=status.HTTP_202_ACCEPTED,
    # Each try checks the password: as limited as failed sign-ins.
    dependencies=[Depends(rate_limit("failed_logins"))],
)
async def delete_me(
    body: DeletionIn,
    user: CurrentUser,
    runtime: RuntimeDep,
    session: SessionDep,
    response: Response,
) -> DeletionOut:
    """Delete the account: it stops working and disappears at once; everything it made is
    removed after the grace period, unless it signs in again before then."""
    purge_after = await deletion.request_deletion(
        session,
        ids=runtime.ids,
        settings=runtime.settings,
        limiter=runtime.limiter,
        user=user,
        password=body.password,
        code=body.code,
        now=runtime.clock.now(),
    )
    await runtime.commit(session)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return DeletionOut(purge_after=purge_after)
