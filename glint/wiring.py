"""Every background job, event subscription and periodic task of Glint, declared in one place.

Domains say what happened (events, emitted in the transaction that did it) and offer handlers;
this module, at the top of the layers, decides which handler follows which event. Each line
below is one durable job kind with its own retries and dead-letter. Entry points (the app, the
worker, the scheduler, the CLI) call `install()` before starting a runtime.

`prompt=True` subscribers run in the process that committed the event, right after its commit,
so their effect is visible in the very response (a follow's posts in the next feed load, a
like's count in the next read of the post); a worker takes over if that process dies.
"""

from __future__ import annotations

from glint.accounts import events as accounts_events
from glint.accounts import jobs as accounts_jobs
from glint.discovery import jobs as discovery_jobs
from glint.discovery import trends as discovery_trends
from glint.feeds import jobs as feeds_jobs
from glint.infra import queue_workers
from glint.infra.events import E, EventBus, Subscriber, bus
from glint.infra.queue import JobRegistry, registry
from glint.infra.runtime import Runtime
from glint.media import jobs as media_jobs
from glint.messaging import events as messaging_events
from glint.messaging import jobs as messaging_jobs
from glint.moderation import events as moderation_events
from glint.moderation import jobs as moderation_jobs
from glint.notifications import events as notifications_events
from glint.notifications import jobs as notifications_jobs
from glint.ownership import deletion_events
from glint.ownership import deletion_jobs as ownership_deletion_jobs
from glint.ownership import events as ownership_events
from glint.ownership import jobs as ownership_jobs
from glint.posts import events as posts_events
from glint.posts import jobs as posts_jobs
from glint.realtime import jobs as realtime_jobs
from glint.social import events as social_events
from glint.social import jobs as social_jobs
from glint.stories import events as stories_events
from glint.stories import jobs as stories_jobs

HOUR = 3600.0


def _subscribe_posts(events: EventBus) -> None:
    """Photos are processed, published posts fan out, deleted ones leave storage and feeds."""
    events.subscribe(
        posts_events.PostCreated,
        posts_jobs.process_post,
        name="posts.process",
        max_attempts=5,
        on_dead=posts_jobs.post_not_processed,
    )
    events.subscribe(
        posts_events.PostPublished,
        feeds_jobs.fan_out,
        name="feeds.fan_out",
        max_attempts=6,
        on_dead=feeds_jobs.timelines_behind,
    )
    # A new public post joins explore at once; the periodic refresh reorders it later.
    events.subscribe(posts_events.PostPublished, feeds_jobs.add_to_explore, name="feeds.explore")
    events.subscribe(
        posts_events.PostPublished, notifications_jobs.post_published, name="notifications"
    )
    events.subscribe(
        posts_events.PostDeleted,
        media_jobs.delete_objects,
        name="media.delete_objects",
        max_attempts=8,
    )
    events.subscribe(
        posts_events.PostDeleted,
        feeds_jobs.retract,
        name="feeds.retract",
        max_attempts=6,
        on_dead=feeds_jobs.timelines_behind,
    )
    # Whatever shows in a post drops its cached copy before the response that changed it.
    uncache = posts_jobs.forget_cached_post
    events.subscribe(posts_events.PostEdited, uncache, name="posts.uncache", prompt=True)
    events.subscribe(posts_events.PostDeleted, uncache, name="posts.uncache", prompt=True)
    events.subscribe(posts_events.PostLiked, uncache, name="posts.uncache", prompt=True)
    events.subscribe(posts_events.PostUnliked, uncache, name="posts.uncache", prompt=True)
    events.subscribe(posts_events.CommentCreated, uncache, name="posts.uncache", prompt=True)
    events.subscribe(posts_events.CommentDeleted, uncache, name="posts.uncache", prompt=True)


def _subscribe_engagement(events: EventBus) -> None:
    """Likes and comments are announced to the people they concern, and withdrawn with them."""
    events.subscribe(posts_events.PostLiked, notifications_jobs.post_liked, name="notifications")
    events.subscribe(
        posts_events.PostUnliked, notifications_jobs.post_unliked, name="notifications"
    )
    events.subscribe(
        posts_events.CommentCreated, notifications_jobs.commented, name="notifications"
    )
    events.subscribe(
        posts_events.CommentLiked, notifications_jobs.comment_liked, name="notifications"
    )
    events.subscribe(
        posts_events.CommentUnliked, notifications_jobs.comment_unliked, name="notifications"
    )


