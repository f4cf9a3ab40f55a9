"""HTTP routes of direct messages: conversations, messages, receipts, typing, reactions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from glint.errors import ValidationFailed
from glint.http import uploads
from glint.http.deps import (
    CurrentUser,
    MediaUrlsDep,
    PageParamsDep,
    RuntimeDep,
    SessionDep,
    rate_limit,
)
from glint.messaging import messages as messages_service
from glint.messaging import presenter
from glint.messaging import service as messaging_service
from glint.messaging.schemas import (
    ConversationCounts,
    ConversationIn,
    ConversationOut,
    ConversationPatchIn,
    Folder,
    MessageIn,
    MessageOut,
    ParticipantsIn,
    ReactionIn,
    ReadIn,
)
from glint.paging import Page, cursor_int, decode_cursor, encode_cursor, page_by_id
from glint.realtime import service as realtime_service
from glint.schemas import path_id

router = APIRouter(tags=["messages"])


async def _one(
    session: SessionDep, user: CurrentUser, urls: MediaUrlsDep, found: messaging_service.Membership
) -> ConversationOut:
    (shaped,) = await presenter.conversations_out(session, viewer=user, urls=urls, rows=[found])
    return shaped


@router.get("/conversations")
async def list_conversations(
    page: PageParamsDep,
    user: CurrentUser,
    urls: MediaUrlsDep,
    session: SessionDep,
    folder: Annotated[Folder, Query(description="all, inbox or requests.")] = "all",
) -> Page[ConversationOut]:
    """The signed-in user's conversations, most recent activity first."""
    before = cursor_int(decode_cursor(page.cursor), "activity") if page.cursor else None
    rows = await messaging_service.list_conversations(
        session, user=user, folder=folder, before_activity=before, limit=page.limit
    )
    items = rows[: page.limit]
    cursor = (
        encode_cursor({"activity": items[-1].member.activity_id})
        if len(rows) > page.limit and items
        else None
    )
    shaped = await presenter.conversations_out(session, viewer=user, urls=urls, rows=items)
    return Page[ConversationOut](items=shaped, next_cursor=cursor)


@router.get("/conversations/counts")
async def conversation_counts(user: CurrentUser, session: SessionDep) -> ConversationCounts:
    """What the navigation badges show: unread conversations and pending requests."""
    unread, requests = await messaging_service.counts(session, user=user)
    return ConversationCounts(unread_conversations=unread, requests=requests)


@router.post("/conversations", status_code=status.HTTP_201_CREATED)
async def open_conversation(
    body: ConversationIn,
    response: Response,
    user: CurrentUser,
    runtime: RuntimeDep,
    urls: MediaUrlsDep,
    session: SessionDep,
) -> ConversationOut:
    """Start a conversation; a 1:1 that exists already is returned (200)."""
    found, created = await messaging_service.open_conversation(
        session, ids=runtime.ids, creator=user, usernames=body.usernames, title=body.title
    )
    await runtime.commit(session)
    if not created:
        response.status_code = status.HTTP_200_OK
    return await _one(session, user, urls, found)


@router.get("/conversations/{conversation_id}")
async def get_conversation(
    conversation_id: str, user: CurrentUser, urls: MediaUrlsDep, session: SessionDep
) -> ConversationOut:
    """One conversation the user is in."""
    found = await messaging_service.membership(
        session, user=user, conversation_id=path_id(conversation_id, "conversation")
    )
    return await _one(session, user, urls, found)


@router.patch("/conversations/{conversation_id}")
async def update_conversation(
    conversation_id: str,
    body: ConversationPatchIn,
    user: CurrentUser,
    runtime: RuntimeDep,
    urls: MediaUrlsDep,
    session: SessionDep,
) -> ConversationOut:
    """Mute or unmute it for yourself; rename a group."""
    found = await messaging_service.update(
        session,
        ids=runtime.ids,
        user=user,
        conversation_id=path_id(conversation_id, "conversation"),
        muted=body.muted,
        title=body.title,
    )
    await runtime.commit(session)
    return await _one(session, user, urls, found)


@router.post("/conversations/{conversation_id}/accept", status_code=status.HTTP_204_NO_CONTENT)
async def accept(
    conversation_id: str, user: CurrentUser, runtime: RuntimeDep, session: SessionDep
) -> Response:
    """A message request becomes a normal conversation."""
    await messaging_service.accept(
        session, user=user, conversation_id=path_id(conversation_id, "conversation")
    )
    await runtime.commit(session)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/conversations/{conversation_id}/participants")
async def add_participants(
    conversation_id: str,
    body: ParticipantsIn,
    user: CurrentUser,
    runtime: RuntimeDep,
    urls: MediaUrlsDep,
    session: SessionDep,
) -> ConversationOut:
    """Members bring more people into a group."""
    found = await messaging_service.add_participants(
        session,
        ids=runtime.ids,
        user=user,
        conversation_id=path_id(conversation_id, "conversation"),
        usernames=body.usernames,
    )
    await runtime.commit(session)
    return await _one(session, user, urls, found)


@router.post("/conversations/{conversation_id}/leave", status_code=status.HTTP_204_NO_CONTENT)
async def leave(
    conversation_id: str, user: CurrentUser, runtime: RuntimeDep, session: SessionDep
) -> Response:
    """Leave a group."""
    await messaging_service.leave(
        session,
        ids=runtime.ids,
        user=user,
        conversation_id=path_id(conversation_id, "conversation"),
    )
    await runtime.commit(session)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/conversations/{conversation_id}/messages")
