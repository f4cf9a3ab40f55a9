"""What a member does not see in the app stays out of their export: a group they left,
messages and names of people banned or awaiting deletion, messages of people they blocked."""

from __future__ import annotations

import httpx

from glint.infra.runtime import Runtime
from tests.factories.accounts import TestUser, make_inactive, register
from tests.factories.messaging import conversation, send
from tests.factories.ownership import download, finished_export, open_zip


async def _zip_text(client: httpx.AsyncClient, runtime: Runtime, user: TestUser) -> str:
    """Every JSON and HTML entry of the user's finished export, as one text."""
    state = await finished_export(client, runtime, user)
    assert state["status"] == "ready", state
    answer = await download(client, user, state["download_url"])
    assert answer.status_code == 200, answer.text
    archive = open_zip(answer.content)
    return "\n".join(
        archive.read(name).decode()
        for name in archive.namelist()
        if name.endswith((".json", ".html"))
    )


async def test_the_export_leaves_out_what_the_member_cannot_see(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    alice = await register(client, "alice")
    bob, carol = await register(client, "bobby"), await register(client, "carla")
    dan = await register(client, "danny")
    for follower in (bob, carol):
        answer = await client.post("/users/alice/follow", headers=follower.auth)
        assert answer.status_code == 200, answer.text
    group = str((await conversation(client, alice, bob, dan, title="Trip"))["id"])
    await send(client, bob, group, "before alice left")
    left = await client.post(f"/conversations/{group}/leave", headers=alice.auth)
    assert left.status_code == 204, left.text
    await send(client, bob, group, "after alice left")
    with_carol = str((await conversation(client, alice, carol))["id"])
    await send(client, carol, with_carol, "a word from carla")
    with_dan = str((await conversation(client, alice, dan))["id"])
    await send(client, dan, with_dan, "a word from danny")
    await send(client, alice, with_dan, "alice answers danny")
    assert (await client.post("/users/danny/block", headers=alice.auth)).status_code == 204
    await make_inactive(clean_runtime, "carla")

    text = await _zip_text(client, clean_runtime, alice)

    assert "alice answers danny" in text  # her own words stay hers
    assert "bobby" in text  # a follower in good standing
    for hidden in ("before alice left", "after alice left", "a word from carla", "carla"):
        assert hidden not in text, hidden
    assert "a word from danny" not in text  # blocked: not shown in the app either
