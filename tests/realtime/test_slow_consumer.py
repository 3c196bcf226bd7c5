"""A client that stops reading: the kernel's buffers fill, then the transport's, then the
socket's bounded buffer — and the server closes it with 4413 while the process's memory stays
bounded. A real uvicorn (with production's WebSocket options) serves `Connection` in this
process, so the frames can be large and produced fast; the client is the `websockets` library,
told to stop reading its socket."""

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator

import pytest
import uvicorn
import websockets
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from core.platform.realtime import CloseCode, Connection, Delivery, Grant
from core.platform.realtime.server import UVICORN_WEBSOCKET_OPTIONS
from tests.routers.test_ratelimit_processes import _free_port

BUFFER = 4
FRAME = "x" * 256 * 1024  # 256 KiB a frame: loopback's socket buffers hold ~10 MiB at most
FRAMES = 200  # 50 MiB offered: far more than every buffer together


async def _no_frames(_: Connection, __: dict[str, object]) -> None:
    return None


async def _endpoint(websocket: WebSocket) -> None:
    await websocket.accept()
    connection = Connection(websocket, Grant(uuid.uuid4()), buffer=BUFFER)
    websocket.app.state.connection = connection

    async def produce() -> None:
        for _ in range(FRAMES):
            connection.offer(Delivery(FRAME))
            if connection.closing:
                return
            await asyncio.sleep(0.005)

    producer = asyncio.create_task(produce())
    try:
        await connection.run(_no_frames)
    finally:
        producer.cancel()


@pytest.fixture
async def server() -> AsyncIterator[tuple[int, Starlette]]:
    app = Starlette(routes=[WebSocketRoute("/ws", _endpoint)])
    port = _free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="off",
        **UVICORN_WEBSOCKET_OPTIONS,
    )  # fmt: skip
    uv = uvicorn.Server(config)
    task = asyncio.create_task(uv.serve())
    for _ in range(500):  # uvicorn has no started event: poll, bounded (5 s)
        if uv.started:
            break
        await asyncio.sleep(0.01)
    try:
        yield port, app
    finally:
        uv.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)


async def test_a_client_that_stops_reading_is_closed_as_a_slow_consumer(
    server: tuple[int, Starlette],
) -> None:
    port, app = server
    client = await websockets.connect(
        f"ws://127.0.0.1:{port}/ws", max_queue=1, max_size=None, ping_interval=None
    )  # max_queue=1: the library stops reading the socket after one frame (and sends no
    # pings, whose unread pongs would time it out first)
    for _ in range(500):  # until the server gives up on us (bounded: 5 s)
        connection = getattr(app.state, "connection", None)
        if connection is not None and connection.closing:
            break
        await asyncio.sleep(0.01)
    else:
        pytest.fail("the server never closed the stalled socket")
    assert connection.buffered == 0  # the buffer was dropped, not kept
    received = 0
    with pytest.raises(websockets.ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(client.recv(), 10)
            received += 1
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == CloseCode.SLOW_CONSUMER
    assert received < FRAMES  # what the buffers held; the rest was never queued