async def list_messages(
    conversation_id: str,
    page: PageParamsDep,
    user: CurrentUser,
    urls: MediaUrlsDep,
    session: SessionDep,
) -> Page[MessageOut]:
    """A conversation's messages, newest first."""
    rows = await messages_service.page(
        session,
        viewer=user,
        conversation_id=path_id(conversation_id, "conversation"),
        before_id=page.before_id(),
        limit=page.limit,
    )
    items, cursor = page_by_id(rows, limit=page.limit, key=lambda message: message.id)
    shaped = await presenter.messages_out(session, viewer=user, urls=urls, messages=items)
    return Page[MessageOut](items=shaped, next_cursor=cursor)


async def _outgoing(request: Request) -> messages_service.Outgoing:
    """The message a request asks to send: JSON, or multipart with an `image` file."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        image = form.get("image")
        if not isinstance(image, UploadFile):
            raise ValidationFailed("Attach the photo as `image`.", fields={"image": "required"})
        client_id = form.get("client_id")
        if client_id is not None and not (isinstance(client_id, str) and 0 < len(client_id) <= 64):
            raise ValidationFailed(
                "A client_id has 1 to 64 characters.", fields={"client_id": "1 to 64 characters"}
            )
        return messages_service.Outgoing(
            kind="image", photo=await uploads.read_photo(image), client_id=client_id or None
        )
    try:
        body = MessageIn.model_validate_json(await request.body())
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from exc
    return messages_service.Outgoing(
        kind=body.kind, text=body.text, post_id=body.post_id, client_id=body.client_id
    )


_MESSAGE_BODY: dict[str, Any] = {
    "content": {
        "application/json": {"schema": MessageIn.model_json_schema()},
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {
                    "image": {"type": "string", "format": "binary"},
                    "client_id": {"type": "string", "maxLength": 64},
                },
                "required": ["image"],
            }
        },
    },
    "required": True,
}


@router.post(
    "/conversations/{conversation_id}/messages",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(rate_limit("messages"))],
    openapi_extra={"requestBody": _MESSAGE_BODY},
    responses={
        413: {"description": "The photo is over 10 MB."},
        415: {"description": "Not an image."},
    },
)
async def send_message(
    conversation_id: str,
    request: Request,
    response: Response,
    user: CurrentUser,
    runtime: RuntimeDep,
    urls: MediaUrlsDep,
    session: SessionDep,
) -> MessageOut:
    """Send a message; the same client_id again returns the same message (200)."""
    cid = path_id(conversation_id, "conversation")
    await messaging_service.membership(session, user=user, conversation_id=cid)
    outgoing = await _outgoing(request)
    message, created = await messages_service.send(
        session,
        ids=runtime.ids,
        storage=runtime.storage,
        sender=user,
        conversation_id=cid,
        outgoing=outgoing,
    )
    await runtime.commit(session)
    if not created:
        response.status_code = status.HTTP_200_OK
    (shaped,) = await presenter.messages_out(session, viewer=user, urls=urls, messages=[message])
    return shaped


@router.post("/conversations/{conversation_id}/read", status_code=status.HTTP_204_NO_CONTENT)
async def mark_read(
    conversation_id: str, body: ReadIn, user: CurrentUser, runtime: RuntimeDep, session: SessionDep
) -> Response:
    """Read receipt: the reader has seen everything up to this message."""
    await messaging_service.mark_read(
        session,
        ids=runtime.ids,
        user=user,
        conversation_id=path_id(conversation_id, "conversation"),
        message_id=body.message_id,
    )
    await runtime.commit(session)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/conversations/{conversation_id}/typing", status_code=status.HTTP_204_NO_CONTENT)
async def typing(
    conversation_id: str, user: CurrentUser, runtime: RuntimeDep, session: SessionDep
) -> Response:
    """Tell the others you are typing; it lapses after 5 s and is never stored."""
    await realtime_service.typing(
        session,
        hub=runtime.hub,
        user=user,
        conversation_id=path_id(conversation_id, "conversation"),
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/messages/{message_id}/reactions")
async def react(
    message_id: str,
    body: ReactionIn,
    user: CurrentUser,
    runtime: RuntimeDep,
    urls: MediaUrlsDep,
    session: SessionDep,
) -> MessageOut:
    """React to a message; a new reaction replaces your old one."""
    message = await messages_service.react(
        session,
        ids=runtime.ids,
        user=user,
        message_id=path_id(message_id, "message"),
        emoji=body.emoji,
    )
    await runtime.commit(session)
    (shaped,) = await presenter.messages_out(session, viewer=user, urls=urls, messages=[message])
    return shaped


@router.delete("/messages/{message_id}/reactions")
async def unreact(
    message_id: str, user: CurrentUser, runtime: RuntimeDep, urls: MediaUrlsDep, session: SessionDep
) -> MessageOut:
    """Take your reaction back."""
    message = await messages_service.react(
        session, ids=runtime.ids, user=user, message_id=path_id(message_id, "message"), emoji=None
    )
    await runtime.commit(session)
    (shaped,) = await presenter.messages_out(session, viewer=user, urls=urls, messages=[message])
    return shaped


@router.delete("/messages/{message_id}", status_code=status.HTTP_204_NO_CONTENT)
async def unsend(
    message_id: str, user: CurrentUser, runtime: RuntimeDep, session: SessionDep
) -> Response:
    """Unsend: the sender removes the message for everyone."""
    await messages_service.unsend(
        session, ids=runtime.ids, user=user, message_id=path_id(message_id, "message")
    )
    await runtime.commit(session)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
