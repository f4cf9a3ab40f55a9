"""Direct messages: the inbox and requests folders, a conversation's thread, starting one.

Pages are rendered here with the same service and presenter functions as the API
(glint/api/messaging.py); what happens live (sending, typing, reactions, receipts) goes
through the JSON API and the stream from js/direct.js. The few forms that work without
JavaScript (start a conversation, send a text, accept a request) post to these pages.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Response
from pydantic import ValidationError

from glint.accounts.schemas import UserSummary
from glint.errors import GlintError, NotFound, ValidationFailed
from glint.messaging import messages as messages_service
from glint.messaging import presenter as messaging_presenter
from glint.messaging import service as messaging_service
from glint.messaging.schemas import (
    MAX_PARTICIPANTS,
    MAX_TEXT,
    MAX_TITLE,
    ConversationIn,
    ConversationOut,
    MessageOut,
)
from glint.paging import (
    MAX_CURSOR_LENGTH,
    PageParams,
    cursor_int,
    decode_cursor,
    encode_cursor,
    page_by_id,
)
from glint.schemas import clean_text, parse_path_id
from glint.stories import presenter as stories_presenter
from glint.stories import service as stories_service
from glint.web.rendering import MemberPageDep, PageCtx, WebRoute, redirect

router = APIRouter(route_class=WebRoute, include_in_schema=False)

INBOX_PAGE = 20
THREAD_PAGE = 30
# A new run of bubbles gets a time line above it after this long a pause (as Instagram does).
TIME_GAP = dt.timedelta(hours=1)
Cursor = Annotated[str | None, Query(max_length=MAX_CURSOR_LENGTH)]
ListFolder = Literal["inbox", "requests"]
_NAMES = re.compile(r"[\s,;]+")


@dataclass
class ConversationView:
    """A conversation as the inbox and the thread header show it to the viewer."""

    conversation: ConversationOut
    title: str
    others: list[UserSummary]
    preview: str

    @property
    def id(self) -> int:
        """The conversation's ID."""
        return self.conversation.id


@dataclass
class StoryQuote:
    """The story a story_reply answers, as its reader may see it now: a thumbnail and a link
    to the viewer; "Story unavailable" (no URLs) once it is gone or not visible to them."""

    story_id: int
    author: str | None = None
    photo_url: str | None = None
    alt: str | None = None
    href: str | None = None


@dataclass
class MessageView:
    """A message bubble: whose it is, and where it stands in its run of bubbles."""

    message: MessageOut
    mine: bool
    run_start: bool
    time_line: dt.datetime | None
    story: StoryQuote | None = None


def _conversation_id(value: str) -> int:
    parsed = parse_path_id(value)
    if parsed is None:
        raise NotFound(messaging_service.NO_SUCH_CONVERSATION)
    return parsed


def preview(message: MessageOut | None, viewer_id: int, is_group: bool) -> str:
    """The last message as one line of the inbox: "You: hi", "Sent a photo", "❤️"."""
    if message is None:
        return "No messages yet"
    mine = message.sender.id == viewer_id
    if message.kind == "heart":
        body = "❤️"
    elif message.kind == "image":
        body = "Sent a photo"
    elif message.kind == "post_share":
        body = "Sent a post"
    elif message.kind == "story_reply":
        body = "Replied to a story" + (f": {message.text}" if message.text else "")
    else:
        body = message.text or ""
    if mine:
        return f"You: {body}"
    if is_group:
        return f"{message.sender.username}: {body}"
    return body


def view_of(conversation: ConversationOut, viewer_id: int) -> ConversationView:
    """Title, the other people, and the preview line of a conversation."""
    others = [person for person in conversation.participants if person.id != viewer_id]
    if conversation.title:
        title = conversation.title
    elif others:
        title = ", ".join(person.username for person in others)
    else:
        title = "Just you"
    return ConversationView(
        conversation=conversation,
        title=title,
        others=others,
        preview=preview(conversation.last_message, viewer_id, conversation.is_group),
    )


