"""Threads and participants through the HTTP API."""

from typing import Any

import httpx
import pytest

from app.messenger.controller import ThreadController
from tests.app.messenger.support import (
    API,
    actor,
    new_thread,
    participant_ids,
    random_id,
    send,
)


async def test_creating_a_thread_includes_the_creator_and_collapses_duplicates(
    client: httpx.AsyncClient, database: Any
) -> None:
    alice, bob = await actor(database, "alice"), await actor(database, "bob")
    response = await client.post(
        f"{API}/threads",
        json={"title": "  Trip  ", "participant_ids": [bob.id, bob.id, alice.id]},
        headers=alice.headers,
    )
    assert response.status_code == 201, response.text
    thread = response.json()
    assert thread["title"] == "Trip"
    assert thread["created_by"] == alice.id
    assert participant_ids(thread) == [alice.id, bob.id]
    roles = {p["user_id"]: p["role"] for p in thread["participants"]}
    assert roles == {alice.id: "creator", bob.id: "member"}
    assert thread["participants"][1]["full_name"] == "Bob"
    assert thread["last_message_at"] is None
    assert thread["last_activity_at"] == thread["created_at"]


async def test_a_thread_with_unknown_or_inactive_participants_is_refused_whole(
    client: httpx.AsyncClient, database: Any
) -> None:
    alice, bob = await actor(database, "alice"), await actor(database, "bob")
    carol = await actor(database, "carol", is_active=False)
    ghost = random_id()
    response = await client.post(
        f"{API}/threads",
        json={"title": "x", "participant_ids": [alice.id, bob.id, ghost, carol.id]},
        headers=alice.headers,
    )
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert [e["loc"] for e in errors] == [
        ["body", "participant_ids", 2],
        ["body", "participant_ids", 3],
    ]
    assert ghost in errors[0]["msg"]
    assert carol.id in errors[1]["msg"]
    listed = await client.get(f"{API}/threads", headers=alice.headers)
    assert listed.json()["items"] == []


async def test_created_by_cannot_be_chosen_by_the_client(
    client: httpx.AsyncClient, database: Any
) -> None:
    alice, bob = await actor(database, "alice"), await actor(database, "bob")
    response = await client.post(
        f"{API}/threads", json={"title": "x", "created_by": bob.id}, headers=alice.headers
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "created_by"]


