"""The event stream against real app processes with a real WebSocket client: two processes
sharing Redis on the services leg (writes through B reach sockets on A), one on the embedded
leg. No sleeps: every wait is for a frame or a close, bounded by `WAIT`."""

import time
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
import websockets

from app.organizations.models import Membership
from core.db import utcnow
from core.platform.realtime import CloseCode
from core.platform.realtime.streams import purge_events
from core.service import unit_of_work
from tests.helpers import DEFAULT_PASSWORD, create_user
from tests.realtime.conftest import Client, open_stream, sign_in, start_app, stop

pytestmark = pytest.mark.slow


async def _people(database: Any, servers: list[str], http: httpx.AsyncClient) -> dict[str, Any]:
    """alice (on B) and bob (on A) share a thread; carol (on A and B) is not in it, but shares a
    second thread with alice, used as the sentinel that proves what did not arrive."""
    a, b = servers[0], servers[-1]
    for name in ("alice", "bob", "carol"):
        await create_user(database, f"{name}@example.com", full_name=name.title())
    alice = await sign_in(b, http, "alice@example.com")
    bob = await sign_in(a, http, "bob@example.com")
    carol = await sign_in(a, http, "carol@example.com")
    shared = await alice.call("POST", "/threads", json={"title": "ab", "participant_ids": [bob.id]})
    other = await alice.call(
        "POST", "/threads", json={"title": "ac", "participant_ids": [carol.id, bob.id]}
    )
    return {"alice": alice, "bob": bob, "carol": carol, "t": shared.json(), "s": other.json()}


async def _post(client: Client, thread: dict[str, Any], body: str) -> dict[str, Any]:
    answer = await client.call("POST", f"/threads/{thread['id']}/messages", json={"body": body})
    assert answer.status_code == 201, answer.text
    message: dict[str, Any] = answer.json()
    return message


async def test_members_across_processes_get_the_message_and_non_members_never(
    servers: list[str], database: Any, http: httpx.AsyncClient
) -> None:
    p = await _people(database, servers, http)
    bob = await p["bob"].connect()
    carol_a = await p["carol"].connect()
    carol_b = await Client(servers[-1], http, p["carol"].token, p["carol"].id).connect()
    posted = await _post(p["alice"], p["t"], "hello bob")
    event = await bob.next()
    assert event == {
        "type": "message.created",
        "stream": f"threads:{p['t']['id']}",
        "thread_id": p["t"]["id"],
        "seq": posted["seq"],
        "data": posted,
    }
    sentinel = await _post(p["alice"], p["s"], "hello carol")
    for carol in (carol_a, carol_b):  # what carol gets first is the later message of her thread
        assert (await carol.next())["data"]["id"] == sentinel["id"]
    assert (await bob.next())["data"]["id"] == sentinel["id"]
    for stream in (bob, carol_a, carol_b):
        await stream.close()


async def test_a_removed_participant_stops_receiving(
    servers: list[str], database: Any, http: httpx.AsyncClient
) -> None:
    p = await _people(database, servers, http)
    bob = await p["bob"].connect()
    await p["alice"].call("DELETE", f"/threads/{p['t']['id']}/participants/{p['bob'].id}")
    removed = await bob.next()
    assert removed["type"] == "participant.removed"
    assert removed["data"] == {"user_id": p["bob"].id}
    await _post(p["alice"], p["t"], "bob is gone")
    sentinel = await _post(p["alice"], p["s"], "still in this one")
    assert (await bob.next())["data"]["id"] == sentinel["id"]
    await bob.close()


async def _logout(p: dict[str, Any], database: Any) -> None:
    assert (await p["bob"].call("POST", "/auth/logout")).status_code == 204


async def _password(p: dict[str, Any], database: Any) -> None:
    body = {"current_password": DEFAULT_PASSWORD, "password": "a new horse battery staple"}
    assert (await p["bob"].call("PATCH", "/users/me", json=body)).status_code == 200


async def _deactivation(p: dict[str, Any], database: Any) -> None:
    await create_user(database, "admin@example.com", scopes=["admin"])
    admin = await sign_in(p["bob"].base, p["bob"].http, "admin@example.com")
    answer = await admin.call("PATCH", f"/users/{p['bob'].id}", json={"is_active": False})
    assert answer.status_code == 200


@pytest.mark.parametrize("revoke", [_logout, _password, _deactivation])
async def test_revocation_closes_the_socket_within_a_second(
    servers: list[str], database: Any, http: httpx.AsyncClient, revoke: Any
) -> None:
    p = await _people(database, servers, http)
    bob = await p["bob"].connect()
    p["bob"].base = servers[-1]  # revoked through the other process
    started = time.monotonic()
    await revoke(p, database)
    assert await bob.closed_with() == CloseCode.UNAUTHORIZED
    assert time.monotonic() - started < 1.0


