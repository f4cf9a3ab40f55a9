"""Stories: the tray at the top of the home feed, the full-screen viewer (an account's live
stories, moving on through the tray, or a highlight's), and posting a story.

Pages read with the same service and presenter functions as the API (glint/api/stories.py).
The viewer page renders the story it opens on, with links to the previous and next ones, and
lists every story of the accounts around it as data; js/story-viewer.js plays through them in
place (progress bars, taps, keys, hold to pause, swipe down to close) and marks each one seen
through the JSON API, which is also where replies, viewer lists and deletion go. The reply and
delete forms post to these pages when JavaScript is off. The new-story page uploads to
POST /api/v1/stories from js/story-new.js; its form posts here without JavaScript.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from starlette.datastructures import UploadFile

from glint.accounts import service as accounts_service
from glint.accounts.models import User
from glint.accounts.schemas import UserSummary
from glint.errors import Forbidden, GlintError, NotFound, ValidationFailed
from glint.http import uploads
from glint.http.deps import count_action_if_done
from glint.media import service as media_service
from glint.messaging.schemas import MAX_TEXT
from glint.paging import page_by_id
from glint.schemas import clean_text, parse_path_id
from glint.stories import highlights as stories_highlights
from glint.stories import presenter as stories_presenter
from glint.stories import service as stories_service
from glint.stories import tray as stories_tray
from glint.stories.models import Audience
from glint.stories.schemas import (
    MAX_ALT_TEXT,
    MAX_CAPTION,
    HighlightOut,
    StoryOut,
    StoryViewerOut,
    TrayItemOut,
)
from glint.web import pages_messages
from glint.web.rendering import MemberPageDep, PageCtx, PageDep, WebRoute, redirect, safe_next

router = APIRouter(route_class=WebRoute, include_in_schema=False)

# Accounts of the tray listed on a viewer page around the one opened (before it, after it):
# the viewer plays through them without loading a page; past them it follows a link.
REELS_BEFORE = 5
REELS_AFTER = 30
VIEWERS_SHOWN = 50
Back = Annotated[str | None, Query(max_length=500)]
Ring = Literal["unseen", "seen", "close", "none"]

NO_STORIES = "There are no stories to show here."
UPLOAD_PROBLEMS = {
    413: f"That photo is too large: a story photo may be at most "
    f"{media_service.MAX_UPLOAD_BYTES // (1024 * 1024)} MB.",
    415: "That file isn't a photo we can use. Choose a JPEG, PNG, WebP, HEIC or AVIF photo.",
    429: "You've shared a lot of stories lately. Try again in a little while.",
}


# ---------------------------------------------------------------- the tray


@dataclass
class Circle:
    """One circle of the tray: whose, where it leads, and its ring."""

    user: UserSummary
    href: str
    ring: Ring
    own: bool
    label: str


def ring_of(item: TrayItemOut) -> Ring:
    """Grey when every story is seen; green when something unseen is among close-friends
    stories; the brand's gradient otherwise."""
    if not item.has_unseen:
        return "seen"
    if item.has_close_friends:
        return "close"
    return "unseen"


async def read_tray(page: PageCtx) -> list[TrayItemOut]:
    """The viewer's tray as the API shapes it: own entry first, then unseen, then the rest."""
    entries = await stories_tray.read_tray(
        page.session,
        trays=page.runtime.trays,
        generations=page.runtime.generations,
        viewer=page.me,
        now=page.runtime.clock.now(),
    )
    return stories_presenter.tray_out(entries, viewer=page.me, urls=page.urls)


async def tray_circles(page: PageCtx) -> list[Circle]:
    """The circles of the home feed's tray; "Your story" first, a "+" when there is none."""
    me = page.me
    items = await read_tray(page)
    circles: list[Circle] = []
    if not items or items[0].user.id != me.id:
        mine = UserSummary.of(me, urls=page.urls)
        circles.append(Circle(mine, "/stories/new", "none", own=True, label="Your story"))
    for item in items:
        own = item.user.id == me.id
        circles.append(
            Circle(
                item.user,
                f"/stories/{item.user.username}",
                ring_of(item),
                own=own,
                label="Your story" if own else item.user.username,
            )
        )
    return circles


