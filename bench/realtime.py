"""Event-stream scenarios, against the app as production runs it (gunicorn workers
sharing Redis):

- 6 fan-out: 100 members of one thread connected over the workers; the member posts; the time
  to each member's receipt of `message.created` (p50, p99 over every member and round), from
  the POST's start (includes the whole POST) and from the row's `created_at` (set just before
  the commit): both upper bounds of commit → receipt.
  The workers' own view is reported beside it: `plinth_realtime_delivery_seconds`, from the
  publish (right after the commit) to the frame written to each member's socket, read from the
  Prometheus multiprocess files (the same histogram production exposes at /metrics). It does
  not move with the client's own CPU time, so it is the robust number on a busy machine.
- 7 idle memory: idle sockets opened on top, the workers' RSS growth divided by their number.

The client runs on the same machine as the server (it takes CPU from it on a 2-core box): it
runs on uvloop and parses only what it measures, so 100 frames a round cost it ~5 ms.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import uvloop
import websockets
from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector

from bench.seed import Seeded, SeededUser
from bench.stack import AppServer
from core.security import TokenConfig, TokenService, TokenType

API = "/api/v1"
ROUNDS = 50
IDLE_CONNECTIONS_PER_WORKER = 1000
WAIT = 30.0


@dataclass
class RealtimeResult:
    members: int = 0
    rounds: int = 0
    p50_ms: float | None = None
    p99_ms: float | None = None
    post_p50_ms: float | None = None
    row_p50_ms: float | None = None  # from the message row's created_at (just before commit)
    row_p99_ms: float | None = None
    server_p50_ms: float | None = None  # publish (after commit) → written, from the histogram
    server_p99_ms: float | None = None
    server_deliveries: int = 0
    errors: int = 0
    idle_connections: int = 0
    idle_kb_per_connection: float | None = None
    rss_before_mb: list[float] = field(default_factory=list)
    rss_after_mb: list[float] = field(default_factory=list)


def _tokens(secret: str, users: list[SeededUser]) -> list[str]:
    """Access tokens for seeded users, signed with the app's secret (no login needed)."""
    service = TokenService(TokenConfig(secret=secret))
    claims = {"scope": "regular", "ver": 0}
    return [service.issue(u.id, TokenType.ACCESS, claims)[0] for u in users]


async def _ticket(base: str, http: httpx.AsyncClient, token: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    answer = await http.post(f"{base}{API}/realtime/tickets", json={}, headers=headers)
    ticket: dict[str, Any] = answer.json()
    return ticket


async def _open(base: str, http: httpx.AsyncClient, token: str) -> Any:
    return await _connect(base, await _ticket(base, http, token))


async def _connect(base: str, ticket: dict[str, Any]) -> Any:
    socket = await websockets.connect(
        base.replace("http://", "ws://") + ticket["url"],
        subprotocols=[ticket["subprotocol"], f"ticket.{ticket['ticket']}"],  # type: ignore[list-item]
        max_queue=None,
        compression=None,
    )
    while json.loads(await socket.recv())["type"] != "ready":
        pass
    return socket


async def _receipt(socket: Any, body: str) -> tuple[float, float]:
    """When the frame arrived (timed before it is parsed), and how long after the row's
    `created_at` (set just before the commit, on the same machine's clock)."""
    async with asyncio.timeout(WAIT):  # one timer for the wait, not a task per frame
        while True:
            raw = await socket.recv()
            received, wall = time.perf_counter(), time.time()
            frame = json.loads(raw)
            if frame["type"] == "message.created" and frame["data"]["body"] == body:
                created = datetime.fromisoformat(frame["data"]["created_at"]).timestamp()
                return received, (wall - created) * 1000


def _delivery_buckets(app: AppServer) -> list[tuple[float, float]]:
    """The workers' cumulative `plinth_realtime_delivery_seconds` buckets: (le, count)."""
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=app.metrics_dir)  # type: ignore[no-untyped-call]
    buckets = [
        (float(sample.labels["le"]), sample.value)
        for metric in registry.collect()
        if metric.name == "plinth_realtime_delivery_seconds"
        for sample in metric.samples
        if sample.name.endswith("_bucket")
    ]
    return sorted(buckets)


def _quantile(
    before: list[tuple[float, float]], after: list[tuple[float, float]], q: float
) -> float | None:
    """The q-quantile (ms) of what was observed between two bucket readings, interpolated
    linearly inside its bucket (the way Prometheus' histogram_quantile does)."""
    earlier = dict(before)
    counts = [(le, total - earlier.get(le, 0.0)) for le, total in after]
    if not counts or counts[-1][1] <= 0:
        return None
    rank, lower, below = q * counts[-1][1], 0.0, 0.0
    for le, cumulative in counts:
        if cumulative >= rank:
            if le == float("inf"):
                return round(lower * 1000, 2)
            inside = cumulative - below
            share = (rank - below) / inside if inside else 1.0
            return round((lower + (le - lower) * share) * 1000, 2)
        lower, below = le, cumulative
    return None


