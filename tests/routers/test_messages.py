"""Messages through the HTTP API: sending, history pages, editing, deleting, moderation."""

import asyncio
from datetime import datetime
from typing import Any

import httpx

from tests.app.messenger.support import (
    API,
    actor,
    new_thread,
    random_id,
    send,
)


async def test_members_send_messages_as_themselves_and_the_thread_moves_up(
    client: httpx.AsyncClient, database: Any
) -> None:
    alice, bob = await actor(database, "alice"), await actor(database, "bob")
    thread = await new_thread(client, alice, bob)
    message = await send(client, bob, thread["id"], "  hi Alice  ")
    assert message["body"] == "hi Alice"
    assert message["author_id"] == bob.id
    assert message["thread_id"] == thread["id"]
    assert message["edited_at"] is None

    after = (await client.get(f"{API}/threads/{thread['id']}", headers=alice.headers)).json()
    assert after["last_message_at"] == message["created_at"]
    assert after["last_activity_at"] == message["created_at"]


async def test_the_author_is_never_taken_from_the_body(
    client: httpx.AsyncClient, database: Any
) -> None:
    alice, bob = await actor(database, "alice"), await actor(database, "bob")
    thread = await new_thread(client, alice, bob)
    response = await client.post(
        f"{API}/threads/{thread['id']}/messages",
        json={"body": "forged", "author_id": alice.id},
        headers=bob.headers,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "author_id"]
    history = await client.get(f"{API}/threads/{thread['id']}/messages", headers=alice.headers)
    assert history.json()["items"] == []


async def test_message_bodies_are_validated(client: httpx.AsyncClient, database: Any) -> None:
    alice = await actor(database, "alice")
    thread = await new_thread(client, alice)
    url = f"{API}/threads/{thread['id']}/messages"
    for body in ({"body": "   "}, {"body": "x" * 4001}, {}):
        assert (await client.post(url, json=body, headers=alice.headers)).status_code == 422


async def test_history_is_newest_first_in_cursor_pages(
    client: httpx.AsyncClient, database: Any
) -> None:
    alice, bob = await actor(database, "alice"), await actor(database, "bob")
    thread = await new_thread(client, alice, bob)
    sent = [await send(client, (alice, bob)[i % 2], thread["id"], f"m{i}") for i in range(7)]
    url = f"{API}/threads/{thread['id']}/messages"

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = (await client.get(url, params=params, headers=bob.headers)).json()
        pages += 1
        seen += [m["body"] for m in page["items"]]
        cursor = page["next_cursor"]
        assert page["has_more"] is (cursor is not None)
        if cursor is None:
            break
    assert pages == 3
    assert seen == [m["body"] for m in reversed(sent)]


async def test_history_since_keeps_messages_at_or_after_the_time(
    client: httpx.AsyncClient, database: Any
) -> None:
    alice = await actor(database, "alice")
    thread = await new_thread(client, alice)
    sent = [await send(client, alice, thread["id"], f"m{i}") for i in range(4)]
    url = f"{API}/threads/{thread['id']}/messages"

    since = sent[2]["created_at"]
    page = await client.get(url, params={"since": since}, headers=alice.headers)
    assert [m["body"] for m in page.json()["items"]] == ["m3", "m2"]
    naive = datetime.fromisoformat(since).replace(tzinfo=None).isoformat()
    assert (
        await client.get(url, params={"since": naive}, headers=alice.headers)
    ).status_code == 422


async def test_history_page_limits_and_cursors_are_checked(
    client: httpx.AsyncClient, database: Any
) -> None:
    alice = await actor(database, "alice")
    thread = await new_thread(client, alice)
    url = f"{API}/threads/{thread['id']}/messages"
    for params, status in (({"limit": 101}, 422), ({"limit": 0}, 422), ({"cursor": "x.y"}, 400)):
        assert (await client.get(url, params=params, headers=alice.headers)).status_code == status