def bubbles(
    messages: list[MessageOut], viewer_id: int, quotes: dict[int, StoryQuote] | None = None
) -> list[MessageView]:
    """Messages oldest first, each marked mine or not, with runs and time lines (and the
    quoted story of a story reply)."""
    views: list[MessageView] = []
    previous: MessageOut | None = None
    for message in messages:
        gap = previous is None or message.created_at - previous.created_at >= TIME_GAP
        views.append(
            MessageView(
                message=message,
                mine=message.sender.id == viewer_id,
                run_start=gap or previous is None or previous.sender.id != message.sender.id,
                time_line=message.created_at if gap else None,
                story=(quotes or {}).get(message.story_id) if message.story_id else None,
            )
        )
        previous = message
    return views


def seen_by(conversation: ConversationOut, messages: list[MessageOut], viewer_id: int) -> list[str]:
    """Who else has read the thread's newest message when it is the viewer's ("Seen")."""
    if not messages or messages[-1].sender.id != viewer_id:
        return []
    newest = messages[-1].id
    readers = {
        state.user_id
        for state in conversation.read_states
        if state.user_id != viewer_id
        and state.last_read_message_id is not None
        and state.last_read_message_id >= newest
    }
    return [person.username for person in conversation.participants if person.id in readers]


@dataclass
class ConversationList:
    """A page of conversation rows and where the next page comes from (fragment, page)."""

    views: list[ConversationView]
    next_url: str | None
    page_url: str | None

    def context(self) -> dict[str, Any]:
        """What the list templates take."""
        return {
            "conversations": self.views,
            "next_url": self.next_url,
            "page_url": self.page_url,
        }


async def _conversations(page: PageCtx, folder: ListFolder, cursor: str | None) -> ConversationList:
    """A page of the viewer's conversations in a folder."""
    before = cursor_int(decode_cursor(cursor), "activity") if cursor else None
    rows = await messaging_service.list_conversations(
        page.session, user=page.me, folder=folder, before_activity=before, limit=INBOX_PAGE
    )
    items = rows[:INBOX_PAGE]
    shaped = await messaging_presenter.conversations_out(
        page.session, viewer=page.me, urls=page.urls, rows=items
    )
    next_url = page_url = None
    if len(rows) > INBOX_PAGE and items:
        token = encode_cursor({"activity": items[-1].member.activity_id})
        next_url = "/direct/inbox/page?" + urlencode({"folder": folder, "cursor": token})
        page_url = f"/direct/{folder}?" + urlencode({"cursor": token})
    views = [view_of(conversation, page.me.id) for conversation in shaped]
    return ConversationList(views, next_url, page_url)


async def _list_page(
    page: PageCtx, folder: ListFolder, cursor: str | None, extra: dict[str, Any] | None = None
) -> Response:
    listed = await _conversations(page, folder, cursor)
    _, requests = await messaging_service.counts(page.session, user=page.me)
    context: dict[str, Any] = {
        **listed.context(),
        "folder": folder,
        "request_count": requests,
        "active_id": None,
    }
    context.update(extra or {})
    return await page.render("direct_inbox.html", context)


@router.get("/direct")
async def direct(page: MemberPageDep) -> Response:
    """The messages section starts at the inbox."""
    return redirect("/direct/inbox", status=302)


@router.get("/direct/inbox")
async def inbox(page: MemberPageDep, cursor: Cursor = None) -> Response:
    """Conversations, most recent activity first; message requests wait in their own folder."""
    return await _list_page(page, "inbox", cursor)


@router.get("/direct/requests")
async def requests(page: MemberPageDep, cursor: Cursor = None) -> Response:
    """Message requests: conversations started by people the viewer does not follow."""
    return await _list_page(page, "requests", cursor)


@router.get("/direct/inbox/page")
async def inbox_fragment(
    page: MemberPageDep, folder: ListFolder = "inbox", cursor: Cursor = None
) -> Response:
    """More conversation rows, for infinite scroll."""
    listed = await _conversations(page, folder, cursor)
    return page.fragment("direct_rows.html", {**listed.context(), "active_id": None})


