"""Events for an entity of your own: a toy `Board` (not a thread) declares its stream kind and
emits from its controller's `written` hook, and its events reach exactly its members over the
real event-stream socket — with the same tickets, revocation, resume and gap-fill as threads;
it declares a client frame of its own (`wave`) as the messenger declares typing.

The app is main's routes and event stream, plus the board's CRUD routes, served by uvicorn in
this process (so the test's stream kind is declared where the socket is served); the client is
`websockets`. Both legs: the hub publishes through Redis on the services leg, in process on the
embedded one. None of it needs the messenger example: a project made without it runs it too.
"""

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel, Field
from sqlalchemy import Select, String, select
from sqlalchemy.orm import Mapped, mapped_column

from app.authentication import authenticate
from core.controller import Action, BaseController, Owner
from core.crud import CrudRouter
from core.db import CommonBase, Database
from core.errors import NotFound
from core.platform.realtime import (
    CloseCode,
    Connection,
    StreamKind,
    client_frame,
    emit,
    emit_ephemeral,
)
from core.platform.realtime.server import UVICORN_WEBSOCKET_OPTIONS
from core.schemas import CreateSchema, ReadSchema, UpdateSchema
from core.service import unit_of_work
from tests.conftest import reset_settings_caches
from tests.helpers import create_user
from tests.realtime.conftest import STREAM_ENV, Client, sign_in
from tests.routers.test_ratelimit_processes import _free_port

pytestmark = pytest.mark.slow


# -- the toy entity: a board, its members, its stream -------------------------------------------


class Board(CommonBase):
    __tablename__ = "test_boards"

    name: Mapped[str] = mapped_column(String(50))
    owner_id: Mapped[uuid.UUID]


class BoardMember(CommonBase):
    __tablename__ = "test_board_members"

    board_id: Mapped[uuid.UUID]
    user_id: Mapped[uuid.UUID]


def board_members(board_id: uuid.UUID) -> Select[uuid.UUID]:
    m = BoardMember
    return select(m.user_id).where(m.board_id == board_id, m.deleted_at.is_(None))


BOARDS = StreamKind("test_boards", audience=board_members)


class BoardCreate(CreateSchema):
    name: str = Field(min_length=1, max_length=50)


class BoardUpdate(UpdateSchema):
    name: str = Field(min_length=1, max_length=50)


class BoardRead(ReadSchema):
    name: str
    owner_id: uuid.UUID


class BoardController(BaseController[Board, BoardCreate, BoardUpdate]):
    owner = Owner("owner_id")

    async def perform_create(self, data: BoardCreate, **values: Any) -> Board:
        board = await super().perform_create(data, **values)
        self.session.add(BoardMember(board_id=board.id, user_id=self.me.id))
        return board

    async def written(self, action: Action, obj: Board) -> None:
        await emit(self, BOARDS(obj.id), f"board.{action}", BoardRead.model_validate(obj))


class WaveFrame(BaseModel):
    board_id: uuid.UUID


@client_frame("test_boards.wave", WaveFrame)
async def on_wave(socket: Connection, frame: WaveFrame) -> None:
    """A member waves to the board's other members (not kept); a non-member gets a 404."""
    database: Database = socket.app.state.database
    async with unit_of_work(database) as session:
        members = set((await session.scalars(board_members(frame.board_id))).all())
        if socket.grant.user_id not in members:
            raise NotFound("The board does not exist.")
        data = {"user_id": str(socket.grant.user_id)}
        await emit_ephemeral(
            session, BOARDS(frame.board_id), "wave", data, exclude=socket.grant.user_id
        )


# -- the app, served in this process --------------------------------------------------------------


def create_board_app() -> FastAPI:
    from app.realtime import realtime
    from configs import get_settings
    from core.application import create_application
    from routers import include_routes
    from routers.gates import API_PREFIX, gates

    def routes(app: FastAPI) -> None:
        boards = CrudRouter(BoardController, BoardRead, prefix="/boards", tags=["boards"])
        app.include_router(boards, prefix=API_PREFIX, dependencies=gates.AUTHENTICATED)
        include_routes(app)  # the event stream's socket last (outermost)

    return create_application(
        get_settings(), authenticator=authenticate, include_routes=routes, lifespans=[realtime]
    )


