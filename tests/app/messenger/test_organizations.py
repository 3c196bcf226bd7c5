"""Threads in organizations: only members take part, and a membership that ends (removed or
left) takes the member out of the organization's threads. Personal threads are unaffected."""

from typing import Any

import httpx

from tests.app.messenger.support import API, Actor, new_thread, participant_ids, random_id
from tests.app.organizations.support import World, world


async def org_thread(
    client: httpx.AsyncClient, organization: str, creator: Actor, *members: Actor
) -> httpx.Response:
    body = {
        "title": "Roadmap",
        "organization_id": organization,
        "participant_ids": [m.id for m in members],
    }
    return await client.post(f"{API}/threads", json=body, headers=creator.headers)


async def test_an_organization_thread_takes_members_only(
    client: httpx.AsyncClient, database: Any
) -> None:
    w = await world(client, database)
    alice, bob, carol, dave = (w.people[n] for n in ("alice", "bob", "carol", "dave"))

    created = await org_thread(client, w.acme, alice, bob)
    assert created.status_code == 201, created.text
    thread = created.json()
    assert thread["organization_id"] == w.acme
    assert sorted(participant_ids(thread)) == sorted([alice.id, bob.id])

    outsider = await org_thread(client, w.acme, alice, carol, dave)
    assert outsider.status_code == 422
    assert [e["loc"] for e in outsider.json()["errors"]] == [["body", "participant_ids", 1]]

    url = f"{API}/threads/{thread['id']}/participants"
    refused = await client.post(url, json={"user_ids": [dave.id]}, headers=alice.headers)
    assert refused.status_code == 422
    added = await client.post(url, json={"user_ids": [carol.id]}, headers=alice.headers)
    assert added.status_code == 200
    assert carol.id in participant_ids(added.json())

    personal = await new_thread(client, alice, dave)  # personal threads: anyone, as before
    assert personal["organization_id"] is None


async def test_only_a_member_creates_a_thread_in_an_organization(
    client: httpx.AsyncClient, database: Any
) -> None:
    w = await world(client, database)
    dave = w.people["dave"]
    not_mine = await org_thread(client, w.acme, dave)
    missing = await org_thread(client, random_id(), dave)
    assert not_mine.status_code == missing.status_code == 422
    assert not_mine.json()["errors"] == missing.json()["errors"]
    assert not_mine.json()["errors"][0]["loc"] == ["body", "organization_id"]
    threads = await client.get(f"{API}/threads", headers=dave.headers)
    assert threads.json()["items"] == []


async def shared_threads(client: httpx.AsyncClient, w: World) -> dict[str, str]:
    """carol is in an acme thread, a globex thread and a personal thread, all with bob."""
    bob, carol = w.people["bob"], w.people["carol"]
    acme = (await org_thread(client, w.acme, bob, carol)).json()["id"]
    globex = (await org_thread(client, w.globex, carol, bob)).json()["id"]
    personal = (await new_thread(client, bob, carol))["id"]
    return {"acme": acme, "globex": globex, "personal": personal}


async def visible_to(client: httpx.AsyncClient, who: Actor) -> set[str]:
    page = await client.get(f"{API}/threads", headers=who.headers)
    return {t["id"] for t in page.json()["items"]}


async def test_a_removed_member_leaves_only_that_organizations_threads(
    client: httpx.AsyncClient, database: Any
) -> None:
    w = await world(client, database)
    bob, carol = w.people["bob"], w.people["carol"]
    threads = await shared_threads(client, w)

    removed = await client.delete(
        f"{API}/organizations/{w.acme}/members/{w.member('acme', 'carol')}", headers=bob.headers
    )
    assert removed.status_code == 204, removed.text
    assert await visible_to(client, carol) == {threads["globex"], threads["personal"]}
    gone = await client.get(f"{API}/threads/{threads['acme']}/events", headers=carol.headers)
    assert gone.status_code == 404
    events = await client.get(f"{API}/threads/{threads['acme']}/events", headers=bob.headers)
    assert events.json()["items"][-1]["type"] == "participant.removed"
    assert events.json()["items"][-1]["data"] == {"user_id": carol.id}


async def test_a_member_who_leaves_leaves_its_threads(
    client: httpx.AsyncClient, database: Any
) -> None:
    w = await world(client, database)
    bob, carol = w.people["bob"], w.people["carol"]
    threads = await shared_threads(client, w)

    left = await client.post(f"{API}/organizations/{w.globex}/leave", headers=bob.headers)
    assert left.status_code == 204, left.text
    assert await visible_to(client, bob) == {threads["acme"], threads["personal"]}
    thread = await client.get(f"{API}/threads/{threads['globex']}", headers=carol.headers)
    assert participant_ids(thread.json()) == [carol.id]


async def test_deleting_an_organization_ends_its_threads_for_everyone(
    client: httpx.AsyncClient, database: Any
) -> None:
    w = await world(client, database)
    alice, bob, carol = (w.people[n] for n in ("alice", "bob", "carol"))
    threads = await shared_threads(client, w)
    deleted = await client.delete(f"{API}/organizations/{w.acme}", headers=alice.headers)
    assert deleted.status_code == 204, deleted.text
    assert await visible_to(client, bob) == {threads["globex"], threads["personal"]}
    assert await visible_to(client, carol) == {threads["globex"], threads["personal"]}


async def test_members_look_up_fellow_members_and_no_one_else_can(
    client: httpx.AsyncClient, database: Any
) -> None:
    w = await world(client, database)
    carol, dave = w.people["carol"], w.people["dave"]
    listed = await client.get(f"{API}/organizations/{w.acme}/members", headers=carol.headers)
    assert listed.status_code == 200
    names = {row["user"]["id"]: row["user"]["full_name"] for row in listed.json()["items"]}
    assert set(names) == {w.people[n].id for n in ("alice", "bob", "carol")}
    assert names[w.people["bob"].id] == w.people["bob"].user.full_name
    hidden = await client.get(f"{API}/organizations/{w.acme}/members", headers=dave.headers)
    assert hidden.status_code == 404
