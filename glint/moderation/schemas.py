"""API shapes of moderation and administration."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import StringConstraints

from glint.accounts.schemas import MeOut, Role, UserSummary
from glint.moderation.models import Reason, TargetType
from glint.schemas import Id, InputSchema, Schema, Timestamp

ActionName = Literal["dismiss", "remove_content", "ban_user"]
Why = Annotated[str, StringConstraints(max_length=500)]


class ReportIn(InputSchema):
    """POST /reports."""

    target_type: TargetType
    target_id: Id
    reason: Reason
    text: Annotated[str, StringConstraints(max_length=1000)] = ""


class ReportOut(Schema):
    """A report as its reporter sees it (never who resolved it)."""

    id: Id
    target_type: str
    target_id: Id
    reason: str
    text: str
    status: str
    action: str | None
    created_at: Timestamp
    resolved_at: Timestamp | None


class StaffReportOut(ReportOut):
    """A report as staff see it: with its reporter (none: held by the guards)."""

    reporter: UserSummary | None


class ReportGroupOut(Schema):
    """The reports on one target, with what the target is (or was)."""

    target_type: str
    target_id: Id
    target_user: UserSummary | None
    excerpt: str
    target_exists: bool
    report_count: int
    reasons: dict[str, int]
    first_reported_at: Timestamp
    reports: list[StaffReportOut]


class ReportGroupPage(Schema):
    """GET /admin/reports."""

    items: list[ReportGroupOut]
    next_cursor: str | None


class ResolveIn(InputSchema):
    """POST /admin/reports/{id}/resolve."""

    action: ActionName
    reason: Why = ""
    until: dt.datetime | None = None  # when a ban_user ends (none: until lifted)


class BanIn(InputSchema):
    """POST /admin/users/{username}/ban (the body is optional)."""

    reason: Why = ""
    until: dt.datetime | None = None


class UnbanIn(InputSchema):
    """POST /admin/users/{username}/unban (the body is optional)."""

    reason: Why = ""


class RoleIn(InputSchema):
    """POST /admin/users/{username}/role."""

    role: Role


class StaffUserOut(MeOut):
    """An account as admins see it: with its ban."""

    banned: bool
    banned_at: Timestamp | None
    ban_reason: str | None
    banned_until: Timestamp | None
    last_active_at: Timestamp


class DayCount(Schema):
    """Posts published on one day (UTC)."""

    day: dt.date
    posts: int


class StatsOut(Schema):
    """GET /admin/stats."""

    users: int
    posts: int
    posts_24h: int
    active_sessions: int
    queue_depth: int
    failed_jobs: int
    storage_bytes: int
    open_reports: int
    banned_users: int
    posts_per_day: list[DayCount]


class AuditEntryOut(Schema):
    """One line of the audit log."""

    id: Id
    actor: str
    action: str
    target_type: str
    target_id: Id
    target_label: str
    reason: str
    created_at: Timestamp


class RemovalOut(Schema):
    """A tombstone: what a moderator took down of yours, and why."""

    id: Id
    target_type: str
    target_id: Id
    excerpt: str
    reason: str
    removed_at: Timestamp


class JobOut(Schema):
    """A background job as an admin sees it."""

    id: Id
    name: str
    status: str
    attempts: int
    max_attempts: int
    payload: dict[str, Any]
    last_error: str | None
    run_after: Timestamp
    created_at: Timestamp
    finished_at: Timestamp | None


class JobCountsOut(Schema):
    """Jobs by state."""

    queued: int
    running: int
    done: int
    dead: int
