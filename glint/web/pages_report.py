"""Reporting a post, a comment or an account from the web app: a small form (a reason from the
fixed list, optional words) that files the report through the same service as POST /reports,
then "Thanks for reporting". js/actions.js shows the same form in a dialog."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Response

from glint.accounts import service as accounts_service
from glint.errors import NotFound
from glint.moderation import service as moderation_service
from glint.moderation import targets as moderation_targets
from glint.moderation.models import REASONS
from glint.posts import engagement as posts_engagement
from glint.schemas import clean_text, parse_path_id
from glint.web.rendering import MemberPageDep, PageCtx, WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)

MAX_REPORT_TEXT = 1000
REASON_LABELS = {
    "spam": "It's spam",
    "harassment": "Bullying or harassment",
    "hate": "Hate speech or symbols",
    "nudity": "Nudity or sexual activity",
    "violence": "Violence or dangerous organisations",
    "self_harm": "Suicide or self-injury",
    "misinformation": "False information",
    "intellectual_property": "Intellectual property violation",
    "other": "Something else",
}
assert tuple(REASON_LABELS) == REASONS, "a label for every reason the service knows"
_NOUNS = {"post": "post", "comment": "comment", "user": "account"}


@dataclass(frozen=True)
class Reported:
    """Something the viewer may see and report: its ID, the form's URL, where "back" goes."""

    type: str
    id: int
    action: str
    back: str


async def _target(page: PageCtx, target_type: str, key: str) -> Reported:
    """The thing named in the path, if the viewer may see it (NotFound otherwise)."""
    if target_type == "user":
        user = await accounts_service.get_by_username(page.session, username=key)
        target_id, back = user.id, f"/{user.username}"
        action = f"/{user.username}/report"
    else:
        parsed = parse_path_id(key)
        if parsed is None:
            raise NotFound(f"No such {target_type}.")
        target_id, back = parsed, f"/p/{parsed}"
        action = f"/{target_type[0]}/{parsed}/report"
    await moderation_targets.reported(
        page.session, viewer=page.me, target_type=target_type, target_id=target_id
    )
    if target_type == "comment":
        comment = await posts_engagement.get_comment(
            page.session, viewer=page.me, comment_id=target_id
        )
        back = f"/p/{comment.post_id}#c-{comment.id}"
    return Reported(target_type, target_id, action, back)


async def _form(page: PageCtx, target_type: str, key: str) -> Response:
    target = await _target(page, target_type, key)
    return await _render(page, target, reason="", text="", error=None)


async def _render(
    page: PageCtx,
    target: Reported,
    *,
    reason: str,
    text: str,
    error: str | None,
    status: int = 200,
) -> Response:
    context: dict[str, Any] = {
        "noun": _NOUNS[target.type],
        "action": target.action,
        "back": target.back,
        "reasons": REASON_LABELS,
        "reason": reason,
        "text": text,
        "error": error,
        "max_text": MAX_REPORT_TEXT,
    }
    return await page.render("report.html", context, status=status)


async def _file(page: PageCtx, target_type: str, key: str) -> Response:
    fields = await page.verify_form()
    target = await _target(page, target_type, key)
    reason, text = fields.get("reason", ""), fields.get("text", "").strip()
    error = None
    if reason not in REASON_LABELS:
        error = "Choose why you're reporting this."
    elif len(text) > MAX_REPORT_TEXT:
        error = f"Tell us in at most {MAX_REPORT_TEXT:,} characters."
    else:
        try:
            text = clean_text(text)
        except ValueError as exc:
            error = f"The text {exc}."
    if error:
        return await _render(page, target, reason=reason, text=text, error=error, status=422)
    _, created = await moderation_service.file_report(
        page.session,
        ids=page.runtime.ids,
        reporter=page.me,
        target_type=target.type,
        target_id=target.id,
        reason=reason,
        text=text,
    )
    await page.runtime.commit(page.session)
    context = {"noun": _NOUNS[target.type], "back": target.back, "again": not created}
    return await page.render("report_done.html", context)


@router.get("/p/{post_id}/report")
async def report_post_form(post_id: str, page: MemberPageDep) -> Response:
    """Why are you reporting this post?"""
    return await _form(page, "post", post_id)


@router.post("/p/{post_id}/report")
async def report_post(post_id: str, page: MemberPageDep) -> Response:
    """File the report on a post."""
    return await _file(page, "post", post_id)


@router.get("/c/{comment_id}/report")
async def report_comment_form(comment_id: str, page: MemberPageDep) -> Response:
    """Why are you reporting this comment?"""
    return await _form(page, "comment", comment_id)


@router.post("/c/{comment_id}/report")
async def report_comment(comment_id: str, page: MemberPageDep) -> Response:
    """File the report on a comment."""
    return await _file(page, "comment", comment_id)


@router.get("/{username}/report")
async def report_user_form(username: str, page: MemberPageDep) -> Response:
    """Why are you reporting this account?"""
    return await _form(page, "user", username)


@router.post("/{username}/report")
async def report_user(username: str, page: MemberPageDep) -> Response:
    """File the report on an account."""
    return await _file(page, "user", username)
