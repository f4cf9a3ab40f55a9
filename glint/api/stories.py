"""HTTP routes of stories: post, tray, read, view, viewers, reply, delete; close friends;
highlights."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Response, UploadFile, status

from glint.accounts import service as accounts_service
from glint.accounts.schemas import UserSummary
from glint.http import uploads
from glint.http.deps import (
    CurrentUser,
    MediaUrlsDep,
    PageParamsDep,
    RuntimeDep,
    SessionDep,
    ViewerDep,
    rate_limit,
)
from glint.messaging import presenter as messaging_presenter
from glint.messaging.schemas import MessageOut
from glint.paging import Page, page_by_id
from glint.schemas import path_id
from glint.stories import close_friends, highlights, presenter
from glint.stories import service as stories_service
from glint.stories import tray as stories_tray
from glint.stories.models import Audience
from glint.stories.schemas import (
    MAX_ALT_TEXT,
    MAX_CAPTION,
    AudienceName,
    HighlightIn,
    HighlightOut,
    HighlightPatch,
    HighlightsOut,
    StoriesOut,
    StoryOut,
    StoryReplyIn,
    StoryViewerOut,
    TrayOut,
)

router = APIRouter(tags=["stories"])


@router.post(
    "/stories",
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[Depends(rate_limit("stories", only_done=True))],
    responses={
        413: {"description": "The file is over 10 MB."},
        415: {"description": "Not an image."},
    },
)
async def create_story(
    user: CurrentUser,
    urls: MediaUrlsDep,
    runtime: RuntimeDep,
    session: SessionDep,
    media: Annotated[UploadFile, File(description="One photo.")],
    caption: Annotated[str | None, Form(max_length=MAX_CAPTION)] = None,
    alt_text: Annotated[str | None, Form(max_length=MAX_ALT_TEXT)] = None,
    audience: Annotated[AudienceName, Form()] = "followers",
) -> StoryOut:
    """Post a story: stored and queued now, live for 24 hours once processed (202)."""
    story = await stories_service.create_story(
        session,
        ids=runtime.ids,
        storage=runtime.storage,
        author=user,
        photo=await uploads.read_photo(media),
        caption=uploads.form_text(caption, "caption") or None,
        alt_text=uploads.form_text(alt_text, "alt_text") or None,
        audience=Audience(audience),
        now=runtime.clock.now(),
    )
    await runtime.commit(session)
    return presenter.story_out(story, author=user, viewer=user, seen=set(), urls=urls)


@router.get("/stories/feed")
async def tray(
    page: PageParamsDep,
    user: CurrentUser,
    runtime: RuntimeDep,
    urls: MediaUrlsDep,
    session: SessionDep,
) -> TrayOut:
    """The story tray: own first, then accounts with unseen stories, then the rest."""
    entries, last = await stories_tray.read_tray_page(
        session,
        trays=runtime.trays,
        generations=runtime.generations,
        viewer=user,
        now=runtime.clock.now(),
        limit=page.limit,
        after=stories_tray.TrayPosition.from_cursor(page.cursor) if page.cursor else None,
    )
    cursor = last.to_cursor() if last is not None else None
    return TrayOut(items=presenter.tray_out(entries, viewer=user, urls=urls), next_cursor=cursor)


@router.get("/stories/{story_id}")
async def get_story(
    story_id: str, viewer: ViewerDep, runtime: RuntimeDep, urls: MediaUrlsDep, session: SessionDep
) -> StoryOut:
    """One story, if the viewer may see it now."""
    user = viewer.user if viewer else None
    story, _ = await stories_service.visible_story(
        session, viewer=user, story_id=path_id(story_id, "story"), now=runtime.clock.now()
    )
    (shaped,) = await presenter.stories_out(session, stories=[story], viewer=user, urls=urls)
    return shaped


@router.post("/stories/{story_id}/view", status_code=status.HTTP_204_NO_CONTENT)
async def view_story(
    story_id: str, user: CurrentUser, runtime: RuntimeDep, session: SessionDep
) -> Response:
    """Mark a story seen (idempotent)."""
    await stories_service.view(
        session,
        ids=runtime.ids,
        viewer=user,
        story_id=path_id(story_id, "story"),
        now=runtime.clock.now(),
    )
    await runtime.commit(session)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/stories/{story_id}/viewers")
async def story_viewers(
    story_id: str,
    page: PageParamsDep,
    user: CurrentUser,
    runtime: RuntimeDep,
    urls: MediaUrlsDep,
    session: SessionDep,
) -> Page[StoryViewerOut]:
    """Who viewed your story, newest first."""
    rows = await stories_service.viewers(
        session,
        viewer=user,
        story_id=path_id(story_id, "story"),
        before_id=page.before_id(),
        limit=page.limit,
        now=runtime.clock.now(),
    )
    items, cursor = page_by_id(rows, limit=page.limit, key=lambda row: row[0].id)
    return Page[StoryViewerOut](items=presenter.viewers_out(items, urls=urls), next_cursor=cursor)


@router.delete("/stories/{story_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_story(
    story_id: str, user: CurrentUser, runtime: RuntimeDep, session: SessionDep
) -> Response:
    """Delete your story."""
    await stories_service.delete_story(
        session,
        ids=runtime.ids,
        viewer=user,
        story_id=path_id(story_id, "story"),
        now=runtime.clock.now(),
    )
    await runtime.commit(session)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/stories/{story_id}/reply",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(rate_limit("messages"))],
)
async def reply_to_story(
    story_id: str,
    body: StoryReplyIn,
    user: CurrentUser,
    runtime: RuntimeDep,
    urls: MediaUrlsDep,
    session: SessionDep,
) -> MessageOut:
    """Answer a story: a message in your 1:1 conversation with its author."""
    message = await stories_service.reply(
        session,
        ids=runtime.ids,
        storage=runtime.storage,
        viewer=user,
        story_id=path_id(story_id, "story"),
        text=body.text,
        now=runtime.clock.now(),
    )
    await runtime.commit(session)
    (shaped,) = await messaging_presenter.messages_out(
        session, viewer=user, urls=urls, messages=[message]
    )
    return shaped


@router.get("/users/{username}/stories")
async def user_stories(
    username: str, viewer: ViewerDep, runtime: RuntimeDep, urls: MediaUrlsDep, session: SessionDep
) -> StoriesOut:
    """An account's live stories the viewer may see, oldest first."""
    user = viewer.user if viewer else None
    author = await accounts_service.get_by_username(session, username=username)
    stories = await stories_service.live_stories(
        session, viewer=user, author=author, now=runtime.clock.now()
    )
    return StoriesOut(
        items=await presenter.stories_out(session, stories=stories, viewer=user, urls=urls)
    )


