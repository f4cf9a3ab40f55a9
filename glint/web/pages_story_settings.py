"""Who sees what of your stories, and what stays: the close-friends list (a settings page)
and making, changing and deleting highlights from your current and recent stories.

HTML forms with their CSRF token, redirect after post; the rules are glint.stories'
close_friends and highlights modules, as the API uses them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Response

from glint.accounts import service as accounts_service
from glint.accounts.schemas import UserSummary
from glint.errors import Forbidden, GlintError, NotFound, ValidationFailed
from glint.paging import MAX_CURSOR_LENGTH, PageParams, page_by_id
from glint.schemas import clean_text, parse_path_id
from glint.stories import close_friends
from glint.stories import highlights as stories_highlights
from glint.stories import presenter as stories_presenter
from glint.stories.schemas import MAX_TITLE, HighlightOut, StoryOut
from glint.web.pages_stories import read_tray
from glint.web.rendering import MemberPageDep, PageCtx, WebRoute, redirect

router = APIRouter(route_class=WebRoute, include_in_schema=False)

FRIENDS_PAGE = 50
Cursor = Annotated[str | None, Query(max_length=MAX_CURSOR_LENGTH)]
NOTICES = {
    "added": "Added to your close friends.",
    "removed": "Removed from your close friends.",
}


# ---------------------------------------------------------------- close friends


async def _friends_page(
    page: PageCtx,
    cursor: str | None,
    *,
    notice: str | None = None,
    error: str | None = None,
    value: str = "",
    status: int = 200,
) -> Response:
    params = PageParams(limit=FRIENDS_PAGE, cursor=cursor)
    rows = await close_friends.list_close_friends(
        page.session, owner=page.me, before_id=params.before_id(), limit=params.limit
    )
    items, next_cursor = page_by_id(rows, limit=params.limit, key=lambda row: row[0].id)
    next_url = None
    if next_cursor:
        next_url = "/accounts/close-friends?" + urlencode({"cursor": next_cursor})
    context: dict[str, Any] = {
        "section": "close_friends",
        "friends": [UserSummary.of(friend, urls=page.urls) for _, friend in items],
        "next_url": next_url,
        "notice": notice,
        "error": error,
        "value": value,
    }
    return await page.render("settings_close_friends.html", context, status=status)


@router.get("/accounts/close-friends")
async def close_friends_page(
    page: MemberPageDep,
    cursor: Cursor = None,
    saved: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """Your close friends: who sees the stories you share with close friends only."""
    return await _friends_page(page, cursor, notice=NOTICES.get(saved or ""))


@router.post("/accounts/close-friends")
async def add_close_friend(page: MemberPageDep) -> Response:
    """Put someone on the list by username."""
    fields = await page.verify_form()
    value = fields.get("username", "").strip()
    name = value.lstrip("@")
    try:
        if not name:
            raise ValidationFailed("Type a username.")
        friend = await accounts_service.get_by_username(page.session, username=name)
        await close_friends.add(page.session, ids=page.runtime.ids, owner=page.me, friend=friend)
    except GlintError as exc:
        if exc.status >= 500:
            raise
        problem = f"There is no @{name.lower()}." if exc.status == 404 else exc.message
        return await _friends_page(page, None, error=problem, value=value, status=exc.status)
    await page.runtime.commit(page.session)
    return redirect("/accounts/close-friends?saved=added")


@router.post("/accounts/close-friends/{username}/remove")
async def remove_close_friend(username: str, page: MemberPageDep) -> Response:
    """Take someone off the list."""
    await page.verify_form()
    friend = await accounts_service.get_by_username(page.session, username=username)
    await close_friends.remove(page.session, owner=page.me, friend=friend)
    await page.runtime.commit(page.session)
    return redirect("/accounts/close-friends?saved=removed")


# ---------------------------------------------------------------- highlights


@dataclass
class Pick:
    """A story the owner may put in a highlight, and whether the form has it (and as cover)."""

    story: StoryOut
    chosen: bool
    cover: bool


async def _candidates(page: PageCtx) -> dict[int, StoryOut]:
    """The owner's current stories (live now) and recent ones (kept by a highlight), by ID."""
    found: dict[int, StoryOut] = {}
    for item in await read_tray(page):
        if item.user.id == page.me.id:
            found.update((story.id, story) for story in item.stories)
    shown = await stories_highlights.list_for(page.session, viewer=page.me, owner=page.me)
    for kept in await stories_presenter.highlights_out(
        page.session, shown=shown, viewer=page.me, urls=page.urls
    ):
        found.update((story.id, story) for story in kept.stories)
    return found


def _picks(candidates: dict[int, StoryOut], chosen: list[int], cover: int | None) -> list[Pick]:
    cover_id = cover if cover in chosen else (chosen[0] if chosen else None)
    return [
        Pick(story, story.id in chosen, story.id == cover_id)
        for story in sorted(candidates.values(), key=lambda s: s.id, reverse=True)
        if story.media is not None
    ]