async def test_threads_need_a_token(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/threads")
    assert response.status_code == 401


async def test_my_threads_most_recent_activity_first_in_cursor_pages(
    client: httpx.AsyncClient, database: Any
) -> None:
    alice, bob = await actor(database, "alice"), await actor(database, "bob")
    first = await new_thread(client, alice, bob, title="first")
    second = await new_thread(client, alice, title="second")
    third = await new_thread(client, bob, alice, title="third")
    await new_thread(client, bob, title="bob alone")
    await send(client, bob, first["id"])  # first becomes the most recent

    page = (await client.get(f"{API}/threads", params={"limit": 2}, headers=alice.headers)).json()
    assert [t["title"] for t in page["items"]] == ["first", "third"]
    assert page["has_more"] is True
    rest = await client.get(
        f"{API}/threads",
        params={"limit": 2, "cursor": page["next_cursor"]},
        headers=alice.headers,
    )
    assert [t["id"] for t in rest.json()["items"]] == [second["id"]]
    assert rest.json() | {"items": []} == {"items": [], "next_cursor": None, "has_more": False}
    assert page["items"][1]["id"] == third["id"]


async def test_thread_page_limits_and_cursors_are_checked(
    client: httpx.AsyncClient, database: Any
) -> None:
    alice = await actor(database, "alice")
    for params, status in (({"limit": 101}, 422), ({"limit": 0}, 422), ({"cursor": "abc"}, 400)):
        response = await client.get(f"{API}/threads", params=params, headers=alice.headers)
        assert response.status_code == status, params
    assert (
        await client.get(f"{API}/threads", params={"limit": 100}, headers=alice.headers)
    ).status_code == 200


async def test_get_thread_shows_participants(client: httpx.AsyncClient, database: Any) -> None:
    alice, bob = await actor(database, "alice"), await actor(database, "bob")
    thread = await new_thread(client, alice, bob)
    response = await client.get(f"{API}/threads/{thread['id']}", headers=bob.headers)
    assert response.status_code == 200
    assert participant_ids(response.json()) == [alice.id, bob.id]


async def test_only_the_creator_renames_and_deletes(
    client: httpx.AsyncClient, database: Any
) -> None:
    alice, bob = await actor(database, "alice"), await actor(database, "bob")
    thread = await new_thread(client, alice, bob)
    url = f"{API}/threads/{thread['id']}"

    assert (await client.patch(url, json={"title": "mine"}, headers=bob.headers)).status_code == 403
    assert (await client.delete(url, headers=bob.headers)).status_code == 403
    renamed = await client.patch(url, json={"title": "Renamed"}, headers=alice.headers)
    assert renamed.status_code == 200
    assert renamed.json()["title"] == "Renamed"
    assert participant_ids(renamed.json()) == [alice.id, bob.id]
    assert (await client.patch(url, json={"title": ""}, headers=alice.headers)).status_code == 422

    assert (await client.delete(url, headers=alice.headers)).status_code == 204
    for who in (alice, bob):
        assert (await client.get(url, headers=who.headers)).status_code == 404
        listed = await client.get(f"{API}/threads", headers=who.headers)
        assert listed.json()["items"] == []
        messages = await client.get(f"{url}/messages", headers=who.headers)
        assert messages.status_code == 404


async def test_creator_adds_participants_and_duplicates_are_skipped(
    client: httpx.AsyncClient, database: Any
) -> None:
    alice, bob = await actor(database, "alice"), await actor(database, "bob")
    carol, dave = await actor(database, "carol"), await actor(database, "dave")
    thread = await new_thread(client, alice, bob)
    url = f"{API}/threads/{thread['id']}/participants"

    response = await client.post(
        url, json={"user_ids": [carol.id, bob.id, carol.id]}, headers=alice.headers
    )
    assert response.status_code == 200, response.text
    assert participant_ids(response.json()) == [alice.id, bob.id, carol.id]

    refused = await client.post(url, json={"user_ids": [dave.id]}, headers=bob.headers)
    assert refused.status_code == 403
    bad = await client.post(url, json={"user_ids": [dave.id, random_id()]}, headers=alice.headers)
    assert bad.status_code == 422
    assert [e["loc"] for e in bad.json()["errors"]] == [["body", "user_ids", 1]]
    assert (await client.post(url, json={"user_ids": []}, headers=alice.headers)).status_code == 422
    # Carol now sees the thread; Dave still does not.
    assert (
        await client.get(f"{API}/threads/{thread['id']}", headers=carol.headers)
    ).status_code == 200
    assert (
        await client.get(f"{API}/threads/{thread['id']}", headers=dave.headers)
    ).status_code == 404


async def test_an_admin_member_manages_participants_too(
    client: httpx.AsyncClient, database: Any
) -> None:
    alice, bob = await actor(database, "alice"), await actor(database, "bob")
    admin = await actor(database, "admin", scopes=("admin",))
    thread = await new_thread(client, alice, admin)
    url = f"{API}/threads/{thread['id']}/participants"
    added = await client.post(url, json={"user_ids": [bob.id]}, headers=admin.headers)
    assert added.status_code == 200
    assert (await client.delete(f"{url}/{bob.id}", headers=admin.headers)).status_code == 204
    # The creator stays: removing them is refused even to an admin.
    assert (await client.delete(f"{url}/{alice.id}", headers=admin.headers)).status_code == 403


async def test_removing_leaving_and_rejoining(client: httpx.AsyncClient, database: Any) -> None:
    alice, bob = await actor(database, "alice"), await actor(database, "bob")
    carol = await actor(database, "carol")
    thread = await new_thread(client, alice, bob, carol)
    thread_url = f"{API}/threads/{thread['id']}"
    url = f"{thread_url}/participants"

    # A member cannot remove someone else, but may leave.
    assert (await client.delete(f"{url}/{carol.id}", headers=bob.headers)).status_code == 403
    assert (await client.delete(f"{url}/{bob.id}", headers=bob.headers)).status_code == 204
    assert (await client.get(thread_url, headers=bob.headers)).status_code == 404
    assert (await client.delete(f"{url}/{bob.id}", headers=alice.headers)).status_code == 404

    # The creator removes Carol, then brings Bob back.
    assert (await client.delete(f"{url}/{carol.id}", headers=alice.headers)).status_code == 204
    assert (
        await client.post(url, json={"user_ids": [bob.id]}, headers=alice.headers)
    ).status_code == 200
    current = await client.get(thread_url, headers=bob.headers)
    assert participant_ids(current.json()) == [alice.id, bob.id]

    # The creator may leave too; the thread goes on for the others.
    assert (await client.delete(f"{url}/{alice.id}", headers=alice.headers)).status_code == 204
    assert (await client.get(thread_url, headers=alice.headers)).status_code == 404
    await send(client, bob, thread["id"], "still here")


async def test_a_thread_has_at_most_max_participants(
    client: httpx.AsyncClient, database: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ThreadController, "max_participants", 3)
    people = [await actor(database, name) for name in ("alice", "bob", "carol", "dave", "erin")]
    alice, bob, carol, dave, erin = people
    body = {"title": "Big", "participant_ids": [bob.id, carol.id, dave.id]}
    too_many = await client.post(f"{API}/threads", json=body, headers=alice.headers)
    assert too_many.status_code == 409, too_many.text
    assert too_many.headers["content-type"] == "application/problem+json"
    assert "3" in too_many.json()["detail"]

    thread = await new_thread(client, alice, bob, carol)
    url = f"{API}/threads/{thread['id']}/participants"
    more = await client.post(url, json={"user_ids": [dave.id]}, headers=alice.headers)
    assert more.status_code == 409, more.text
    again = await client.post(url, json={"user_ids": [bob.id]}, headers=alice.headers)
    assert again.status_code == 200  # already in: nothing to add, nothing over the cap
    left = await client.delete(f"{url}/{carol.id}", headers=carol.headers)
    assert left.status_code == 204
    erin_in = await client.post(url, json={"user_ids": [erin.id]}, headers=alice.headers)
    assert erin_in.status_code == 200, erin_in.text
    assert participant_ids(erin_in.json()) == [alice.id, bob.id, erin.id]
