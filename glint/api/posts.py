"""HTTP routes of posts: create (multipart), read, edit, delete, and a user's posts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Response, UploadFile, status

from glint.accounts import service as accounts_service
from glint.errors import ValidationFailed
from glint.http import uploads
from glint.http.deps import (
    CurrentUser,
    MediaUrlsDep,
    PageParamsDep,
    RuntimeDep,
    SessionDep,
    ViewerDep,
    rate_limit,
)
from glint.moderation import content as moderation_content
from glint.paging import Page, page_by_id
from glint.posts import presenter
from glint.posts import service as posts_service
from glint.posts.schemas import (
    MAX_ALT_TEXT,
    MAX_CAPTION,
    MAX_IMAGES,
    FilterName,
    PostOut,
    PostPatchIn,
)
from glint.schemas import path_id

router = APIRouter(tags=["posts"])


async def _read_photos(
    images: list[UploadFile], alt_texts: list[str]
) -> list[posts_service.NewPhoto]:
    if not 1 <= len(images) <= MAX_IMAGES:
        raise ValidationFailed(
            f"A post has 1 to {MAX_IMAGES} photos.", fields={"image": f"1 to {MAX_IMAGES} files"}
        )
    if len(alt_texts) > len(images):
        raise ValidationFailed("More alt texts than photos.", fields={"alt_text": "one per photo"})
    photos = []
    for index, upload in enumerate(images):
        data = await uploads.read_photo(upload)
        alt = alt_texts[index].strip() if index < len(alt_texts) else None
        photos.append(posts_service.NewPhoto(data=data, alt_text=alt or None))
    return photos


@router.post(
    "/posts",
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[Depends(rate_limit("posts", only_done=True))],
    responses={
        413: {"description": "A file is over 10 MB."},
        415: {"description": "Not an image."},
    },
)
async def create_post(
    user: CurrentUser,
    urls: MediaUrlsDep,
    runtime: RuntimeDep,
    session: SessionDep,
    image: Annotated[list[UploadFile], File(description="1 to 10 photos.")],
    caption: Annotated[str, Form(max_length=MAX_CAPTION)] = "",
    alt_text: Annotated[list[Annotated[str, Form(max_length=MAX_ALT_TEXT)]], Form()] = [],  # noqa: B006
    location_name: Annotated[str | None, Form(max_length=200)] = None,
    location_lat: Annotated[float | None, Form(ge=-90, le=90)] = None,
    location_lng: Annotated[float | None, Form(ge=-180, le=180)] = None,
    filter: Annotated[FilterName, Form()] = "none",
) -> PostOut:
    """Upload a post: stored and queued now, processed in the background (202)."""
    photos = await _read_photos(image, [uploads.form_text(a, "alt_text") or "" for a in alt_text])
    post = await posts_service.create_post(
        session,
        ids=runtime.ids,
        storage=runtime.storage,
        author=user,
        photos=photos,
        caption=uploads.form_text(caption, "caption") or "",
        location_name=uploads.form_text(location_name, "location_name"),
        location_lat=location_lat,
        location_lng=location_lng,
        filter_name=filter,
    )
    await runtime.commit(session)
    return presenter.new_post_out(post, author=user, urls=urls)


@router.get("/posts/{post_id}")
async def get_post(
    post_id: str, viewer: ViewerDep, urls: MediaUrlsDep, session: SessionDep
) -> PostOut:
    """One post, if the viewer may see it."""
    user = viewer.user if viewer else None
    post = await posts_service.get_post(session, viewer=user, post_id=path_id(post_id, "post"))
    (shaped,) = await presenter.posts_out(session, posts=[post], viewer=user, urls=urls)
    return shaped


@router.patch("/posts/{post_id}")
async def update_post(
    post_id: str,
    body: PostPatchIn,
    user: CurrentUser,
    runtime: RuntimeDep,
    urls: MediaUrlsDep,
    session: SessionDep,
) -> PostOut:
    """Edit a post's caption, comment switch or alt texts (author only)."""
    post = await posts_service.update_post(
        session, ids=runtime.ids, viewer=user, post_id=path_id(post_id, "post"), changes=body
    )
    await runtime.commit(session)
    (shaped,) = await presenter.posts_out(session, posts=[post], viewer=user, urls=urls)
    return shaped


@router.delete("/posts/{post_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_post(
    post_id: str, user: CurrentUser, runtime: RuntimeDep, session: SessionDep
) -> Response:
    """Delete a post everywhere at once (its author; staff take another's down, see
    moderation)."""
    await moderation_content.delete_post(
        session, ids=runtime.ids, viewer=user, post_id=path_id(post_id, "post")
    )
    await runtime.commit(session)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/users/{username}/posts")
async def user_posts(
    username: str, page: PageParamsDep, viewer: ViewerDep, urls: MediaUrlsDep, session: SessionDep
) -> Page[PostOut]:
    """A user's posts, newest first."""
    user = viewer.user if viewer else None
    author = await accounts_service.get_by_username(session, username=username)
    rows = await posts_service.list_user_posts(
        session, viewer=user, author=author, before_id=page.before_id(), limit=page.limit
    )
    items, cursor = page_by_id(rows, limit=page.limit, key=lambda post: post.id)
    shaped = await presenter.posts_out(session, posts=items, viewer=user, urls=urls)
    return Page[PostOut](items=shaped, next_cursor=cursor)