# ---------------------------------------------------------------- the viewer


@dataclass
class Slide:
    """One story in a viewer: the story, its own address, and whether it is live (seen
    marks and replies are for live stories only)."""

    story: StoryOut
    url: str
    live: bool

    @property
    def reply_url(self) -> str:
        """The no-JS reply form's target."""
        return f"/stories/{self.story.author.username}/{self.story.id}/reply"

    @property
    def delete_url(self) -> str:
        """The no-JS delete form's target."""
        return f"/stories/{self.story.author.username}/{self.story.id}/delete"


@dataclass
class Reel:
    """The stories of one account (or one highlight) in the order they play."""

    user: UserSummary
    slides: list[Slide]
    own: bool
    start: int = 0
    title: str | None = None


@dataclass
class Viewer:
    """What the viewer page shows: the reels around, the one open and the story open."""

    mode: Literal["stories", "highlight"]
    reels: list[Reel]
    reel_index: int
    story_index: int
    close_url: str
    # Past the last reel listed: the next account's page (the tray goes on), if any.
    after_url: str | None = None
    highlight: HighlightOut | None = None
    viewers: list[StoryViewerOut] = field(default_factory=list)
    more_viewers: bool = False

    @property
    def reel(self) -> Reel:
        """The reel open."""
        return self.reels[self.reel_index]

    @property
    def slide(self) -> Slide:
        """The story open."""
        return self.reel.slides[self.story_index]

    def _flat(self) -> list[tuple[int, int]]:
        return [(r, s) for r, reel in enumerate(self.reels) for s in range(len(reel.slides))]

    @property
    def prev_url(self) -> str | None:
        """The story before (the previous account's first story at the start of a reel)."""
        if self.story_index > 0:
            return self.reel.slides[self.story_index - 1].url
        if self.reel_index > 0:
            return self.reels[self.reel_index - 1].slides[0].url
        return None

    @property
    def next_url(self) -> str:
        """The story after, the next account's first unseen one, or out of the viewer."""
        if self.story_index + 1 < len(self.reel.slides):
            return self.reel.slides[self.story_index + 1].url
        if self.reel_index + 1 < len(self.reels):
            following = self.reels[self.reel_index + 1]
            return following.slides[following.start].url
        return self.after_url or self.close_url

    def context(self) -> dict[str, Any]:
        """What the template takes."""
        return {"v": self, "reel": self.reel, "slide": self.slide, "story": self.slide.story}


def _live(story: StoryOut, now: dt.datetime) -> bool:
    return story.status == "published" and story.expires_at is not None and story.expires_at > now


def story_url(username: str, story_id: int) -> str:
    """The viewer page of one story."""
    return f"/stories/{username}/{story_id}"


def _reel(item: TrayItemOut, *, viewer_id: int, now: dt.datetime) -> Reel:
    slides = [
        Slide(story, story_url(item.user.username, story.id), _live(story, now))
        for story in item.stories
    ]
    first_unseen = next(
        (i for i, s in enumerate(item.stories) if s.viewer is not None and not s.viewer.seen), 0
    )
    own = item.user.id == viewer_id
    return Reel(item.user, slides, own=own, start=0 if own else first_unseen)


def _story_id(value: str) -> int:
    parsed = parse_path_id(value)
    if parsed is None:
        raise NotFound(stories_service.NO_SUCH_STORY)
    return parsed


