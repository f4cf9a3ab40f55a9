"""HTTP routes of accounts: /auth/* and the /users/{username} profile."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Request, Response, UploadFile, status
from sqlalchemy.ext.asyncio import AsyncSession

from glint.accounts import login_challenge, twofactor, usernames
from glint.accounts import service as accounts_service
from glint.accounts import sessions as accounts_sessions
from glint.accounts.schemas import (
    AuthOut,
    CsrfOut,
    LoginIn,
    LoginOut,
    MeOut,
    PasswordChangeIn,
    ProfilePatchIn,
    RegisterIn,
    SessionOut,
    TwoFactorLoginIn,
    UserOut,
)
from glint.errors import NotFound
from glint.http import uploads
from glint.http.deps import (
    SESSION_COOKIE,
    ClientIpDep,
    CurrentUser,
    MediaUrlsDep,
    RuntimeDep,
    SessionDep,
    SignedInDep,
    ViewerDep,
    rate_limit,
)
from glint.infra.runtime import Runtime
from glint.media.urls import MediaUrls
from glint.paging import Page
from glint.schemas import parse_path_id
from glint.social import service as social_service

router = APIRouter(tags=["accounts"])


def _set_session_cookie(response: Response, token: str, *, runtime: Runtime, secure: bool) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=runtime.settings.session_ttl_days * 86400,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )


async def _sign_in(
    request: Request,
    response: Response,
    *,
    runtime: Runtime,
    urls: MediaUrls,
    session: AsyncSession,
    user_id: int,
    ip: str,
    factor: str = twofactor.FACTOR_PASSWORD,
) -> AuthOut:
    user = await accounts_service.get_by_id(session, user_id=user_id)
    assert user is not None
    auth_session, token = await accounts_sessions.create_session(
        session,
        ids=runtime.ids,
        settings=runtime.settings,
        user=user,
        user_agent=request.headers.get("user-agent", ""),
        ip=ip,
        factor=factor,
    )
    await runtime.commit(session)  # a sign-up's events (search indexing) run now
    _set_session_cookie(response, token, runtime=runtime, secure=request.url.scheme == "https")
    csrf = accounts_sessions.csrf_token_for(
        token_hash=auth_session.token_hash, secret=runtime.secret_key
    )
    return AuthOut(user=MeOut.of(user, urls=urls), token=token, csrf_token=csrf)


@router.post(
    "/auth/register",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(rate_limit("registrations", only_done=True, per_ip=True))],
)
async def register(
    body: RegisterIn,
    urls: MediaUrlsDep,
    request: Request,
    response: Response,
    runtime: RuntimeDep,
    session: SessionDep,
    ip: ClientIpDep,
) -> AuthOut:
    """Create an account and sign it in."""
    user = await accounts_service.register(
        session,
        ids=runtime.ids,
        settings=runtime.settings,
        username=body.username,
        email=str(body.email),
        password=body.password,
        display_name=body.display_name,
    )
    return await _sign_in(
        request, response, runtime=runtime, urls=urls, session=session, user_id=user.id, ip=ip
    )


@router.post("/auth/login")
async def login(
    body: LoginIn,
    urls: MediaUrlsDep,
    request: Request,
    response: Response,
    runtime: RuntimeDep,
    session: SessionDep,
    ip: ClientIpDep,
) -> LoginOut:
    """Sign in with a username or e-mail and a password; an account with two-factor sign-in
    gets a challenge instead of a session, for POST /auth/login/2fa."""
    user = await accounts_service.authenticate_limited(
        session,
        settings=runtime.settings,
        limiter=runtime.limiter,
        ip=ip,
        login=body.login,
        password=body.password,
    )
    if twofactor.is_enabled(user):
        challenge = login_challenge.issue_challenge(
            user, secret_key=runtime.secret_key, now=runtime.clock.now().timestamp()
        )
        return LoginOut.pending(challenge)
    auth = await _sign_in(
        request, response, runtime=runtime, urls=urls, session=session, user_id=user.id, ip=ip
    )
    return LoginOut.signed_in(auth)


@router.post("/auth/login/2fa")
async def login_second_step(
    body: TwoFactorLoginIn,
    urls: MediaUrlsDep,
    request: Request,
    response: Response,
    runtime: RuntimeDep,
    session: SessionDep,
    ip: ClientIpDep,
) -> LoginOut:
    """The second step: the challenge from POST /auth/login and an authenticator code (or a
    recovery code); answers like a password-only sign-in."""
    user, factor = await login_challenge.redeem_challenge(
        session,
        challenge=body.challenge,
        code=body.code,
        secret_key=runtime.secret_key,
        limiter=runtime.limiter,
        settings=runtime.settings,
        now=runtime.clock.now().timestamp(),
    )
    auth = await _sign_in(
        request,
        response,
        runtime=runtime,
        urls=urls,
        session=session,
        user_id=user.id,
        ip=ip,
        factor=factor,
    )
    return LoginOut.signed_in(auth)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(
    signed: SignedInDep, runtime: RuntimeDep, session: SessionDep, response: Response
) -> None:
    """End this session (its sockets close too)."""
    await accounts_sessions.revoke_session(
        session, ids=runtime.ids, user=signed.user, session_id=signed.session.id
    )
    await runtime.commit(session)
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/auth/me")
async def me(user: CurrentUser, urls: MediaUrlsDep) -> MeOut:
    """The signed-in account."""
    return MeOut.of(user, urls=urls)


@router.get("/auth/csrf")
async def csrf(signed: SignedInDep, runtime: RuntimeDep) -> CsrfOut:
    """The CSRF token that cookie-authenticated writes must send in X-CSRF-Token."""
    return CsrfOut(
        csrf_token=accounts_sessions.csrf_token_for(
            token_hash=signed.session.token_hash, secret=runtime.secret_key
        )
    )


@router.post("/auth/password", status_code=status.HTTP_204_NO_CONTENT)
async def change_password(
    body: PasswordChangeIn, signed: SignedInDep, runtime: RuntimeDep, session: SessionDep
) -> None:
    """Change the password; every other session is signed out."""
    await accounts_service.change_password(
        session,
        settings=runtime.settings,
        ids=runtime.ids,
        user=signed.user,
        current_session_id=signed.session.id,
        current_password=body.current_password,
        new_password=body.new_password,
    )
    await runtime.commit(session)


@router.get("/auth/sessions")
async def list_sessions(signed: SignedInDep, session: SessionDep) -> Page[SessionOut]:
    """The account's signed-in devices."""
    rows = await accounts_sessions.list_sessions(session, user=signed.user)
    items = [SessionOut.of(row, current=row.id == signed.session.id) for row in rows]
    return Page[SessionOut](items=items, next_cursor=None)