def _usernames(text: str) -> list[str]:
    """ "@alice, bob carol" -> ["alice", "bob", "carol"], in order, without repeats."""
    names = [name.lstrip("@").lower() for name in _NAMES.split(text) if name.strip("@")]
    return list(dict.fromkeys(names))


async def _new_form(
    page: PageCtx, values: dict[str, str], error: str | None, *, status: int = 200
) -> Response:
    context = {
        "values": values,
        "error": error,
        "max_people": MAX_PARTICIPANTS - 1,
        "max_title": MAX_TITLE,
    }
    return await page.render("direct_new.html", context, status=status)


@router.get("/direct/new")
async def new_conversation_form(
    page: MemberPageDep, to: Annotated[str | None, Query(max_length=400)] = None
) -> Response:
    """Start a conversation: one username for a chat, several (and a name) for a group."""
    return await _new_form(page, {"usernames": to or "", "title": ""}, None)


@router.post("/direct/new")
async def new_conversation(page: MemberPageDep) -> Response:
    """Open the conversation (the existing one for a 1:1) and go to its thread."""
    fields = await page.verify_form()
    values = {"usernames": fields.get("usernames", ""), "title": fields.get("title", "")}
    try:
        body = ConversationIn(
            usernames=_usernames(values["usernames"]), title=values["title"].strip() or None
        )
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = problem["loc"][0] if problem["loc"] else ""
        message = (
            f"Name 1 to {MAX_PARTICIPANTS - 1} people."
            if where == "usernames"
            else f"A group name has at most {MAX_TITLE} characters."
        )
        return await _new_form(page, values, message, status=422)
    try:
        found, _ = await messaging_service.open_conversation(
            page.session,
            ids=page.runtime.ids,
            creator=page.me,
            usernames=body.usernames,
            title=body.title,
        )
    except GlintError as exc:
        if exc.status >= 500:
            raise
        # Refused before anything was written (unknown name, a block, too many people).
        return await _new_form(page, values, exc.message, status=exc.status)
    await page.runtime.commit(page.session)
    return redirect(f"/direct/t/{found.conversation.id}")


async def story_quotes(
    page: PageCtx, messages: list[MessageOut], conversation_id: int
) -> dict[int, StoryQuote]:
    """The quoted stories of the story replies among these messages, as the viewer may see
    each one now (stories_service.visible_story decides)."""
    quotes: dict[int, StoryQuote] = {}
    back = urlencode({"back": f"/direct/t/{conversation_id}"})
    for message in messages:
        sid = message.story_id
        if message.kind != "story_reply" or sid is None or sid in quotes:
            continue
        quotes[sid] = StoryQuote(sid)
        try:
            story, author = await stories_service.visible_story(
                page.session, viewer=page.me, story_id=sid, now=page.runtime.clock.now()
            )
        except GlintError:
            continue
        media = stories_presenter.media_out(page.urls, story)
        if media is None:
            continue
        quotes[sid] = StoryQuote(
            sid,
            author=author.username,
            photo_url=media.jpeg_urls.small,
            alt=media.alt_text or f"Story by {author.username}",
            href=f"/stories/{author.username}/{sid}?{back}",
        )
    return quotes


async def _messages(
    page: PageCtx, conversation_id: int, cursor: str | None
) -> tuple[list[MessageOut], str | None]:
    """A page of messages oldest first (the newest page without a cursor), and the URL of
    the page before it."""
    params = PageParams(limit=THREAD_PAGE, cursor=cursor)
    rows = await messages_service.page(
        page.session,
        viewer=page.me,
        conversation_id=conversation_id,
        before_id=params.before_id(),
        limit=params.limit,
    )
    items, next_cursor = page_by_id(rows, limit=params.limit, key=lambda message: message.id)
    shaped = await messaging_presenter.messages_out(
        page.session, viewer=page.me, urls=page.urls, messages=items
    )
    older_url = None
    if next_cursor:
        older_url = f"/direct/t/{conversation_id}/page?" + urlencode({"cursor": next_cursor})
    return list(reversed(shaped)), older_url