@pytest.fixture(scope="module")
async def board_tables(database: Any) -> AsyncIterator[None]:
    tables = [CommonBase.metadata.tables[m.__tablename__] for m in (Board, BoardMember)]
    async with database.engine.begin() as connection:
        for table in tables:
            await connection.run_sync(table.create, checkfirst=True)
    yield
    async with database.engine.begin() as connection:
        for table in tables:
            await connection.run_sync(table.drop, checkfirst=True)


@pytest.fixture
async def server(board_tables: None) -> AsyncIterator[tuple[str, FastAPI]]:
    saved = {key: os.environ.get(key) for key in STREAM_ENV}
    os.environ.update(STREAM_ENV)
    reset_settings_caches()
    app = create_board_app()
    port = _free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", **UVICORN_WEBSOCKET_OPTIONS
    )
    uv = uvicorn.Server(config)
    task = asyncio.create_task(uv.serve())
    try:
        for _ in range(1000):  # uvicorn has no started event: poll, bounded (10 s)
            if uv.started:
                break
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}", app
    finally:
        uv.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 15)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        reset_settings_caches()


# -- the tests ------------------------------------------------------------------------------------


async def _people(base: str, database: Any, http: httpx.AsyncClient) -> dict[str, Client]:
    for name in ("alice", "bob", "carol"):
        await create_user(database, f"{name}@example.com", full_name=name.title())
    return {n: await sign_in(base, http, f"{n}@example.com") for n in ("alice", "bob", "carol")}


async def _board(client: Client, name: str) -> dict[str, Any]:
    answer = await client.call("POST", "/boards", json={"name": name})
    assert answer.status_code == 201, answer.text
    board: dict[str, Any] = answer.json()
    return board


async def _rename(client: Client, board: dict[str, Any], name: str) -> None:
    answer = await client.call("PATCH", f"/boards/{board['id']}", json={"name": name})
    assert answer.status_code == 200, answer.text


async def _membership(app: FastAPI, board: dict[str, Any], user: Client, *, add: bool) -> None:
    async with unit_of_work(app.state.database) as session:
        ids = {"board_id": uuid.UUID(board["id"]), "user_id": uuid.UUID(user.id)}
        if add:
            session.add(BoardMember(**ids))
        else:
            row = await session.scalar(select(BoardMember).filter_by(**ids))
            assert row is not None
            await session.delete(row)


async def test_a_boards_events_reach_its_members_and_nobody_else(
    server: tuple[str, FastAPI], database: Any, http: httpx.AsyncClient
) -> None:
    base, app = server
    p = await _people(base, database, http)
    bob, carol = await p["bob"].connect(), await p["carol"].connect()
    board = await _board(p["alice"], "plans")
    key = f"test_boards:{board['id']}"
    await _membership(app, board, p["bob"], add=True)
    await _rename(p["alice"], board, "plans v2")
    event = await bob.next()
    assert event == {
        "type": "board.update",
        "stream": key,
        "seq": 2,  # 1 was board.create, when bob was not a member yet
        "data": {**board, "name": "plans v2", "updated_at": event["data"]["updated_at"]},
    }
    sentinel = await _board(p["carol"], "carol's own")  # carol's first frame is her own board's
    assert (await carol.next())["stream"] == f"test_boards:{sentinel['id']}"
    await bob.close()
    await carol.close()


async def test_resume_and_gap_fill_follow_the_audience(
    server: tuple[str, FastAPI], database: Any, http: httpx.AsyncClient
) -> None:
    base, app = server
    p = await _people(base, database, http)
    board = await _board(p["alice"], "plans")
    key = f"test_boards:{board['id']}"
    await _membership(app, board, p["bob"], add=True)
    for n in range(3):  # seq 2, 3, 4, missed by a bob who is offline
        await _rename(p["alice"], board, f"plans {n}")
    bob = await p["bob"].connect(resume={key: 2})
    carol = await p["carol"].connect(resume={key: 0})  # not a member: nothing replayed
    assert [(e["stream"], e["seq"]) for e in bob.replayed] == [(key, 3), (key, 4)]
    assert carol.replayed == []
    await _rename(p["alice"], board, "live")
    assert (await bob.next())["seq"] == 5  # once: not again after the replay
    path = f"/realtime/streams/{key}/events"
    filled = (await p["bob"].call("GET", path, params={"after": 1})).json()
    assert [e["seq"] for e in filled["items"]] == [2, 3, 4, 5]
    assert filled["seq"] == 5 and filled["has_more"] is False
    unknown = f"/realtime/streams/nope:{uuid.uuid4()}/events"
    for who, url in ((p["carol"], path), (p["bob"], unknown)):
        refused = await who.call("GET", url)
        assert refused.status_code == 404
        assert refused.headers["content-type"] == "application/problem+json"
    bad = await p["bob"].call("GET", "/realtime/streams/test_boards:not-a-uuid/events")
    assert bad.status_code == 422
    await bob.close()
    await carol.close()


