"""What a client controls on the event stream has bounds: resume positions a database can hold,
a frame rate per socket, and a typing throttle per socket (not per thread id). The app is served
in this process by uvicorn (as production serves sockets), so a test can also hand the hub a
ticket the API would refuse to issue."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from core.platform.realtime import CloseCode, Grant
from core.platform.realtime.server import UVICORN_WEBSOCKET_OPTIONS
from tests.helpers import API, Actor, actor
from tests.realtime.conftest import Stream, open_stream
from tests.routers.test_ratelimit_processes import _free_port

BEYOND_64_BITS = 10**30


@asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[str]:
    """`app` (its lifespan already entered) on a loopback port; its base URL."""
    port = _free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, lifespan="off", log_level="warning",
        **UVICORN_WEBSOCKET_OPTIONS,
    )  # fmt: skip
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


@pytest.fixture
async def base(make_app: Callable[..., Any]) -> AsyncIterator[tuple[FastAPI, str]]:
    env = {"RATE_LIMIT_ENABLED": "false", "REALTIME_CLIENT_FRAME_BURST": "20"}
    async with make_app(**env) as app, served(app) as url:
        yield app, url


async def _thread(http: httpx.AsyncClient, url: str, alice: Actor, bob: Actor) -> str:
    body = {"title": "t", "participant_ids": [bob.id]}
    made = await http.post(f"{url}{API}/threads", json=body, headers=alice.headers)
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


async def _socket(http: httpx.AsyncClient, url: str, who: Actor) -> Stream:
    ticket = await http.post(f"{url}{API}/realtime/tickets", json={}, headers=who.headers)
    assert ticket.status_code == 201, ticket.text
    stream = await open_stream(url, ticket.json())
    await stream.until_ready()
    return stream


async def test_positions_beyond_64_bits_are_a_422_everywhere_a_client_sends_one(
    base: tuple[FastAPI, str], database: Any
) -> None:
    _, url = base
    alice, bob = await actor(database, "alice"), await actor(database, "bob")
    async with httpx.AsyncClient(timeout=30) as http:
        thread = await _thread(http, url, alice, bob)
        stream = f"threads:{thread}"
        calls: list[tuple[str, str, dict[str, Any]]] = [
            ("GET", f"/threads/{thread}/events", {"params": {"after": BEYOND_64_BITS}}),
            ("GET", f"/realtime/streams/{stream}/events", {"params": {"after": 2**63}}),
            ("POST", "/realtime/tickets", {"json": {"resume": {stream: BEYOND_64_BITS}}}),
            ("POST", f"/threads/{thread}/read", {"json": {"seq": BEYOND_64_BITS}}),
        ]
        for method, path, kwargs in calls:
            answer = await http.request(
                method, f"{url}{API}{path}", headers=alice.headers, **kwargs
            )
            assert answer.status_code == 422, (path, answer.text)
            assert answer.headers["content-type"] == "application/problem+json"
        largest = {"after": 2**63 - 1}
        events = await http.get(
            f"{url}{API}/threads/{thread}/events", params=largest, headers=alice.headers
        )
        assert events.status_code == 200, events.text
        socket = await _socket(http, url, alice)
        await socket.send(type="read", thread_id=thread, seq=BEYOND_64_BITS)
        refused = await socket.next()
        assert refused["problem"]["status"] == 422
        await socket.send(type="ping")
        assert await socket.next() == {"type": "pong"}  # the socket stays
        await socket.close()


async def test_a_resume_position_no_database_holds_closes_the_socket_properly(
    base: tuple[FastAPI, str], database: Any
) -> None:
    """A ticket the API no longer issues (its resume was refused above), handed to the hub
    directly: the replay fails, and the socket gets a close frame instead of a dropped TCP
    connection."""
    app, url = base
    alice, bob = await actor(database, "alice"), await actor(database, "bob")
    async with httpx.AsyncClient(timeout=30) as http:
        thread = await _thread(http, url, alice, bob)
    claims = {"resume": {f"threads:{thread}": BEYOND_64_BITS}, "ver": 0, "scopes": ["regular"]}
    ticket = await app.state.realtime.issue_ticket(Grant(alice.user.id, None, claims))
    socket = await open_stream(url, {"url": f"{API}/realtime/ws", "ticket": ticket,
                                     "subprotocol": "plinth.v1"})  # fmt: skip
    assert await socket.closed_with() == CloseCode.INTERNAL_ERROR


async def test_a_client_flooding_frames_is_closed_with_policy_violation(
    base: tuple[FastAPI, str], database: Any
) -> None:
    _, url = base
    alice = await actor(database, "alice")
    async with httpx.AsyncClient(timeout=30) as http:
        calm = await _socket(http, url, alice)
        for _ in range(5):
            await calm.send(type="ping")
            assert await calm.next() == {"type": "pong"}
        await calm.close()
        flood = await _socket(http, url, alice)
        for _ in range(300):
            await flood.send(type="ping")
        assert await flood.closed_with() == CloseCode.POLICY_VIOLATION


async def test_typing_frames_are_throttled_per_socket_whatever_thread_they_name(
    base: tuple[FastAPI, str], database: Any
) -> None:
    """Random thread ids once bypassed the throttle: each was a lookup and a 404 answer."""
    _, url = base
    alice, bob = await actor(database, "alice"), await actor(database, "bob")
    async with httpx.AsyncClient(timeout=30) as http:
        thread = await _thread(http, url, alice, bob)
        listener = await _socket(http, url, bob)
        socket = await _socket(http, url, alice)
        await socket.send(type="typing", thread_id=thread)
        assert (await listener.next())["type"] == "typing"
        for _ in range(15):
            await socket.send(type="typing", thread_id=str(uuid.uuid4()))
        await socket.send(type="ping")
        answers = []
        while (answer := await socket.next()) != {"type": "pong"}:
            answers.append(answer)
        assert answers == []  # dropped before any lookup: no 404s to answer
        await socket.close()
        await listener.close()
