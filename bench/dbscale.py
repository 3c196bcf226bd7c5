"""Scenarios `pgbouncer` and `replicas`: the same requests on the app connected directly and on
a second app beside it — through PgBouncer in transaction mode (DATABASE_POOLER=transaction),
or with a streaming replica attached (DATABASE_REPLICA_URLS) — interleaved in the same
session. The ratio is the second app's requests/s over the direct one's.

PgBouncer (tests/servers.py, 20 server connections) sits in front of the bench's PostgreSQL;
the replica is a `pg_basebackup -R` copy of the seeded database, started once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from pathlib import Path

from bench.runner import API, Row, Session, bearer
from bench.stack import AppServer
from bench.wrk import Request
from tests.servers import PostgresServer, start_pgbouncer, start_replica

PGBOUNCER_POOL_SIZE = 20
KEYS = ("pgbouncer", "replicas")


def _requests(session: Session) -> list[tuple[str, list[Request]]]:
    headers = bearer(session.member_token)
    page = f"{API}/threads/{session.seeded.small_thread}/messages?limit=50"
    return [
        ("GET /users/me", [Request(f"{API}/users/me", headers=headers)]),
        ("messages page of 50 (1k thread)", [Request(page, headers=headers)]),
    ]


def _side_by_side(session: Session, key: str, other: str, label: str) -> list[Row]:
    rows: list[Row] = []
    for name, requests in _requests(session):
        direct, beside = session.interleave(
            [
                (f"{key} {name}, direct", "app", requests),
                (f"{key} {name}, {label}", other, requests),
            ]
        )
        if direct.rps and beside.rps:
            beside.ratio = round(beside.rps / direct.rps, 3)
            beside.ratio_of = "direct rps"
        rows += [direct, beside]
    return rows


def run(
    session: Session,
    servers: contextlib.ExitStack,
    postgres: PostgresServer,
    app_env: Mapping[str, str],
    data_dir: Path,
    only: Sequence[str],
) -> None:
    """Start what each requested scenario needs beside the session's app, and measure."""
    database_url = app_env["DATABASE_URL"]
    if not only or "pgbouncer" in only:
        bouncer = servers.enter_context(start_pgbouncer(postgres, PGBOUNCER_POOL_SIZE))
        env = {**app_env, "DATABASE_URL": bouncer.url(database_url.rsplit("/", 1)[1])}
        env["DATABASE_POOLER"] = "transaction"
        pooled = servers.enter_context(AppServer(session.workers, env, data_dir, "-pgbouncer"))
        session.servers["pgbouncer"] = pooled
        _side_by_side(session, "pgbouncer", "pgbouncer", "through PgBouncer")
    if not only or "replicas" in only:
        replica = servers.enter_context(start_replica(postgres))
        env = {**app_env, "DATABASE_REPLICA_URLS": replica.url(database_url.rsplit("/", 1)[1])}
        replicated = servers.enter_context(AppServer(session.workers, env, data_dir, "-replica"))
        session.servers["replica"] = replicated
        _side_by_side(session, "replicas", "replica", "replica attached")