@router.delete("/auth/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_session(
    session_id: str, signed: SignedInDep, runtime: RuntimeDep, session: SessionDep
) -> None:
    """Sign one device out."""
    parsed = parse_path_id(session_id)
    if parsed is None:
        raise NotFound("No such session.")
    await accounts_sessions.revoke_session(
        session, ids=runtime.ids, user=signed.user, session_id=parsed
    )
    await runtime.commit(session)


@router.patch("/users/me")
async def update_me(
    body: ProfilePatchIn,
    user: CurrentUser,
    runtime: RuntimeDep,
    urls: MediaUrlsDep,
    session: SessionDep,
) -> MeOut:
    """Edit the signed-in user's profile; going public approves every pending request."""
    await social_service.save_profile(session, ids=runtime.ids, user=user, changes=body)
    await runtime.commit(session)
    return MeOut.of(user, urls=urls)


@router.put("/users/me/avatar")
async def set_avatar(
    user: CurrentUser,
    urls: MediaUrlsDep,
    runtime: RuntimeDep,
    session: SessionDep,
    image: Annotated[UploadFile, File(description="A JPEG, PNG, WebP, HEIC or AVIF photo.")],
) -> MeOut:
    """Replace the profile photo (validated and processed like post photos)."""
    data = await uploads.read_photo(image)
    await accounts_service.set_avatar(
        session, ids=runtime.ids, cpu=runtime.cpu, storage=runtime.storage, user=user, data=data
    )
    await runtime.commit(session)
    return MeOut.of(user, urls=urls)


@router.get(
    "/users/{username}",
    response_model=UserOut,
    responses={308: {"description": "A name given up lately: Location is the new name's."}},
)
async def profile(
    username: str,
    viewer: ViewerDep,
    urls: MediaUrlsDep,
    session: SessionDep,
    runtime: RuntimeDep,
    request: Request,
) -> UserOut | Response:
    """A public profile, with the viewer's relationship to it; an old name of a renamed
    account redirects (308) to the new one for 14 days."""
    try:
        user = await accounts_service.get_by_username(session, username=username)
    except NotFound:
        renamed = await usernames.renamed_to(session, username=username, now=runtime.clock.now())
        if renamed is None:
            raise
        target = request.url.path.rsplit("/", 1)[0] + "/" + renamed
        return Response(
            status_code=status.HTTP_308_PERMANENT_REDIRECT, headers={"Location": target}
        )
    me = viewer.user if viewer else None
    await social_service.ensure_visible_profile(session, viewer=me, user=user)
    if me is None or me.id == user.id:
        return UserOut.of(user, urls=urls)
    relations = await social_service.relationships(session, viewer_id=me.id, other_ids=[user.id])
    return UserOut.of(user, urls=urls, relationship=relations[user.id])
