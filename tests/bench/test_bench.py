"""The benchmark's own parts work: wrk output parsing, the Lua script, the seed's columns, the
reference app. No timing is asserted here; performance lives in bench/."""

import json
import uuid
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from bench import seed
from bench.wrk import RESULT_MARKER, Request, lua_script, parse_output
from tests.conftest import TEST_SECRET, Leg
from tests.helpers import bearer, create_user

WRK_TEXT = """Running 2s test @ http://127.0.0.1:8000/health
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     6.10ms    2.00ms   1.20s    90.00%
    Req/Sec     2.70k   200.00     3.00k    70.00%
  Latency Distribution
     50%    5.50ms
     75%    6.60ms
     90%    8.00ms
     99%  900.00us
  10800 requests in 2.00s, 1.50MB read
  Socket errors: connect 0, read 1, write 0, timeout 2
  Non-2xx or 3xx responses: 7
Requests/sec:   5400.00
"""


def test_done_json_line_is_parsed_in_milliseconds() -> None:
    data = {"requests": 5000, "duration_us": 2_000_000, "status": 3, "connect": 0, "read": 1}
    data |= {"write": 0, "timeout": 1, "p50_us": 1500, "p90_us": 3000, "p99_us": 12000}
    data |= {"max_us": 40000}
    result = parse_output(f"noise\n{RESULT_MARKER}{json.dumps(data)}\nmore noise\n")
    assert (result.requests, result.rps) == (5000, 2500.0)
    assert (result.p50_ms, result.p99_ms, result.max_ms) == (1.5, 12.0, 40.0)
    assert (result.non_2xx, result.socket_errors, result.errors) == (3, 2, 5)


def test_wrk_text_is_the_fallback() -> None:
    result = parse_output(WRK_TEXT)
    assert result.requests == 10800
    assert result.rps == 5400.0
    assert (result.p50_ms, result.p90_ms, result.p99_ms) == (5.5, 8.0, 0.9)
    assert result.max_ms == 1200.0
    assert (result.non_2xx, result.socket_errors) == (7, 3)


def test_unrecognised_wrk_output_is_an_error() -> None:
    with pytest.raises(ValueError, match="unrecognised"):
        parse_output("wrk: connection refused")


def test_lua_script_escapes_headers_and_bodies() -> None:
    script = lua_script(
        [Request("/a", "POST", {"Authorization": 'Bearer x"y'}, '{"body": "\\u00e9\n"}')]
    )
    assert 'wrk.format("POST", "/a", {["Authorization"] = "Bearer x\\"y"}' in script
    assert '"{\\"body\\": \\"\\\\u00e9\\010\\"}"' in script
    assert "latency:percentile(99)" in script


def test_seed_columns_match_the_models() -> None:
    for table, declared in [
        ("users", seed.USER_COLUMNS),
        ("threads", seed.THREAD_COLUMNS),
        ("users_and_threads", seed.PARTICIPANT_COLUMNS),
        ("messages", seed.MESSAGE_COLUMNS),
    ]:
        assert seed.columns(table, declared) == declared
    with pytest.raises(seed.SchemaDrift, match="lacks"):
        seed.columns("users", seed.USER_COLUMNS[:-1])


def test_seed_ids_are_uuid7_and_ordered() -> None:
    import random
    from datetime import timedelta

    rand = random.Random(1)
    ids = [
        uuid.UUID(str(seed.uuid7_at(seed.EPOCH + timedelta(milliseconds=i), rand)))
        for i in range(50)
    ]
    assert all(u.version == 7 for u in ids)
    assert ids == sorted(ids)


async def test_reference_app_verifies_the_token_and_reads_the_row(
    leg: Leg, database: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not leg.is_services:
        pytest.skip("the reference app talks to PostgreSQL with asyncpg")
    from bench import reference

    dsn = leg.database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    monkeypatch.setenv("REF_DSN", dsn)
    monkeypatch.setenv("REF_SECRET", TEST_SECRET)
    user = await create_user(database, "ref@example.com", full_name="Ref")
    async with (
        LifespanManager(reference.app) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url="http://ref"
        ) as client,
    ):
        assert (await client.get("/health")).json() == {"status": "ok"}
        me = await client.get("/me", headers=bearer(user))
        assert me.status_code == 200
        assert me.json()["email"] == "ref@example.com"
        assert me.json()["id"] == str(user.id)
        assert (await client.get("/me")).status_code == 401
        forged = {"Authorization": bearer(user)["Authorization"][:-2] + "xx"}
        assert (await client.get("/me", headers=forged)).status_code == 401
        page = (await client.get("/users?limit=10", headers=bearer(user))).json()
        assert page["total"] == 1
        assert [item["email"] for item in page["items"]] == ["ref@example.com"]