async def _owner_viewers(page: PageCtx, viewer: Viewer) -> None:
    """The first viewers of the open story, for its owner."""
    slide = viewer.slide
    if viewer.mode != "stories" or not viewer.reel.own or slide.story.status != "published":
        return
    rows = await stories_service.viewers(
        page.session,
        viewer=page.me,
        story_id=slide.story.id,
        before_id=None,
        limit=VIEWERS_SHOWN,
        now=page.runtime.clock.now(),
    )
    items, cursor = page_by_id(rows, limit=VIEWERS_SHOWN, key=lambda row: row[0].id)
    viewer.viewers = stories_presenter.viewers_out(items, urls=page.urls)
    viewer.more_viewers = cursor is not None


async def _tray_viewer(
    page: PageCtx, username: str, story_id: int | None, back: str | None
) -> Viewer | None:
    """The viewer over the tray, opened on this account (at this story, if given); None when
    the account is not in the viewer's tray (or the story is not among its live ones)."""
    now = page.runtime.clock.now()
    items = await read_tray(page)
    name = username.strip().lower()
    index = next((i for i, item in enumerate(items) if item.user.username == name), None)
    if index is None:
        return None
    lo, hi = max(0, index - REELS_BEFORE), index + 1 + REELS_AFTER
    reels = [_reel(item, viewer_id=page.me.id, now=now) for item in items[lo:hi]]
    current = reels[index - lo]
    story_index = current.start
    if story_id is not None:
        found = next((i for i, s in enumerate(current.slides) if s.story.id == story_id), None)
        if found is None:
            return None
        story_index = found
    after_url = f"/stories/{items[hi].user.username}" if hi < len(items) else None
    return Viewer(
        mode="stories",
        reels=reels,
        reel_index=index - lo,
        story_index=story_index,
        close_url=safe_next(back, "/"),
        after_url=after_url,
    )


async def _render_viewer(page: PageCtx, viewer: Viewer, *, sent: bool = False) -> Response:
    await _owner_viewers(page, viewer)
    context = viewer.context()
    context.update({"sent": sent, "max_text": MAX_TEXT})
    return await page.render("story_viewer.html", context)


# ---------------------------------------------------------------- new story


def _form_values(fields: dict[str, str]) -> dict[str, str]:
    return {
        "caption": fields.get("caption", ""),
        "alt_text": fields.get("alt_text", ""),
        "audience": fields.get("audience", "followers"),
    }


async def _new_form(
    page: PageCtx, values: dict[str, str], error: str | None, *, status: int = 200
) -> Response:
    context = {
        "values": values,
        "error": error,
        "max_caption": MAX_CAPTION,
        "max_alt_text": MAX_ALT_TEXT,
        "max_mb": media_service.MAX_UPLOAD_BYTES // (1024 * 1024),
    }
    return await page.render("story_new.html", context, status=status)


def _clean(value: str, limit: int, what: str) -> str | None:
    try:
        text = clean_text(value.strip())
    except ValueError as exc:
        raise ValidationFailed(f"The {what} {exc}.") from exc
    if len(text) > limit:
        raise ValidationFailed(f"The {what} may have at most {limit:,} characters.")
    return text or None


def upload_problem(exc: GlintError) -> str:
    """A refused story upload, in words."""
    return UPLOAD_PROBLEMS.get(exc.status, exc.message)


@router.get("/stories/new")
async def new_story_form(page: MemberPageDep) -> Response:
    """Add to your story: choose a photo, a caption, alt text and who sees it."""
    return await _new_form(page, _form_values({}), None)