@router.get("/users/me/close-friends")
async def list_close_friends(
    page: PageParamsDep, user: CurrentUser, urls: MediaUrlsDep, session: SessionDep
) -> Page[UserSummary]:
    """Your close friends, most recently added first."""
    rows = await close_friends.list_close_friends(
        session, owner=user, before_id=page.before_id(), limit=page.limit
    )
    items, cursor = page_by_id(rows, limit=page.limit, key=lambda row: row[0].id)
    return Page[UserSummary](
        items=[UserSummary.of(friend, urls=urls) for _, friend in items], next_cursor=cursor
    )


@router.put("/users/me/close-friends/{username}", status_code=status.HTTP_204_NO_CONTENT)
async def add_close_friend(
    username: str, user: CurrentUser, runtime: RuntimeDep, session: SessionDep
) -> Response:
    """Put someone on your close-friends list (again changes nothing)."""
    friend = await accounts_service.get_by_username(session, username=username)
    await close_friends.add(session, ids=runtime.ids, owner=user, friend=friend)
    await runtime.commit(session)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/users/me/close-friends/{username}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_close_friend(
    username: str, user: CurrentUser, runtime: RuntimeDep, session: SessionDep
) -> Response:
    """Take someone off your close-friends list."""
    friend = await accounts_service.get_by_username(session, username=username)
    await close_friends.remove(session, owner=user, friend=friend)
    await runtime.commit(session)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/highlights", status_code=status.HTTP_201_CREATED)
async def create_highlight(
    body: HighlightIn,
    user: CurrentUser,
    runtime: RuntimeDep,
    urls: MediaUrlsDep,
    session: SessionDep,
) -> HighlightOut:
    """Keep some of your stories on your profile under a title."""
    made = await highlights.create(
        session,
        ids=runtime.ids,
        owner=user,
        title=body.title,
        story_ids=body.story_ids,
        cover_story_id=body.cover_story_id,
        now=runtime.clock.now(),
    )
    await runtime.commit(session)
    shown = await highlights.owned(session, owner=user, highlight_id=made.id)
    (shaped,) = await presenter.highlights_out(session, shown=[shown], viewer=user, urls=urls)
    return shaped


@router.get("/users/{username}/highlights")
async def user_highlights(
    username: str, viewer: ViewerDep, urls: MediaUrlsDep, session: SessionDep
) -> HighlightsOut:
    """A profile's highlights, newest first, as its privacy allows."""
    user = viewer.user if viewer else None
    owner = await accounts_service.get_by_username(session, username=username)
    shown = await highlights.list_for(session, viewer=user, owner=owner)
    return HighlightsOut(
        items=await presenter.highlights_out(session, shown=shown, viewer=user, urls=urls)
    )


@router.patch("/highlights/{highlight_id}")
async def update_highlight(
    highlight_id: str,
    body: HighlightPatch,
    user: CurrentUser,
    runtime: RuntimeDep,
    urls: MediaUrlsDep,
    session: SessionDep,
) -> HighlightOut:
    """Change a highlight's title, cover or stories."""
    hid = path_id(highlight_id, "highlight")
    await highlights.update(
        session,
        owner=user,
        highlight_id=hid,
        title=body.title,
        story_ids=body.story_ids,
        cover_story_id=body.cover_story_id,
        now=runtime.clock.now(),
    )
    await runtime.commit(session)
    shown = await highlights.owned(session, owner=user, highlight_id=hid)
    (shaped,) = await presenter.highlights_out(session, shown=[shown], viewer=user, urls=urls)
    return shaped


@router.delete("/highlights/{highlight_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_highlight(
    highlight_id: str, user: CurrentUser, runtime: RuntimeDep, session: SessionDep
) -> Response:
    """Delete a highlight (its stories stay until nothing keeps them)."""
    await highlights.delete(session, owner=user, highlight_id=path_id(highlight_id, "highlight"))
    await runtime.commit(session)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