async def test_the_deep_page_cursor_is_one_the_app_accepts(
    client: httpx.AsyncClient, database: Any
) -> None:
    """Scenario 2c jumps half-way down a thread with a cursor the bench makes itself: the app
    must take it as its own (cursors are bound to their list), and page on after that row."""
    from datetime import datetime

    from bench.runner import deep_cursor
    from core.pagination import CursorCodec
    from tests.app.messenger.support import API, actor, new_thread, send

    alice = await actor(database, "alice")
    thread = await new_thread(client, alice)
    sent = [await send(client, alice, thread["id"], f"m{i}") for i in range(4)]
    key = (datetime.fromisoformat(sent[2]["created_at"]), uuid.UUID(sent[2]["id"]))
    cursor = deep_cursor(CursorCodec(TEST_SECRET), uuid.UUID(thread["id"]), key)
    url = f"{API}/threads/{thread['id']}/messages"
    page = await client.get(url, params={"cursor": cursor}, headers=alice.headers)
    assert page.status_code == 200, page.text
    assert [m["body"] for m in page.json()["items"]] == ["m1", "m0"]


def test_targets_read_the_one_worker_rows() -> None:
    from bench import report
    from bench.runner import Row, SessionResult

    rows = [
        Row("1 GET /users/me", 1, "reference", rps=1000.0, p50_ms=5.0, p99_ms=10.0, errors=0),
        Row("1 GET /users/me", 1, "app", rps=600.0, p50_ms=8.0, p99_ms=40.0, errors=0,
            ratio=0.6, ratio_of="reference rps", cpu_ratio=0.55),
        Row("admin list, response cache on (hits)", 1, "reference", rps=300.0, p50_ms=1.0,
            p99_ms=2.0, errors=0, cpu_ms_per_request=1.0),
        Row("admin list, response cache on (hits)", 1, "app", rps=300.0, p50_ms=1.0,
            p99_ms=2.0, errors=0, cpu_ms_per_request=1.5),
        Row("2a messages", 1, "app", rps=100.0, p50_ms=10.0, p99_ms=20.0, errors=0,
            cpu_ms_per_request=1.9),
        Row("2b messages", 1, "app", rps=90.0, p50_ms=13.0, p99_ms=20.0, errors=2, ratio=1.3),
        Row("3 POST message", 1, "app", rps=90.0, p50_ms=13.0, p99_ms=20.0, errors=0,
            cpu_ms_per_request=2.6),
        Row("L1 ladder GET /me", 1, "ladder:reference", rps=2000.0, p50_ms=1.0, p99_ms=2.0,
            errors=0, cpu_ms_per_request=0.4, note="a reference (asyncpg)"),
        Row("L1 ladder GET /me", 1, "ladder:middlewares", rps=1000.0, p50_ms=2.0, p99_ms=4.0,
            errors=0, cpu_ms_per_request=0.8, note="d + 6 ASGI middlewares"),
        Row("L1 ladder GET /me", 1, "app", rps=900.0, p50_ms=2.0, p99_ms=4.0, errors=0,
            cpu_ms_per_request=1.0, note="app (Plinth)"),
    ]  # fmt: skip
    session = SessionResult(workers=1, rows=rows, rss_mb=[120.0, 160.0])
    checks = {t.name: t for t in report.targets(session)}
    rung_d = checks["1 users/me CPU/req / ladder rung d (ORM + Redis + middlewares)"]
    assert (rung_d.value, rung_d.met) == (1.25, True)  # the ladder's own app row, not 1's
    assert checks["1 users/me rps / reference"].met is True
    assert checks["1 users/me rps / reference"].cpu_value == 0.55
    assert checks["1 users/me p99 / reference p99"].value == 4.0
    assert checks["1 users/me p99 / reference p99"].met is False
    hit = checks["cache hit CPU/req / uncached reference CPU/req (admin list)"]
    assert (hit.value, hit.met, hit.limit) == (1.5, False, "< 1")
    assert checks["2 messages page of 50, CPU ms/req"].met is True
    assert checks["3 POST message, CPU ms/req"].met is False
    assert checks["2 1M page-1 p50 / 1k page-1 p50"].met is False
    assert checks["RSS per worker (MB)"].met is False
    assert checks["app errors, all scenarios"].value == 2
    assert checks["5 health/live rps / bare /health"].met is None  # not measured
    table = report.table([session])
    assert "| 1 GET /users/me | 1 | app | 600.0 |" in table
    assert "L1" not in table  # the ladder has its own table, the app's row last
    ladder = report.ladder_tables([session])
    assert ladder.splitlines()[-1].startswith("| app (Plinth) | 900.0 |")
    assert "| d + 6 ASGI middlewares | 1000.0 | 2.00 | 4.00 | 0 | 0.80 | 2.00 |" in ladder