def _subscribe_graph(events: EventBus) -> None:
    """Graph changes reshape home timelines at once, and are announced."""
    behind = feeds_jobs.timelines_behind
    timeline = "feeds.timeline"
    events.subscribe(
        social_events.FollowCreated,
        feeds_jobs.merge_followed,
        name=timeline,
        on_dead=behind,
        prompt=True,
    )
    events.subscribe(
        social_events.FollowRemoved,
        feeds_jobs.drop_unfollowed,
        name=timeline,
        on_dead=behind,
        prompt=True,
    )
    events.subscribe(
        social_events.BlockCreated,
        feeds_jobs.drop_blocked,
        name=timeline,
        on_dead=behind,
        prompt=True,
    )
    events.subscribe(
        social_events.MuteCreated, feeds_jobs.drop_muted, name=timeline, on_dead=behind, prompt=True
    )
    events.subscribe(
        social_events.MuteRemoved,
        feeds_jobs.merge_unmuted,
        name=timeline,
        on_dead=behind,
        prompt=True,
    )
    events.subscribe(social_events.FollowCreated, notifications_jobs.followed, name="notifications")
    events.subscribe(
        social_events.FollowRequested, notifications_jobs.follow_requested, name="notifications"
    )
    events.subscribe(
        social_events.FollowRemoved, notifications_jobs.unfollowed, name="notifications"
    )


def _subscribe_accounts(events: EventBus) -> None:
    """A replaced profile photo leaves storage; e-mails go out (their jobs retry while the
    mail server is away)."""
    events.subscribe(
        accounts_events.AvatarReplaced,
        accounts_jobs.remove_old_avatar,
        name="media.delete_objects",
        max_attempts=8,
    )
    mail = "accounts.mail"
    events.subscribe(
        accounts_events.EmailVerificationRequested,
        accounts_jobs.send_verification,
        name=mail,
        max_attempts=8,
    )
    events.subscribe(
        accounts_events.PasswordResetRequested,
        accounts_jobs.send_password_reset,
        name=mail,
        max_attempts=6,  # a reset link is good for an hour: no point retrying for longer
    )
    events.subscribe(
        accounts_events.PasswordChanged,
        accounts_jobs.tell_password_changed,
        name=mail,
        max_attempts=8,
    )
    events.subscribe(
        accounts_events.EmailChanged, accounts_jobs.tell_email_changed, name=mail, max_attempts=8
    )


def _subscribe_discovery(events: EventBus) -> None:
    """Search follows posts and profiles as they change; hashtag uses feed the trends."""
    index = "discovery.index"
    events.subscribe(
        posts_events.PostPublished, discovery_jobs.index_published, name=index, prompt=True
    )
    events.subscribe(posts_events.PostEdited, discovery_jobs.reindex_post, name=index, prompt=True)
    events.subscribe(posts_events.PostDeleted, discovery_jobs.reindex_post, name=index, prompt=True)
    events.subscribe(
        accounts_events.ProfileChanged, discovery_jobs.reindex_person, name=index, prompt=True
    )


def _subscribe_messaging(events: EventBus) -> None:
    """Photo messages are processed; unsent photos leave storage."""
    events.subscribe(
        messaging_events.MessagePhotoReceived,
        messaging_jobs.process_photo,
        name="messaging.process_photo",
        max_attempts=5,
        on_dead=messaging_jobs.photo_not_processed,
    )
    events.subscribe(
        messaging_events.MessageUnsent,
        media_jobs.delete_objects,
        name="media.delete_objects",
        max_attempts=8,
    )


def _subscribe_stories(events: EventBus) -> None:
    """Stories are processed, reach their followers' trays, are answered and go away."""
    events.subscribe(
        stories_events.StoryCreated,
        stories_jobs.process_story,
        name="stories.process",
        max_attempts=5,
        on_dead=stories_jobs.story_not_processed,
    )
    behind = feeds_jobs.timelines_behind
    events.subscribe(
        stories_events.StoryPublished,
        stories_jobs.fan_out,
        name="stories.fan_out",
        max_attempts=6,
        on_dead=behind,
    )
    tray = "stories.tray"
    events.subscribe(
        social_events.FollowCreated,
        stories_jobs.merge_followed,
        name=tray,
        on_dead=behind,
        prompt=True,
    )
    events.subscribe(
        social_events.MuteRemoved,
        stories_jobs.merge_unmuted,
        name=tray,
        on_dead=behind,
        prompt=True,
    )
    events.subscribe(
        stories_events.CloseFriendAdded,
        stories_jobs.merge_close_friend,
        name=tray,
        on_dead=behind,
        prompt=True,
    )
    events.subscribe(stories_events.StoryReplied, stories_jobs.notify_reply, name="notifications")
    events.subscribe(
        stories_events.StoryDeleted,
        media_jobs.delete_objects,
        name="media.delete_objects",
        max_attempts=8,
    )


def _subscribe_moderation(events: EventBus) -> None:
    """Held comments join the queue; reporters and authors hear what moderators decided."""
    events.subscribe(
        posts_events.CommentHeld,
        moderation_jobs.queue_held_comment,
        name="moderation.queue",
        prompt=True,
    )
    events.subscribe(
        moderation_events.ReportsResolved, moderation_jobs.tell_reporters, name="notifications"
    )
    events.subscribe(
        moderation_events.ContentRemoved, moderation_jobs.tell_author, name="notifications"
    )