@router.post("/stories/new")
async def new_story(page: MemberPageDep) -> Response:
    """The form without JS: post the story (processed in the background), then home."""
    fields = await page.verify_form()
    values = _form_values(fields)
    form = await page.request.form()
    upload = form.get("media")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return await _new_form(page, values, "Choose a photo first.", status=422)
    try:
        if values["audience"] not in (Audience.FOLLOWERS, Audience.CLOSE_FRIENDS):
            raise ValidationFailed("Choose who sees the story: followers or close friends.")
        caption = _clean(values["caption"], MAX_CAPTION, "caption")
        alt_text = _clean(values["alt_text"], MAX_ALT_TEXT, "alt text")
        # As the API counts it: refused now when used up, counted only once it is posted.
        await count_action_if_done(
            page.request,
            page.runtime,
            "stories",
            f"user:{page.me.id}",
            created_at=page.me.created_at,
        )
        runtime = page.runtime
        await stories_service.create_story(
            page.session,
            ids=runtime.ids,
            storage=runtime.storage,
            author=page.me,
            photo=await uploads.read_photo(upload),
            caption=caption,
            alt_text=alt_text,
            audience=Audience(values["audience"]),
            now=runtime.clock.now(),
        )
        await runtime.commit(page.session)
    except GlintError as exc:
        if exc.status >= 500:
            raise
        response = await _new_form(page, values, upload_problem(exc), status=exc.status)
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response
    return redirect("/")


# ---------------------------------------------------------------- viewing


@router.get("/stories/{username}")
async def account_stories(username: str, page: MemberPageDep, back: Back = None) -> Response:
    """An account's live stories, from the first one the viewer has not seen; the tray's
    next accounts follow."""
    viewer = await _tray_viewer(page, username, None, back)
    if viewer is None:
        if username.strip().lower() == page.me.username:
            return redirect("/stories/new", status=302)
        viewer = await _account_viewer(page, username, back)
    return await _render_viewer(page, viewer)


async def _account_viewer(page: PageCtx, username: str, back: str | None) -> Viewer:
    """The viewer over one account that is not in the tray (a public account you do not
    follow, opened from its profile): its live stories you may see, or 404."""
    author = await accounts_service.get_by_username(page.session, username=username)
    now = page.runtime.clock.now()
    stories = await stories_service.live_stories(
        page.session, viewer=page.me, author=author, now=now
    )
    if not stories:
        raise NotFound(NO_STORIES)
    shaped = await stories_presenter.stories_out(
        page.session, stories=stories, viewer=page.me, urls=page.urls
    )
    item = TrayItemOut(
        user=UserSummary.of(author, urls=page.urls),
        stories=shaped,
        has_unseen=any(s.viewer is not None and not s.viewer.seen for s in shaped),
        has_close_friends=any(s.audience == "close_friends" for s in shaped),
        latest_at=max(s.created_at for s in shaped),
    )
    reel = _reel(item, viewer_id=page.me.id, now=now)
    return Viewer(
        mode="stories",
        reels=[reel],
        reel_index=0,
        story_index=reel.start,
        close_url=safe_next(back, "/"),
    )


@router.get("/stories/{username}/{story_id}")
async def one_story(
    username: str,
    story_id: str,
    page: MemberPageDep,
    back: Back = None,
    sent: Annotated[bool, Query()] = False,
) -> Response:
    """One story (a link from a reply, or the viewer's own address as it plays): among its
    account's live stories when it is one of them, else on its own."""
    sid = _story_id(story_id)
    story, author = await stories_service.visible_story(
        page.session, viewer=page.me, story_id=sid, now=page.runtime.clock.now()
    )
    if author.username != username.strip().lower():
        raise NotFound(stories_service.NO_SUCH_STORY)
    viewer = await _tray_viewer(page, author.username, sid, back)
    if viewer is None:
        (shaped,) = await stories_presenter.stories_out(
            page.session, stories=[story], viewer=page.me, urls=page.urls
        )
        slide = Slide(
            shaped, story_url(author.username, sid), _live(shaped, page.runtime.clock.now())
        )
        own = author.id == page.me.id
        reel = Reel(UserSummary.of(author, urls=page.urls), [slide], own=own)
        viewer = Viewer(
            mode="stories",
            reels=[reel],
            reel_index=0,
            story_index=0,
            close_url=safe_next(back, "/"),
        )
    return await _render_viewer(page, viewer, sent=sent)