async def test_a_reconnect_with_the_last_seq_gets_nothing_twice_and_misses_nothing(
    servers: list[str], database: Any, http: httpx.AsyncClient
) -> None:
    p = await _people(database, servers, http)
    thread = p["t"]["id"]
    bob = await p["bob"].connect()
    first = await _post(p["alice"], p["t"], "one")
    assert (await bob.next())["seq"] == first["seq"]
    await bob.close()
    missed = [await _post(p["alice"], p["t"], f"missed {n}") for n in range(3)]
    edited = await p["alice"].call("PATCH", f"/messages/{missed[0]['id']}", json={"body": "x"})
    assert edited.status_code == 200
    again = await Client(servers[-1], http, p["bob"].token, p["bob"].id).connect(
        resume={thread: first["seq"]}
    )
    live = await _post(p["alice"], p["t"], "live")
    seen = [*again.replayed, await again.next()]
    assert [e["seq"] for e in seen] == list(range(first["seq"] + 1, live["seq"] + 1))
    assert [e["type"] for e in seen] == ["message.created"] * 3 + ["message.edited"] * 1 + [
        "message.created"
    ]
    catch_up = await p["bob"].call("GET", f"/threads/{thread}/events", params={"after": 0})
    assert [e["seq"] for e in catch_up.json()["items"]][-5:] == [e["seq"] for e in seen]
    await again.close()


async def test_tickets_are_single_use_and_required(
    servers: list[str], database: Any, http: httpx.AsyncClient
) -> None:
    await create_user(database, "bob@example.com")
    bob = await sign_in(servers[0], http, "bob@example.com")
    ticket = await bob.ticket()
    first = await open_stream(servers[-1], ticket)  # redeemed on the other process
    assert (await first.until_ready()) == []
    second = await open_stream(servers[0], ticket)
    assert await second.closed_with() == CloseCode.UNAUTHORIZED
    forged = await open_stream(servers[0], {**ticket, "ticket": "not-a-ticket"})
    assert await forged.closed_with() == CloseCode.UNAUTHORIZED
    await first.close()
    unauthenticated = await http.post(f"{servers[0]}/api/v1/realtime/tickets", json={})
    assert unauthenticated.status_code == 401
    assert unauthenticated.headers["content-type"] == "application/problem+json"


async def test_bad_frames_get_problem_errors_and_the_socket_stays(
    servers: list[str], database: Any, http: httpx.AsyncClient
) -> None:
    p = await _people(database, servers, http)
    carol = await p["carol"].connect()
    await carol.socket.send("not json")
    assert (await carol.next())["problem"]["status"] == 422
    await carol.send(type="typing", thread_id=p["t"]["id"])
    not_found = await carol.next()  # not her thread: the same 404 as a thread that is not there
    assert not_found["problem"]["status"] == 404
    await carol.send(type="ping")
    assert (await carol.next()) == {"type": "pong"}
    await carol.socket.send(b"\x00binary")
    assert await carol.closed_with() == CloseCode.UNSUPPORTED_DATA


async def test_typing_and_read_markers_reach_the_other_members(
    servers: list[str], database: Any, http: httpx.AsyncClient
) -> None:
    p = await _people(database, servers, http)
    alice = await Client(servers[0], http, p["alice"].token, p["alice"].id).connect()
    bob = await p["bob"].connect()
    posted = await _post(p["alice"], p["t"], "read me")
    assert (await alice.next())["seq"] == posted["seq"]
    assert (await bob.next())["seq"] == posted["seq"]
    await bob.send(type="typing", thread_id=p["t"]["id"])
    typing = await alice.next()
    assert typing == {"type": "typing", "stream": f"threads:{p['t']['id']}",
                      "thread_id": p["t"]["id"], "seq": None,
                      "data": {"user_id": p["bob"].id}}  # fmt: skip
    await bob.send(type="read", thread_id=p["t"]["id"])
    read = await alice.next()
    assert read["type"] == "thread.read"
    assert read["data"] == {"user_id": p["bob"].id, "last_read_seq": posted["seq"]}
    threads = (await p["bob"].call("GET", "/threads")).json()["items"]
    assert {t["id"]: t["unread_count"] for t in threads}[p["t"]["id"]] == 0
    await alice.close()
    await bob.close()