async def _fanout(app: AppServer, seeded: Seeded, secret: str, result: RealtimeResult) -> None:
    base = app.base_url
    poster = _tokens(secret, [seeded.member])[0]
    members = _tokens(secret, seeded.fanout_users)
    headers = {"Authorization": f"Bearer {poster}"}
    async with httpx.AsyncClient(timeout=WAIT, limits=httpx.Limits(max_connections=20)) as http:
        ids = [str(u.id) for u in seeded.fanout_users]
        thread = await http.post(
            f"{base}{API}/threads", json={"title": "fan-out", "participant_ids": ids},
            headers=headers,
        )  # fmt: skip
        thread_id = thread.json()["id"]
        sockets = [await _open(base, http, token) for token in members]
        histogram_before = _delivery_buckets(app)
        latencies, posts, from_row = [], [], []
        for n in range(ROUNDS):
            body = f"fan-out {n}"
            receipts = [asyncio.ensure_future(_receipt(s, body)) for s in sockets]
            started = time.perf_counter()
            answer = await http.post(
                f"{base}{API}/threads/{thread_id}/messages", json={"body": body}, headers=headers
            )
            posts.append((time.perf_counter() - started) * 1000)
            if answer.status_code != 201:
                result.errors += 1
            for done in await asyncio.gather(*receipts, return_exceptions=True):
                if isinstance(done, BaseException):
                    result.errors += 1
                else:
                    latencies.append((done[0] - started) * 1000)
                    from_row.append(done[1])
        histogram_after = _delivery_buckets(app)
        for socket in sockets:
            await socket.close()
    result.members, result.rounds = len(members), ROUNDS
    result.server_p50_ms = _quantile(histogram_before, histogram_after, 0.5)
    result.server_p99_ms = _quantile(histogram_before, histogram_after, 0.99)
    if histogram_after:
        result.server_deliveries = int(
            histogram_after[-1][1] - dict(histogram_before).get(float("inf"), 0)
        )
    if latencies:
        ordered = sorted(latencies)
        result.p50_ms = round(statistics.median(ordered), 2)
        result.p99_ms = round(ordered[int(len(ordered) * 0.99) - 1], 2)
        result.post_p50_ms = round(statistics.median(posts), 2)
        ordered_row = sorted(from_row)
        result.row_p50_ms = round(statistics.median(ordered_row), 2)
        result.row_p99_ms = round(ordered_row[int(len(ordered_row) * 0.99) - 1], 2)


async def _idle(app: AppServer, seeded: Seeded, secret: str, result: RealtimeResult) -> None:
    total = IDLE_CONNECTIONS_PER_WORKER * app.workers
    tokens = _tokens(secret, seeded.fanout_users)
    async with httpx.AsyncClient(timeout=WAIT, limits=httpx.Limits(max_connections=20)) as http:
        # Tickets first: the baseline then holds what their requests allocated, and the growth
        # after it is the sockets' alone.
        tickets = [await _ticket(app.base_url, http, tokens[n % len(tokens)]) for n in range(total)]
    await asyncio.sleep(1.0)  # let the fan-out's sockets go before the baseline
    result.rss_before_mb = [round(mb, 1) for mb in app.worker_rss_mb()]
    sockets = []
    for ticket in tickets:
        try:
            sockets.append(await _connect(app.base_url, ticket))
        except Exception:
            result.errors += 1
    await asyncio.sleep(2.0)  # heartbeats and allocations settle
    result.rss_after_mb = [round(mb, 1) for mb in app.worker_rss_mb()]
    result.idle_connections = len(sockets)
    await asyncio.gather(*(s.close() for s in sockets), return_exceptions=True)
    grown_kb = (sum(result.rss_after_mb) - sum(result.rss_before_mb)) * 1024
    if sockets:
        result.idle_kb_per_connection = round(grown_kb / len(sockets), 1)


def run(app: AppServer, seeded: Seeded, secret: str, log: Any) -> RealtimeResult:
    """Both scenarios on a running app; logs one line each."""
    result = RealtimeResult()
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(_fanout(app, seeded, secret, result))
    log(
        f"  6 fan-out to {result.members} members over {app.workers} workers: "
        f"from POST start p50 {result.p50_ms} ms p99 {result.p99_ms} ms; from the row's "
        f"created_at p50 {result.row_p50_ms} ms p99 {result.row_p99_ms} ms "
        f"(POST p50 {result.post_p50_ms} ms); server publish → written p50 "
        f"{result.server_p50_ms} ms p99 {result.server_p99_ms} ms "
        f"({result.server_deliveries} frames)  errors {result.errors}"
    )
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(_idle(app, seeded, secret, result))
    log(
        f"  7 idle sockets: {result.idle_connections} over {app.workers} workers, "
        f"{result.idle_kb_per_connection} KB each (RSS {result.rss_before_mb} → "
        f"{result.rss_after_mb} MB)  errors {result.errors}"
    )
    return result