@router.get("/direct/t/{conversation_id}")
async def thread(conversation_id: str, page: MemberPageDep) -> Response:
    """A conversation: its newest messages, the composer, and the inbox beside it."""
    cid = _conversation_id(conversation_id)
    found = await messaging_service.membership(page.session, user=page.me, conversation_id=cid)
    (conversation,) = await messaging_presenter.conversations_out(
        page.session, viewer=page.me, urls=page.urls, rows=[found]
    )
    messages, older_url = await _messages(page, cid, None)
    folder: ListFolder = "requests" if conversation.is_request else "inbox"
    listed = await _conversations(page, folder, None)
    _, request_count = await messaging_service.counts(page.session, user=page.me)
    context = {
        **listed.context(),
        "folder": folder,
        "request_count": request_count,
        "active_id": cid,
        "chat": view_of(conversation, page.me.id),
        "bubbles": bubbles(messages, page.me.id, await story_quotes(page, messages, cid)),
        "older_url": older_url,
        "seen_by": seen_by(conversation, messages, page.me.id),
        "read_marks": {
            state.user_id: state.last_read_message_id for state in conversation.read_states
        },
        "max_text": MAX_TEXT,
    }
    return await page.render("direct_thread.html", context)


@router.get("/direct/t/{conversation_id}/page")
async def older_messages(
    conversation_id: str, page: MemberPageDep, cursor: Cursor = None
) -> Response:
    """Older messages of a thread (HTML to put above the ones shown), for scrolling up."""
    cid = _conversation_id(conversation_id)
    found = await messaging_service.membership(page.session, user=page.me, conversation_id=cid)
    messages, older_url = await _messages(page, cid, cursor)
    context = {
        "bubbles": bubbles(messages, page.me.id, await story_quotes(page, messages, cid)),
        "older_url": older_url,
        "is_group": found.conversation.is_group,
    }
    return page.fragment("direct_messages.html", context)


@router.get("/direct/t/{conversation_id}/row")
async def conversation_row(
    conversation_id: str, page: MemberPageDep, active: Annotated[bool, Query()] = False
) -> Response:
    """One inbox row as it is now, for the live inbox (js/direct.js)."""
    cid = _conversation_id(conversation_id)
    found = await messaging_service.membership(page.session, user=page.me, conversation_id=cid)
    (conversation,) = await messaging_presenter.conversations_out(
        page.session, viewer=page.me, urls=page.urls, rows=[found]
    )
    context = {
        "conversations": [view_of(conversation, page.me.id)],
        "next_url": None,
        "page_url": None,
        "active_id": cid if active else None,
    }
    return page.fragment("direct_rows.html", context)


def posted_text(fields: dict[str, str], what: str) -> str:
    """The text of a message form (a message, a story reply), or 422 in words."""
    try:
        text = clean_text(fields.get("text", "").strip())
    except ValueError as exc:
        raise ValidationFailed(f"The {what} {exc}.") from exc
    if not 1 <= len(text) <= MAX_TEXT:
        raise ValidationFailed(f"A {what} has 1 to {MAX_TEXT:,} characters.")
    return text


@router.post("/direct/t/{conversation_id}")
async def send_text(conversation_id: str, page: MemberPageDep) -> Response:
    """The composer without JS: send the text, then back to the thread."""
    fields = await page.verify_form()
    cid = _conversation_id(conversation_id)
    text = posted_text(fields, "message")
    await page.count_action("messages")
    await messages_service.send(
        page.session,
        ids=page.runtime.ids,
        storage=page.runtime.storage,
        sender=page.me,
        conversation_id=cid,
        outgoing=messages_service.Outgoing(kind="text", text=text),
    )
    await page.runtime.commit(page.session)
    return redirect(f"/direct/t/{cid}")


@router.post("/direct/t/{conversation_id}/accept")
async def accept(conversation_id: str, page: MemberPageDep) -> Response:
    """Accept a message request without JS."""
    await page.verify_form()
    cid = _conversation_id(conversation_id)
    await messaging_service.accept(page.session, user=page.me, conversation_id=cid)
    await page.runtime.commit(page.session)
    return redirect(f"/direct/t/{cid}")