async def _highlight(page: PageCtx, owner: User, highlight_id: str) -> HighlightOut:
    """A highlight of the owner's as the viewer may see it: the profile's privacy exactly as
    GET /users/{username}/highlights applies it (a private account's are not shown to
    non-followers: here, not found)."""
    hid = parse_path_id(highlight_id)
    if hid is None:
        raise NotFound(stories_highlights.NO_SUCH_HIGHLIGHT)
    try:
        shown = await stories_highlights.list_for(page.session, viewer=page.user, owner=owner)
    except Forbidden as exc:
        raise NotFound(stories_highlights.NO_SUCH_HIGHLIGHT) from exc
    found = [item for item in shown if item.highlight.id == hid]
    if not found:
        raise NotFound(stories_highlights.NO_SUCH_HIGHLIGHT)
    (shaped,) = await stories_presenter.highlights_out(
        page.session, shown=found, viewer=page.user, urls=page.urls
    )
    return shaped


def highlight_url(username: str, highlight_id: int, story_id: int | None = None) -> str:
    """The viewer page of a highlight (at one of its stories)."""
    base = f"/stories/{username}/highlights/{highlight_id}"
    return base if story_id is None else f"{base}/{story_id}"


async def _highlight_page(
    page: PageCtx, username: str, highlight_id: str, story_id: str | None
) -> Response:
    owner = await accounts_service.get_by_username(page.session, username=username)
    shown = await _highlight(page, owner, highlight_id)
    now = page.runtime.clock.now()
    slides = [
        Slide(story, highlight_url(owner.username, shown.id, story.id), _live(story, now))
        for story in shown.stories
    ]
    index = 0
    if story_id is not None:
        sid = _story_id(story_id)
        found = next((i for i, s in enumerate(slides) if s.story.id == sid), None)
        if found is None:
            raise NotFound(stories_service.NO_SUCH_STORY)
        index = found
    own = page.user is not None and page.user.id == owner.id
    reel = Reel(UserSummary.of(owner, urls=page.urls), slides, own=own, title=shown.title)
    viewer = Viewer(
        mode="highlight",
        reels=[reel],
        reel_index=0,
        story_index=index,
        close_url=f"/{owner.username}",
        highlight=shown,
    )
    return await _render_viewer(page, viewer)


@router.get("/stories/{username}/highlights/{highlight_id}")
async def highlight(username: str, highlight_id: str, page: PageDep) -> Response:
    """A highlight's stories in the viewer, from the first."""
    return await _highlight_page(page, username, highlight_id, None)


@router.get("/stories/{username}/highlights/{highlight_id}/{story_id}")
async def highlight_story(
    username: str, highlight_id: str, story_id: str, page: PageDep
) -> Response:
    """A highlight's stories in the viewer, at one of them."""
    return await _highlight_page(page, username, highlight_id, story_id)


# ---------------------------------------------------------------- replies and deletion


@router.post("/stories/{username}/{story_id}/reply")
async def reply(username: str, story_id: str, page: MemberPageDep) -> Response:
    """The reply box without JS: the reply goes into the 1:1 with the story's author."""
    fields = await page.verify_form()
    sid = _story_id(story_id)
    text = pages_messages.posted_text(fields, "reply")
    await page.count_action("messages")
    await stories_service.reply(
        page.session,
        ids=page.runtime.ids,
        storage=page.runtime.storage,
        viewer=page.me,
        story_id=sid,
        text=text,
        now=page.runtime.clock.now(),
    )
    await page.runtime.commit(page.session)
    return redirect(story_url(username.strip().lower(), sid) + "?sent=true")


@router.post("/stories/{username}/{story_id}/delete")
async def delete(username: str, story_id: str, page: MemberPageDep) -> Response:
    """Delete your story without JS (after the confirmation in the page), then home."""
    await page.verify_form()
    await stories_service.delete_story(
        page.session,
        ids=page.runtime.ids,
        viewer=page.me,
        story_id=_story_id(story_id),
        now=page.runtime.clock.now(),
    )
    await page.runtime.commit(page.session)
    return redirect("/")