async def test_connections_per_user_are_limited(
    servers: list[str], database: Any, http: httpx.AsyncClient
) -> None:
    await create_user(database, "bob@example.com")
    bob = await sign_in(servers[0], http, "bob@example.com")
    held = []
    for n in range(3):  # REALTIME_MAX_CONNECTIONS_PER_USER=3, across the processes
        held.append(await Client(servers[n % len(servers)], http, bob.token, bob.id).connect())
    extra = await open_stream(servers[-1], await bob.ticket())
    assert await extra.closed_with() == CloseCode.TOO_MANY_CONNECTIONS
    await held.pop().close()
    # The slot comes back once the server saw the close: wait for it by retrying, bounded.
    for _ in range(50):
        stream = await open_stream(servers[-1], await bob.ticket())
        try:
            await stream.until_ready()
            break
        except websockets.ConnectionClosed:
            continue
    else:
        pytest.fail("the released slot never came back")
    for open_one in [*held, stream]:
        await open_one.close()


async def test_sigterm_closes_sockets_with_the_reconnect_code(
    database: Any, http: httpx.AsyncClient, servers: list[str]
) -> None:
    from tests.routers.test_ratelimit_processes import _wait_until_live

    url, process = start_app()
    try:
        _wait_until_live(url, process)
        await create_user(database, "bob@example.com")
        bob = await (await sign_in(url, http, "bob@example.com")).connect()
        process.terminate()
        assert await bob.closed_with() == CloseCode.RESTART
    finally:
        stop([process])


async def test_demotion_closes_the_socket_within_a_second(
    servers: list[str], database: Any, http: httpx.AsyncClient
) -> None:
    """The stream's grant carries the scopes its token held: losing one ends the socket."""
    await create_user(database, "root@example.com", scopes=["superuser"])
    dave = await create_user(database, "dave@example.com", scopes=["admin"])
    admin = await (await sign_in(servers[0], http, "dave@example.com")).connect()
    superuser = await sign_in(servers[-1], http, "root@example.com")
    started = time.monotonic()
    body = {"scopes": ["regular"]}
    answer = await superuser.call("PATCH", f"/users/{dave.id}/scopes", json=body)
    assert answer.status_code == 200, answer.text
    assert await admin.closed_with() == CloseCode.UNAUTHORIZED
    assert time.monotonic() - started < 1.0


async def test_purged_events_resume_with_a_reset_instead_of_a_gap(
    servers: list[str], database: Any, http: httpx.AsyncClient
) -> None:
    """Retention deleted what a client missed: its replay is a `reset` (reload over REST,
    continue from `seq`), never a silent jump over the purged events."""
    p = await _people(database, servers, http)
    thread = p["t"]["id"]
    first = await _post(p["alice"], p["t"], "seen")
    missed = [await _post(p["alice"], p["t"], f"purged {n}") for n in range(2)]
    async with unit_of_work(database) as session:
        assert await purge_events(session, utcnow() + timedelta(seconds=1)) >= 3
    again = await p["bob"].connect(resume={thread: first["seq"]})
    assert again.replayed == [
        {"type": "reset", "stream": f"threads:{thread}", "thread_id": thread,
         "seq": missed[-1]["seq"]}
    ]  # fmt: skip
    live = await _post(p["alice"], p["t"], "after the cut")
    assert (await again.next())["seq"] == live["seq"]
    await again.close()


async def test_a_member_removed_from_an_organization_stops_receiving_its_threads_at_once(
    servers: list[str], database: Any, http: httpx.AsyncClient
) -> None:
    """Removing bob from the organization takes him out of its thread in the same commit: his
    open socket gets his removal within a second, then nothing more of that thread."""
    p = await _people(database, servers, http)
    alice, bob = p["alice"], p["bob"]
    organization = await alice.call("POST", "/organizations", json={"name": "Acme"})
    org_id = organization.json()["id"]
    async with database.session() as session:
        session.add(Membership(organization_id=uuid.UUID(org_id), user_id=uuid.UUID(bob.id)))
        await session.commit()
    body = {"title": "acme", "organization_id": org_id, "participant_ids": [bob.id]}
    thread = (await alice.call("POST", "/threads", json=body)).json()
    members = (await alice.call("GET", f"/organizations/{org_id}/members")).json()["items"]
    bobs = next(m["id"] for m in members if m["user_id"] == bob.id)
    stream = await bob.connect()

    started = time.monotonic()
    removed = await alice.call("DELETE", f"/organizations/{org_id}/members/{bobs}")
    assert removed.status_code == 204, removed.text
    event = await stream.next()
    assert time.monotonic() - started < 1.0
    assert (event["type"], event["thread_id"]) == ("participant.removed", thread["id"])
    await _post(alice, thread, "bob is gone")
    sentinel = await _post(alice, p["t"], "still in this one")
    assert (await stream.next())["data"]["id"] == sentinel["id"]
    await stream.close()