def assert_foreign_cursor(response: httpx.Response) -> None:
    """A 400 problem saying the cursor belongs elsewhere (never a page of other rows)."""
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 400 and "another list" in body["detail"], body


async def next_cursor(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], **params: Any
) -> str:
    page = (await client.get(url, params={"limit": 1, **params}, headers=headers)).json()
    assert page["next_cursor"], page
    return str(page["next_cursor"])


async def test_a_cursor_of_another_threads_messages_is_refused(
    client: httpx.AsyncClient, database: Any
) -> None:
    """Before, the cursor of thread X's history was taken as a position in Y's: 200 with Y's
    messages older than it, the newer ones skipped."""
    alice = await actor(database, "alice")
    x, y = await new_thread(client, alice, title="x"), await new_thread(client, alice, title="y")
    for i in range(3):
        await send(client, alice, y["id"], f"y{i}")
        await send(client, alice, x["id"], f"x{i}")
    x_url, y_url = (f"{API}/threads/{t['id']}/messages" for t in (x, y))
    cursor = await next_cursor(client, x_url, alice.headers)
    params: dict[str, Any] = {"limit": 10, "cursor": cursor}
    assert_foreign_cursor(await client.get(y_url, params=params, headers=alice.headers))
    rest = (await client.get(x_url, params=params, headers=alice.headers)).json()
    assert [m["body"] for m in rest["items"]] == ["x1", "x0"]


async def test_thread_and_message_cursors_are_not_interchangeable(
    client: httpx.AsyncClient, database: Any
) -> None:
    alice = await actor(database, "alice")
    thread = await new_thread(client, alice)
    await new_thread(client, alice, title="other")
    await send(client, alice, thread["id"], "one")
    await send(client, alice, thread["id"], "two")
    threads_url, messages_url = f"{API}/threads", f"{API}/threads/{thread['id']}/messages"
    thread_cursor = await next_cursor(client, threads_url, alice.headers)
    message_cursor = await next_cursor(client, messages_url, alice.headers)
    for url, cursor in ((messages_url, thread_cursor), (threads_url, message_cursor)):
        response = await client.get(url, params={"cursor": cursor}, headers=alice.headers)
        assert_foreign_cursor(response)


async def test_a_cursor_is_refused_with_other_filters(
    client: httpx.AsyncClient, database: Any
) -> None:
    alice = await actor(database, "alice")
    thread = await new_thread(client, alice)
    sent = [await send(client, alice, thread["id"], f"m{i}") for i in range(4)]
    url = f"{API}/threads/{thread['id']}/messages"
    since = sent[1]["created_at"]
    cursor = await next_cursor(client, url, alice.headers, since=since)
    for other in ({}, {"since": sent[0]["created_at"]}):
        params: dict[str, Any] = {"cursor": cursor, **other}
        assert_foreign_cursor(await client.get(url, params=params, headers=alice.headers))
    same = await client.get(url, params={"cursor": cursor, "since": since}, headers=alice.headers)
    assert [m["body"] for m in same.json()["items"]] == ["m2", "m1"]


async def test_only_the_author_edits_and_edited_at_is_set(
    client: httpx.AsyncClient, database: Any
) -> None:
    alice, bob = await actor(database, "alice"), await actor(database, "bob")
    thread = await new_thread(client, alice, bob)
    message = await send(client, bob, thread["id"], "typo")
    url = f"{API}/messages/{message['id']}"

    assert (
        await client.patch(url, json={"body": "nope"}, headers=alice.headers)
    ).status_code == 403
    edited = await client.patch(url, json={"body": "fixed"}, headers=bob.headers)
    assert edited.status_code == 200
    assert edited.json()["body"] == "fixed"
    assert edited.json()["edited_at"] is not None
    assert edited.json()["created_at"] == message["created_at"]
    forged = await client.patch(url, json={"body": "x", "author_id": alice.id}, headers=bob.headers)
    assert forged.status_code == 422


