"""HTTP routes of discovery: account suggestions, and dismissing one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from glint.accounts import service as accounts_service
from glint.accounts.schemas import UserSummary
from glint.discovery import suggestions as suggestions_service
from glint.discovery.schemas import SuggestedUser, SuggestionsOut
from glint.http.deps import CurrentUser, MediaUrlsDep, RuntimeDep, SessionDep

router = APIRouter(tags=["discovery"])

DEFAULT_SUGGESTIONS = 20
MAX_SUGGESTIONS = 50


@router.get("/suggestions/users")
async def suggested_users(
    user: CurrentUser,
    runtime: RuntimeDep,
    urls: MediaUrlsDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=MAX_SUGGESTIONS)] = DEFAULT_SUGGESTIONS,
) -> SuggestionsOut:
    """Accounts to follow: friends of friends first, then popular ones."""
    found = await suggestions_service.suggest_users(
        session, cache=runtime.cache, viewer_id=user.id, limit=limit
    )
    return SuggestionsOut(
        items=[
            SuggestedUser(
                user=UserSummary.of(item.user, urls=urls),
                reason=item.reason,
                mutual_count=item.mutual_count,
            )
            for item in found
        ]
    )


@router.post("/suggestions/users/{username}/dismiss", status_code=status.HTTP_204_NO_CONTENT)
async def dismiss_suggestion(
    username: str, user: CurrentUser, runtime: RuntimeDep, session: SessionDep
) -> None:
    """Never suggest this account again (idempotent)."""
    target = await accounts_service.get_by_username(session, username=username)
    await suggestions_service.dismiss(session, viewer=user, target=target)
    await runtime.commit(session)
