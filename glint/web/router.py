"""All routes of the web app, in matching order: the catch-all /{username} profile goes last."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from glint.http.deps import rate_limit
from glint.web import (
    pages_actions,
    pages_activity,
    pages_admin,
    pages_admin_people,
    pages_auth,
    pages_deletion,
    pages_discovery,
    pages_email,
    pages_export,
    pages_feed,
    pages_messages,
    pages_posts,
    pages_profile,
    pages_report,
    pages_settings,
    pages_stories,
    pages_story_settings,
    pages_two_factor,
    static_files,
)

router = APIRouter(include_in_schema=False)
router.include_router(static_files.router)

# Pages count against the same per-user (per-IP when signed out) budget as the API.
pages = APIRouter(dependencies=[Depends(rate_limit("default"))])
for module in (
    pages_auth,
    pages_email,
    pages_settings,
    pages_export,
    pages_deletion,
    pages_two_factor,
    pages_admin,
    pages_admin_people,
    pages_activity,
    pages_feed,
    pages_discovery,
    pages_messages,
    pages_stories,
    pages_story_settings,
    pages_posts,
    pages_report,  # before pages_actions: POST /c/{id}/report is not a comment action
    pages_actions,
    pages_profile,  # /{username} matches almost anything: after every fixed path
):
    pages.include_router(module.router)
router.include_router(pages)