async def _ladder_fixture(database: Any) -> tuple[dict[str, str], str, int]:
    """A user with a login session, a thread of 3 messages: headers, thread id, messages."""
    from datetime import UTC, datetime, timedelta

    from app.messenger.models import Message, Role, Thread, ThreadParticipant
    from app.users.authentication import issue_access_token
    from app.users.models import AuthSession

    user = await create_user(database, "ladder@example.com", full_name="Ladder")
    login = AuthSession(user_id=user.id, expires_at=datetime.now(UTC) + timedelta(hours=1))
    thread = Thread(title="ladder", created_by=user.id, event_seq=3)
    async with database.session() as session:
        session.add_all([login, thread])
        await session.flush()
        session.add(ThreadParticipant(user_id=user.id, thread_id=thread.id, role=Role.CREATOR))
        for i in range(3):
            session.add(Message(thread_id=thread.id, author_id=user.id, body=f"m{i}", seq=i + 1))
            await session.flush()
        await session.commit()
    token, _ = issue_access_token(user, user.scopes, str(login.id))
    return {"Authorization": f"Bearer {token}"}, str(thread.id), 3


async def test_every_ladder_rung_starts_and_answers(
    leg: Leg, database: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each rung serves the three routes with the app's shapes; no timing is asserted."""
    if not leg.is_services:
        pytest.skip("the ladder talks to PostgreSQL with asyncpg and to Redis")
    from sqlalchemy import func, select

    from bench import ladder
    from core.platform.realtime import RealtimeEvent
    from core.platform.requestlog.models import RequestLog

    monkeypatch.setenv("REF_DSN", leg.database_url.replace("+asyncpg", "", 1))
    monkeypatch.setenv("REF_SECRET", TEST_SECRET)
    assert leg.redis_url is not None  # the services leg
    monkeypatch.setenv("LADDER_REDIS_URL", leg.redis_url)
    headers, thread, count = await _ladder_fixture(database)
    bodies = [f"m{i}" for i in range(count)]  # oldest first
    for rung in ladder.RUNGS:
        app = ladder.create_app(rung)
        async with (
            LifespanManager(app) as manager,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=manager.app), base_url="http://ladder"
            ) as client,
        ):
            assert (await client.get("/health")).json()["rung"] == rung
            me = await client.get("/me", headers=headers)
            assert me.status_code == 200, (rung, me.text)
            assert set(me.json()) == set(ladder.USER_FIELDS)
            assert me.json()["scopes"] == ["regular"]
            assert (await client.get("/me")).status_code == 401
            url = f"/threads/{thread}/messages"
            first = (await client.get(f"{url}?limit=2", headers=headers)).json()
            assert [m["body"] for m in first["items"]] == bodies[:-3:-1]
            assert set(first["items"][0]) == set(ladder.MESSAGE_FIELDS)
            assert first["has_more"] is True
            cursor = first["next_cursor"]
            rest = (await client.get(f"{url}?limit=50&cursor={cursor}", headers=headers)).json()
            assert [m["body"] for m in rest["items"]] == bodies[-3::-1]
            assert rest["has_more"] is False
            other = f"/threads/{uuid.uuid4()}/messages"
            assert (await client.get(other, headers=headers)).status_code == 404
            posted = await client.post(url, json={"body": f"from {rung}"}, headers=headers)
            assert posted.status_code == 201, (rung, posted.text)
            bodies.append(f"from {rung}")
            assert posted.json()["seq"] == len(bodies)  # the thread's next event id (locked)
            newest = (await client.get(f"{url}?limit=1", headers=headers)).json()["items"][0]
            assert newest["id"] == posted.json()["id"]
    async with database.session() as session:
        events = await session.scalar(select(func.count()).select_from(RealtimeEvent))
        routes = (await session.scalars(select(RequestLog.route))).all()
    assert events == len(ladder.RUNGS)
    assert len(routes) == 2 * 8  # the two rungs with the request log, 8 requests each, flushed
    assert routes.count("/threads/{thread_id}/messages") == 2 * 5  # the template, not the path
