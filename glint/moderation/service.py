"""The rules of moderation: reports and their queue, resolving them, taking content down with a
tombstone for its author, and the audit trail of each. Bans and roles live in `users`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from glint.accounts.models import User
from glint.errors import Forbidden, NotFound, ValidationFailed
from glint.infra.db import insert_ignore, utcnow
from glint.infra.events import bus
from glint.infra.ids import IdGenerator
from glint.moderation import audit, events, targets, users
from glint.moderation.models import (
    CONTENT_TYPES,
    REASONS,
    TARGET_TYPES,
    Action,
    Removal,
    Report,
    ReportStatus,
    check_move,
    move_report,
)
from glint.posts import engagement as posts_engagement
from glint.posts.models import Comment

HOLD_REASON = "spam"


def _open_on(target_type: str, target_id: int) -> sa.ColumnElement[bool]:
    """SQL: the open reports on one target."""
    return sa.and_(
        Report.target_type == target_type,
        Report.target_id == target_id,
        Report.status == ReportStatus.OPEN,
    )


async def file_report(
    session: AsyncSession,
    *,
    ids: IdGenerator,
    reporter: User,
    target_type: str,
    target_id: int,
    reason: str,
    text: str = "",
) -> tuple[Report, bool]:
    """Report something the reporter can see; (the report, whether it is new). A second open
    report by the same person on the same thing is the first one."""
    if target_type not in TARGET_TYPES:
        raise ValidationFailed("Unknown target.", fields={"target_type": f"one of {TARGET_TYPES}"})
    if reason not in REASONS:
        raise ValidationFailed("Unknown reason.", fields={"reason": f"one of {REASONS}"})
    target = await targets.reported(
        session, viewer=reporter, target_type=target_type, target_id=target_id
    )
    if target.owner_id == reporter.id:
        raise ValidationFailed("You cannot report yourself or what you made.")
    report_id = ids.next_id()
    added = await insert_ignore(
        session,
        Report,
        {
            "id": report_id,
            "reporter_id": reporter.id,
            "target_type": target.type,
            "target_id": target.id,
            "target_user_id": target.owner_id,
            "reason": reason,
            "text": text[:1000],
            "excerpt": target.excerpt,
            "status": ReportStatus.OPEN,
            "created_at": utcnow(),
        },
    )
    report = await session.scalar(
        sa.select(Report).where(_open_on(target.type, target.id), Report.reporter_id == reporter.id)
    )
    assert report is not None  # ours, or the open one that refused ours
    return report, added


async def hold_for_review(session: AsyncSession, *, ids: IdGenerator, comment_id: int) -> None:
    """The guards held a comment: it waits in the queue as a report with no reporter."""
    target = await targets.current(session, target_type="comment", target_id=comment_id)
    if target is None or await session.scalar(
        sa.select(Report.id).where(_open_on("comment", target.id))
    ):
        return  # gone already, or queued by an earlier try of this job
    session.add(
        Report(
            id=ids.next_id(),
            reporter_id=None,
            target_type="comment",
            target_id=target.id,
            target_user_id=target.owner_id,
            reason=HOLD_REASON,
            text="Held automatically: links from an account younger than a day.",
            excerpt=target.excerpt,
            status=ReportStatus.OPEN,
            created_at=utcnow(),
        )
    )
    await session.flush()


async def close_reports(
    session: AsyncSession,
    *,
    ids: IdGenerator,
    actor: User,
    where: sa.ColumnElement[bool],
    action: Action,
) -> list[int]:
    """Resolve every open report matching `where` with one outcome; their reporters hear it."""
    open_reports = list(
        await session.scalars(sa.select(Report).where(where, Report.status == ReportStatus.OPEN))
    )
    now = utcnow()
    for report in open_reports:
        move_report(report, ReportStatus.RESOLVED)
        report.action, report.resolved_by_id, report.resolved_at = action, actor.id, now
    if open_reports:
        closed = [report.id for report in open_reports]
        await bus.emit(session, ids=ids, event=events.ReportsResolved(closed, action))
    await session.flush()
    return [report.id for report in open_reports]


async def get_report(session: AsyncSession, *, report_id: int) -> Report:
    """One report, or NotFound."""
    report = await session.get(Report, report_id)
    if report is None:
        raise NotFound("No such report.")
    return report


async def resolve(
    session: AsyncSession,
    *,
    ids: IdGenerator,
    actor: User,
    report_id: int,
    action: Action,
    reason: str = "",
    until: dt.datetime | None = None,
) -> Report:
    """Resolve a report and every other open one on its target with one action (`until`: when
    a ban ends, none for a ban until lifted)."""
    report = await get_report(session, report_id=report_id)
    check_move(report, ReportStatus.RESOLVED)
    why = reason or f"Reported for {report.reason.replace('_', ' ')}"
    if action is Action.BAN_USER:
        if actor.role != "admin":
            raise Forbidden("Only administrators ban accounts.")
        owner = await session.get(User, report.target_user_id)
        assert owner is not None  # reports go with their target's owner (cascade)
        await users.ban(session, ids=ids, actor=actor, user=owner, reason=why, until=until)
    elif action is Action.REMOVE_CONTENT:
        if report.target_type not in CONTENT_TYPES:
            raise ValidationFailed(
                "An account is banned, not removed.", fields={"action": "ban_user"}
            )
        target = await targets.current(
            session, target_type=report.target_type, target_id=report.target_id
        )
        if target is not None:
            await remove_content(session, ids=ids, actor=actor, target=target, reason=why)
    else:
        await _release_if_held(session, ids=ids, report=report)
        await audit.record(
            session,
            ids=ids,
            actor=actor,
            action="report.dismissed",
            target_type=report.target_type,
            target_id=report.target_id,
            target_label=report.excerpt,
            reason=reason,
        )
    await close_reports(
        session,
        ids=ids,
        actor=actor,
        where=_open_on(report.target_type, report.target_id),
        action=action,
    )
    return report


async def _release_if_held(session: AsyncSession, *, ids: IdGenerator, report: Report) -> None:
    if report.target_type == "comment":
        comment = await session.get(Comment, report.target_id)
        if comment is not None and comment.held:
            await posts_engagement.release_comment(session, ids=ids, comment=comment)


async def remove_content(
    session: AsyncSession,
    *,
    ids: IdGenerator,
    actor: User,
    target: targets.Target,
    reason: str,
) -> Removal | None:
    """Take something down for everyone, leave its author a tombstone with the reason, log it,
    and close the open reports on it. None when it was gone already."""
    if not await targets.take_down(session, ids=ids, target=target):
        return None
    removal = Removal(
        id=ids.next_id(),
        author_id=target.owner_id,
        target_type=target.type,
        target_id=target.id,
        excerpt=target.excerpt,
        reason=reason[:500],
        removed_at=utcnow(),
    )
    session.add(removal)
    await audit.record(
        session,
        ids=ids,
        actor=actor,
        action="content.removed",
        target_type=target.type,
        target_id=target.id,
        target_label=target.excerpt,
        reason=reason,
    )
    await bus.emit(session, ids=ids, event=events.ContentRemoved(removal.id, target.owner_id))
    await close_reports(
        session,
        ids=ids,
        actor=actor,
        where=_open_on(target.type, target.id),
        action=Action.REMOVE_CONTENT,
    )
    return removal


@dataclass(frozen=True, slots=True)
class Group:
    """The reports on one target, as the queue shows them."""

    target_type: str
    target_id: int
    owner_id: int
    reports: list[Report]


async def queue(
    session: AsyncSession, *, status: ReportStatus, cursor: int | None, limit: int
) -> tuple[list[Group], int | None]:
    """Reports grouped by target: open ones oldest first, resolved ones latest first; and the
    next page's cursor (the last group's first or last report ID)."""
    first, last = sa.func.min(Report.id), sa.func.max(Report.id)
    key = first if status is ReportStatus.OPEN else last
    query = (
        sa.select(Report.target_type, Report.target_id, key.label("key"))
        .where(Report.status == status)
        .group_by(Report.target_type, Report.target_id)
    )
    if status is ReportStatus.OPEN:
        query = query.order_by(key.asc())
        query = query.having(key > cursor) if cursor is not None else query
    else:
        query = query.order_by(key.desc())
        query = query.having(key < cursor) if cursor is not None else query
    keys = (await session.execute(query.limit(limit + 1))).all()
    more = len(keys) > limit
    keys = keys[:limit]
    groups = await _groups(session, status=status, keys=[(t, i) for t, i, _ in keys])
    return groups, (keys[-1][2] if more else None)


async def _groups(
    session: AsyncSession, *, status: ReportStatus, keys: Sequence[tuple[str, int]]
) -> list[Group]:
    if not keys:
        return []
    rows = await session.scalars(
        sa.select(Report)
        .where(Report.status == status, sa.tuple_(Report.target_type, Report.target_id).in_(keys))
        .order_by(Report.id)
    )
    by_target: dict[tuple[str, int], list[Report]] = {key: [] for key in keys}
    for row in rows:
        by_target[(row.target_type, row.target_id)].append(row)
    return [
        Group(key[0], key[1], reports[0].target_user_id, reports)
        for key, reports in by_target.items()
        if reports
    ]


async def group_of(session: AsyncSession, *, report_id: int) -> Group:
    """Every report on the target of one report (open and resolved), oldest first."""
    report = await get_report(session, report_id=report_id)
    reports = list(
        await session.scalars(
            sa.select(Report)
            .where(Report.target_type == report.target_type, Report.target_id == report.target_id)
            .order_by(Report.id)
        )
    )
    return Group(report.target_type, report.target_id, report.target_user_id, reports)


async def removals_of(
    session: AsyncSession, *, user: User, before_id: int | None, limit: int
) -> list[Removal]:
    """What moderators took down of one author's, newest first, limit+1."""
    query = sa.select(Removal).where(Removal.author_id == user.id)
    if before_id is not None:
        query = query.where(Removal.id < before_id)
    return list(await session.scalars(query.order_by(Removal.id.desc()).limit(limit + 1)))