async def _own_highlight(page: PageCtx, highlight_id: str) -> HighlightOut:
    hid = parse_path_id(highlight_id)
    if hid is None:
        raise NotFound(stories_highlights.NO_SUCH_HIGHLIGHT)
    try:
        shown = await stories_highlights.owned(page.session, owner=page.me, highlight_id=hid)
    except Forbidden as exc:  # someone else's: to this page, it does not exist
        raise NotFound(stories_highlights.NO_SUCH_HIGHLIGHT) from exc
    (shaped,) = await stories_presenter.highlights_out(
        page.session, shown=[shown], viewer=page.me, urls=page.urls
    )
    return shaped


async def _highlight_form(
    page: PageCtx,
    *,
    highlight: HighlightOut | None,
    title: str,
    chosen: list[int],
    cover: int | None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    candidates = await _candidates(page)
    if highlight is not None:
        candidates.update((story.id, story) for story in highlight.stories)
    context = {
        "highlight": highlight,
        "title": title,
        "picks": _picks(candidates, chosen, cover),
        "error": error,
        "max_title": MAX_TITLE,
    }
    return await page.render("highlight_form.html", context, status=status)


@dataclass
class HighlightForm:
    """A posted highlight form: title, the stories ticked (oldest first) and the cover."""

    title: str
    story_ids: list[int]
    cover: int | None


async def _read_form(page: PageCtx) -> HighlightForm:
    fields = await page.verify_form()
    form = await page.request.form()
    ids = [parse_path_id(str(value)) for value in form.getlist("story_ids")]
    cover = parse_path_id(fields.get("cover_story_id", ""))
    return HighlightForm(
        title=fields.get("title", "").strip(),
        # A highlight plays its stories in the order they were told, oldest first.
        story_ids=sorted({i for i in ids if i is not None}),
        cover=cover,
    )


def _check(form: HighlightForm) -> None:
    try:
        title = clean_text(form.title)
    except ValueError as exc:
        raise ValidationFailed(f"The title {exc}.") from exc
    if not 1 <= len(title) <= MAX_TITLE:
        raise ValidationFailed(f"A highlight's title has 1 to {MAX_TITLE} characters.")
    if not form.story_ids:
        raise ValidationFailed("Choose at least one story.")


@router.get("/accounts/highlights/new")
async def new_highlight_form(
    page: MemberPageDep, story: Annotated[str | None, Query(max_length=30)] = None
) -> Response:
    """Make a highlight: a title and some of your current and recent stories."""
    preselected = parse_path_id(story or "")
    chosen = [preselected] if preselected is not None else []
    return await _highlight_form(page, highlight=None, title="", chosen=chosen, cover=None)


@router.post("/accounts/highlights/new")
async def new_highlight(page: MemberPageDep) -> Response:
    """Keep the chosen stories on your profile under the title."""
    form = await _read_form(page)
    try:
        _check(form)
        await stories_highlights.create(
            page.session,
            ids=page.runtime.ids,
            owner=page.me,
            title=clean_text(form.title),
            story_ids=form.story_ids,
            cover_story_id=form.cover if form.cover in form.story_ids else None,
            now=page.runtime.clock.now(),
        )
    except GlintError as exc:
        if exc.status >= 500:
            raise
        return await _highlight_form(
            page,
            highlight=None,
            title=form.title,
            chosen=form.story_ids,
            cover=form.cover,
            error=exc.message,
            status=exc.status,
        )
    await page.runtime.commit(page.session)
    return redirect(f"/{page.me.username}")


@router.get("/accounts/highlights/{highlight_id}")
async def edit_highlight_form(highlight_id: str, page: MemberPageDep) -> Response:
    """Change a highlight's title, stories and cover, or delete it."""
    shown = await _own_highlight(page, highlight_id)
    return await _highlight_form(
        page,
        highlight=shown,
        title=shown.title,
        chosen=[story.id for story in shown.stories],
        cover=shown.cover_story_id,
    )


@router.post("/accounts/highlights/{highlight_id}")
async def edit_highlight(highlight_id: str, page: MemberPageDep) -> Response:
    """Save the changes."""
    form = await _read_form(page)
    shown = await _own_highlight(page, highlight_id)
    try:
        _check(form)
        await stories_highlights.update(
            page.session,
            owner=page.me,
            highlight_id=shown.id,
            title=clean_text(form.title),
            story_ids=form.story_ids,
            cover_story_id=form.cover if form.cover in form.story_ids else form.story_ids[0],
            now=page.runtime.clock.now(),
        )
    except GlintError as exc:
        if exc.status >= 500:
            raise
        return await _highlight_form(
            page,
            highlight=shown,
            title=form.title,
            chosen=form.story_ids,
            cover=form.cover,
            error=exc.message,
            status=exc.status,
        )
    await page.runtime.commit(page.session)
    return redirect(f"/{page.me.username}")


@router.post("/accounts/highlights/{highlight_id}/delete")
async def delete_highlight(highlight_id: str, page: MemberPageDep) -> Response:
    """Delete the highlight (its stories stay until nothing else keeps them)."""
    await page.verify_form()
    shown = await _own_highlight(page, highlight_id)
    await stories_highlights.delete(page.session, owner=page.me, highlight_id=shown.id)
    await page.runtime.commit(page.session)
    return redirect(f"/{page.me.username}")