async def test_a_member_who_loses_access_stops_receiving_and_replaying(
    server: tuple[str, FastAPI], database: Any, http: httpx.AsyncClient
) -> None:
    base, app = server
    p = await _people(base, database, http)
    board = await _board(p["alice"], "plans")
    key = f"test_boards:{board['id']}"
    await _membership(app, board, p["bob"], add=True)
    bob = await p["bob"].connect()
    await _rename(p["alice"], board, "seen")
    assert (await bob.next())["seq"] == 2
    await _membership(app, board, p["bob"], add=False)
    await _rename(p["alice"], board, "not for bob")
    sentinel = await _board(p["bob"], "bob's own")
    got = await bob.next()  # the removed member's next frame is his own board's, not alice's
    assert got["stream"] == f"test_boards:{sentinel['id']}"
    again = await p["bob"].connect(resume={key: 0})
    assert again.replayed == []
    gap = await p["bob"].call("GET", f"/realtime/streams/{key}/events")
    assert gap.status_code == 404
    for stream in (bob, again):
        await stream.close()


async def test_resume_keys_are_checked_when_the_ticket_is_issued(
    server: tuple[str, FastAPI], database: Any, http: httpx.AsyncClient
) -> None:
    base, _ = server
    p = await _people(base, database, http)
    for resume in ({"nope:" + str(uuid.uuid4()): 1}, {"test_boards:x": 1}):
        answer = await p["alice"].call("POST", "/realtime/tickets", json={"resume": resume})
        assert answer.status_code == 422, answer.text
        assert answer.json()["errors"][0]["loc"] == ["body", "resume", next(iter(resume))]


async def test_a_domains_own_client_frames_reach_its_handler(
    server: tuple[str, FastAPI], database: Any, http: httpx.AsyncClient
) -> None:
    base, app = server
    p = await _people(base, database, http)
    board = await _board(p["alice"], "plans")
    await _membership(app, board, p["bob"], add=True)
    alice, bob = await p["alice"].connect(), await p["bob"].connect()
    carol = await p["carol"].connect()
    await bob.send(type="test_boards.wave", board_id=board["id"])
    assert await alice.next() == {"type": "wave", "stream": f"test_boards:{board['id']}",
                                  "seq": None, "data": {"user_id": p["bob"].id}}  # fmt: skip
    await carol.send(type="test_boards.wave", board_id=board["id"])  # not a member
    assert (await carol.next())["problem"]["status"] == 404
    await carol.send(type="test_boards.wave", board_id="not-a-uuid")
    invalid = (await carol.next())["problem"]
    assert invalid["status"] == 422
    assert invalid["errors"][0]["loc"] == ["frame", "test_boards.wave", "board_id"]
    await carol.send(type="no-such-frame")
    unknown = (await carol.next())["problem"]
    assert unknown["status"] == 422 and unknown["errors"][0]["loc"] == ["frame", "type"]
    await carol.send(type="ping")  # the socket stayed open through all of it
    assert (await carol.next()) == {"type": "pong"}
    for stream in (alice, bob, carol):
        await stream.close()


async def test_logging_out_ends_the_socket(
    server: tuple[str, FastAPI], database: Any, http: httpx.AsyncClient
) -> None:
    base, _ = server
    p = await _people(base, database, http)
    bob = await p["bob"].connect()
    answer = await p["bob"].call("POST", "/auth/logout")
    assert answer.status_code == 204, answer.text
    assert await bob.closed_with() == CloseCode.UNAUTHORIZED
