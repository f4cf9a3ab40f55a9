"""Turns moderation rows into their API shapes (users loaded once per page)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from glint.accounts import service as accounts_service
from glint.accounts.models import User
from glint.accounts.schemas import UserSummary
from glint.media.urls import MediaUrls
from glint.moderation import targets
from glint.moderation.models import AuditEntry, Removal, Report
from glint.moderation.schemas import (
    AuditEntryOut,
    RemovalOut,
    ReportGroupOut,
    ReportOut,
    StaffReportOut,
    StaffUserOut,
)
from glint.moderation.service import Group


def report_out(report: Report) -> ReportOut:
    """A report as its reporter sees it."""
    return ReportOut.model_validate(report)


def _staff_report_out(report: Report, reporter: UserSummary | None) -> StaffReportOut:
    fields = {name: getattr(report, name) for name in ReportOut.model_fields}
    return StaffReportOut(**fields, reporter=reporter)


def staff_user_out(user: User, *, urls: MediaUrls) -> StaffUserOut:
    """An account with its ban, for admins."""
    return StaffUserOut.of(user, urls=urls, banned=user.banned_at is not None)


async def groups_out(
    session: AsyncSession, *, groups: Sequence[Group], urls: MediaUrls
) -> list[ReportGroupOut]:
    """Report groups with their reporters, owners and what each target is now."""
    user_ids = {g.owner_id for g in groups} | {
        r.reporter_id for g in groups for r in g.reports if r.reporter_id is not None
    }
    people = await accounts_service.get_many(session, user_ids=list(user_ids))

    def summary(user_id: int | None) -> UserSummary | None:
        user = people.get(user_id) if user_id is not None else None
        return UserSummary.of(user, urls=urls) if user is not None else None

    shaped = []
    for group in groups:
        now = await targets.current(
            session, target_type=group.target_type, target_id=group.target_id
        )
        shaped.append(
            ReportGroupOut(
                target_type=group.target_type,
                target_id=group.target_id,
                target_user=summary(group.owner_id),
                excerpt=now.excerpt if now is not None else group.reports[-1].excerpt,
                target_exists=now is not None,
                report_count=len(group.reports),
                reasons=dict(Counter(r.reason for r in group.reports)),
                first_reported_at=group.reports[0].created_at,
                reports=[_staff_report_out(r, summary(r.reporter_id)) for r in group.reports],
            )
        )
    return shaped


def audit_out(entry: AuditEntry) -> AuditEntryOut:
    """One audit line."""
    return AuditEntryOut(
        id=entry.id,
        actor=entry.actor_username,
        action=entry.action,
        target_type=entry.target_type,
        target_id=entry.target_id,
        target_label=entry.target_label,
        reason=entry.reason,
        created_at=entry.created_at,
    )


def removal_out(removal: Removal) -> RemovalOut:
    """One tombstone."""
    return RemovalOut.model_validate(removal)