def _subscribe_deletion(events: EventBus) -> None:
    """An account whose grace period is over is purged (retried: each run finishes the last)."""
    events.subscribe(
        deletion_events.DeletionDue,
        ownership_deletion_jobs.purge,
        name="ownership.purge",
        max_attempts=10,
    )


def _subscribe_exports(events: EventBus) -> None:
    """A requested data export is built (retried from the start; its death marks it failed)."""
    events.subscribe(
        ownership_events.ExportRequested,
        ownership_jobs.build_export,
        name="ownership.export",
        max_attempts=3,
        on_dead=ownership_jobs.export_not_built,
    )


def _subscribe_stream(events: EventBus) -> None:
    """What people see live: each event reaches the devices of those it concerns at once."""

    def stream(event_type: type[E], handler: Subscriber[E]) -> None:
        events.subscribe(event_type, handler, name="realtime.stream", max_attempts=4, prompt=True)

    stream(messaging_events.MessageSent, realtime_jobs.message_sent)
    stream(messaging_events.MessageFailed, realtime_jobs.message_failed)
    stream(messaging_events.MessageUnsent, realtime_jobs.message_unsent)
    stream(messaging_events.MessageReacted, realtime_jobs.message_reacted)
    stream(messaging_events.ConversationRead, realtime_jobs.conversation_read)
    stream(messaging_events.MembersChanged, realtime_jobs.members_changed)
    stream(notifications_events.NotificationRecorded, realtime_jobs.notification_recorded)
    stream(posts_events.PostPublished, realtime_jobs.post_published)
    stream(posts_events.PostFailed, realtime_jobs.post_failed)
    stream(stories_events.StoryPublished, realtime_jobs.story_published)
    stream(stories_events.StoryFailed, realtime_jobs.story_failed)
    stream(accounts_events.SessionsRevoked, realtime_jobs.sessions_revoked)


def _schedule(jobs: JobRegistry) -> None:
    """Periodic work: each runs once per interval per deployment, and is safe to run twice."""
    # The queue's own upkeep: hand out jobs whose delivery or worker was lost, forget old ones.
    jobs.periodic("jobs.sweep", every_seconds=5.0)(queue_workers.sweep_jobs)
    jobs.periodic("jobs.purge_done", every_seconds=HOUR)(queue_workers.purge_done_jobs)
    jobs.periodic("feeds.refresh_explore", every_seconds=30.0)(
        feeds_jobs.refresh_explore_when_stale
    )
    jobs.periodic("feeds.trim_timelines", every_seconds=HOUR)(feeds_jobs.trim_timelines)
    jobs.periodic("discovery.prune_trends", every_seconds=HOUR)(discovery_trends.prune)
    jobs.periodic("realtime.trim_log", every_seconds=300.0)(_trim_stream_log)
    jobs.periodic("stories.clean_up_expired", every_seconds=HOUR)(_clean_up_stories)
    jobs.periodic("posts.reconcile_counts", every_seconds=HOUR)(_reconcile_post_counts)
    jobs.periodic("social.reconcile_counts", every_seconds=HOUR)(_reconcile_follow_counts)
    jobs.periodic("moderation.lift_bans", every_seconds=60.0)(moderation_jobs.lift_expired_bans)
    jobs.periodic("ownership.expire_exports", every_seconds=HOUR)(ownership_jobs.expire_exports)
    jobs.periodic("ownership.claim_deletions", every_seconds=60.0)(
        ownership_deletion_jobs.claim_due_accounts
    )
    jobs.periodic("accounts.drop_expired_reservations", every_seconds=HOUR)(
        accounts_jobs.drop_expired_reservations
    )


async def _trim_stream_log(runtime: Runtime) -> None:
    # Embedded keeps stream windows in a table; Redis streams expire by themselves.
    await runtime.eventlog.trim()


async def _clean_up_stories(runtime: Runtime) -> None:
    await stories_jobs.clean_up_expired(runtime)


async def _reconcile_post_counts(runtime: Runtime) -> None:
    await posts_jobs.reconcile_post_counts(runtime)


async def _reconcile_follow_counts(runtime: Runtime) -> None:
    await social_jobs.reconcile_follow_counts(runtime)


def install() -> None:
    """Declare every subscription and schedule (idempotent); events may be emitted after it."""
    if bus.wired:
        return
    _subscribe_posts(bus)
    _subscribe_engagement(bus)
    _subscribe_graph(bus)
    _subscribe_accounts(bus)
    _subscribe_discovery(bus)
    _subscribe_messaging(bus)
    _subscribe_stories(bus)
    _subscribe_moderation(bus)
    _subscribe_deletion(bus)
    _subscribe_exports(bus)
    _subscribe_stream(bus)
    _schedule(registry)
    bus.wired = True