async def test_the_author_deletes_a_message_and_it_leaves_the_history(
    client: httpx.AsyncClient, database: Any
) -> None:
    alice, bob = await actor(database, "alice"), await actor(database, "bob")
    thread = await new_thread(client, alice, bob)
    keep = await send(client, alice, thread["id"], "keep")
    gone = await send(client, bob, thread["id"], "gone")
    url = f"{API}/messages/{gone['id']}"

    assert (await client.delete(url, headers=alice.headers)).status_code == 403
    assert (await client.delete(url, headers=bob.headers)).status_code == 204
    assert (await client.delete(url, headers=bob.headers)).status_code == 404
    assert (await client.patch(url, json={"body": "x"}, headers=bob.headers)).status_code == 404
    history = await client.get(f"{API}/threads/{thread['id']}/messages", headers=alice.headers)
    assert [m["id"] for m in history.json()["items"]] == [keep["id"]]


async def test_admins_moderate_any_message_even_outside_the_thread(
    client: httpx.AsyncClient, database: Any
) -> None:
    alice, bob = await actor(database, "alice"), await actor(database, "bob")
    admin = await actor(database, "admin", scopes=("admin",))
    thread = await new_thread(client, alice, bob)
    message = await send(client, bob, thread["id"], "spam")
    url = f"{API}/messages/{message['id']}"

    # Not a member: the admin cannot read or edit, but can remove the message.
    assert (
        await client.get(f"{API}/threads/{thread['id']}", headers=admin.headers)
    ).status_code == 404
    assert (await client.patch(url, json={"body": "x"}, headers=admin.headers)).status_code == 404
    assert (await client.delete(url, headers=admin.headers)).status_code == 204
    history = await client.get(f"{API}/threads/{thread['id']}/messages", headers=alice.headers)
    assert history.json()["items"] == []
    assert (await client.delete(url, headers=admin.headers)).status_code == 404
    assert (
        await client.delete(f"{API}/messages/{random_id()}", headers=admin.headers)
    ).status_code == 404


async def test_a_member_who_left_can_no_longer_post_or_read(
    client: httpx.AsyncClient, database: Any
) -> None:
    alice, bob = await actor(database, "alice"), await actor(database, "bob")
    thread = await new_thread(client, alice, bob)
    message = await send(client, bob, thread["id"], "bye")
    leave = f"{API}/threads/{thread['id']}/participants/{bob.id}"
    assert (await client.delete(leave, headers=bob.headers)).status_code == 204

    url = f"{API}/threads/{thread['id']}/messages"
    assert (await client.get(url, headers=bob.headers)).status_code == 404
    assert (await client.post(url, json={"body": "x"}, headers=bob.headers)).status_code == 404
    edit = f"{API}/messages/{message['id']}"
    assert (await client.patch(edit, json={"body": "x"}, headers=bob.headers)).status_code == 404
    assert (await client.delete(edit, headers=bob.headers)).status_code == 404


async def test_concurrent_posts_leave_the_thread_at_the_newest_message(
    client: httpx.AsyncClient, database: Any
) -> None:
    """On the embedded leg these run one after the other (SQLite: one pooled connection), so
    this checks the outcome only; test_concurrency.py overlaps them for certain on PostgreSQL."""
    alice, bob = await actor(database, "alice"), await actor(database, "bob")
    thread = await new_thread(client, alice, bob)
    posts = [send(client, (alice, bob)[i % 2], thread["id"], f"m{i}") for i in range(8)]
    sent = await asyncio.gather(*posts)

    newest = max(m["created_at"] for m in sent)
    after = (await client.get(f"{API}/threads/{thread['id']}", headers=bob.headers)).json()
    assert after["last_message_at"] == newest
    history = await client.get(f"{API}/threads/{thread['id']}/messages", headers=bob.headers)
    assert len(history.json()["items"]) == 8
