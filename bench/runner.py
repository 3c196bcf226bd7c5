"""The scenarios of the first and the hot-path rounds (bench/README.md), run on the app beside
the reference (same worker count) and beside the ladder's rungs (bench/ladder.py).

Every ratio compares two figures measured back to back in the same session: the app against
the reference (or, for the 1M thread, against the 1k thread's page), never across runs.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import statistics
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from app.messenger.controller import MessageController
from app.messenger.models import Message
from app.messenger.schemas import MessageFilters
from bench import profile
from bench.ladder import LABELS as RUNG_LABELS
from bench.seed import Seeded
from bench.stack import AppServer, ReferenceServer, Server, http
from bench.wrk import Load, Request, WrkResult, WrkRun
from core.controller import types_of
from core.pagination import CursorCodec
from core.security import PasswordHasher, hashing_threads_per_worker

API = "/api/v1"
LADDER = "L"  # scenario prefix of the ladder's rows; their server is "ladder:<rung>" or "app"
LADDER_SCENARIOS = {
    "me": "L1 ladder GET /me",
    "page": "L2 ladder messages page of 50 (1k thread)",
    "post": "L3 ladder POST message",
}
PROBE_LOAD = Load(connections=4, threads=1)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
HASH_SAMPLES = 8


def deep_cursor(codec: CursorCodec, thread_id: uuid.UUID, key: Sequence[Any]) -> str:
    """The cursor the app hands out after the message with `key` (created_at, id) in the
    thread's history: bound, like every cursor, to that list with no filters, newest first
    (`BaseController.list` through `CursorPagination.page`, `BaseRepository.page_keyset`)."""
    binding = MessageController._cursor_binding(thread_id, MessageFilters())
    columns = (Message.created_at, Message.id)
    repository = types_of(MessageController).repository
    context = repository._cursor_context(binding, columns, True)
    return codec.encode(list(key), binding=context)


@dataclass
class Row:
    """One line of the table (and of latest.json)."""

    scenario: str
    workers: int
    server: str  # "app" or "reference"
    rps: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    errors: int | None = None
    requests: int | None = None
    ratio: float | None = None  # to `baseline`, see `ratio_of`
    ratio_of: str | None = None
    cpu_ms_per_request: float | None = None  # the server's own CPU (all workers) per request
    cpu_ratio: float | None = None  # reference CPU per request / app CPU per request
    note: str = ""

    @classmethod
    def merged(
        cls,
        scenario: str,
        workers: int,
        server: str,
        results: Sequence[WrkResult],
        cpu_seconds: float | None = None,
    ) -> Row:
        """Several short runs of the same thing: summed counts, median percentiles, and the
        server's CPU time per request."""
        requests = sum(r.requests for r in results)
        seconds = sum(r.seconds for r in results)
        cpu = None
        if cpu_seconds is not None and requests:
            cpu = round(cpu_seconds * 1000 / requests, 3)
        return cls(
            scenario=scenario,
            workers=workers,
            server=server,
            rps=round(requests / seconds, 1) if seconds else 0.0,
            p50_ms=round(statistics.median(r.p50_ms for r in results), 2),
            p99_ms=round(statistics.median(r.p99_ms for r in results), 2),
            errors=sum(r.errors for r in results),
            requests=requests,
            cpu_ms_per_request=cpu,
        )

    @classmethod
    def measured(cls, scenario: str, workers: int, server: str, result: WrkResult) -> Row:
        return cls(
            scenario=scenario,
            workers=workers,
            server=server,
            rps=round(result.rps, 1),
            p50_ms=round(result.p50_ms, 2),
            p99_ms=round(result.p99_ms, 2),
            errors=result.errors,
            requests=result.requests,
        )


@dataclass
class Target:
    """One target of the hot-path round, checked at 1 worker."""

    name: str
    value: float | None
    limit: str
    met: bool | None
    scenario: str  # which app scenario to profile when missed
    cpu_value: float | None = None  # the same ratio from CPU per request (noise-resistant)


@dataclass
class Options:
    seconds: float = 9.0
    warmup_seconds: float = 2.0
    connections: int = 32
    threads: int = 2
    rounds: int = 3
    ladder_seconds: float = 6.0  # per rung and endpoint: 3 endpoints x 8 servers in a run


@dataclass
class SessionResult:
    workers: int
    rows: list[Row] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)
    rss_start_mb: list[float] = field(default_factory=list)  # after start-up, before any load
    rss_after_mb: dict[str, list[float]] = field(default_factory=dict)  # after each scenario
    login_ceiling_rps: float | None = None  # cores / one hash (the login ceiling)
    measured_ceiling_rps: float | None = None  # hashes at once, nothing else: HashCost
    hash_ms: float | None = None
    loadavg: list[float] = field(default_factory=list)  # 1-minute load at start and end


def app_environment(
    database_url: str, redis_url: str, secret: str, data_dir: Path
) -> dict[str, str]:
    """Production settings; limits raised so the run measures their cost, not 429s."""
    huge = "1000000000/1m"
    (data_dir / "prometheus").mkdir(parents=True, exist_ok=True)
    return {
        "APP_ENV": "production",
        "APP_DATA_DIR": str(data_dir / "app"),
        "AUTH_SECRET_KEY": secret,
        "DATABASE_URL": database_url,
        "DATABASE_AUTO_MIGRATE": "false",
        "REDIS_URL": redis_url,
        "RATE_LIMIT_ENABLED": "true",
        "RATE_LIMIT_USER": huge,
        "RATE_LIMIT_ANONYMOUS": huge,
        "RATE_LIMIT_LOGIN_ACCOUNT": huge,
        "RATE_LIMIT_LOGIN_IP": huge,
        "RATE_LIMIT_REGISTER_IP": huge,
        "REQUEST_LOG_ENABLED": "true",
        "REALTIME_MAX_CONNECTIONS_PER_USER": "100000",  # the idle-socket scenario's 2,000
        "REALTIME_TICKET_TTL_SECONDS": "300",  # its tickets are all issued before connecting
        "LOG_FORMAT": "auto",  # JSON in production
        "PROMETHEUS_MULTIPROC_DIR": str(data_dir / "prometheus"),
        "ENV_FILE": "",
    }


def reference_environment(
    database_url: str, secret: str, redis_url: str | None = None
) -> dict[str, str]:
    """The reference's settings; the ladder's rungs also get Redis (LADDER_REDIS_URL)."""
    env = {
        "REF_DSN": database_url.replace("postgresql+asyncpg://", "postgresql://", 1),
        "REF_SECRET": secret,
    }
    if redis_url:
        env["LADDER_REDIS_URL"] = redis_url
    return env


def new_secret() -> str:
    """A random 48-byte signing key (URL-safe text)."""
    return secrets.token_urlsafe(48)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def login(base_url: str, email: str, password: str) -> str:
    """An access token through the real OAuth2 password flow."""
    body = urlencode({"username": email, "password": password}).encode()
    status, data = http(
        base_url + f"{API}/auth/login",
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body=body,
    )
    if status != 200 or not isinstance(data, dict):
        raise RuntimeError(f"login as {email} failed: HTTP {status} {data}")
    return str(data["access_token"])


def login_requests(seeded: Seeded) -> list[Request]:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    return [
        Request(
            f"{API}/auth/login",
            "POST",
            form,
            f"username={quote(user.email)}&password={quote(seeded.password)}",
        )
        for user in seeded.login_users
    ]


def message_requests(thread: str, token: str, prefix: str = API) -> list[Request]:
    headers = {**bearer(token), "Content-Type": "application/json"}
    return [
        Request(
            f"{prefix}/threads/{thread}/messages", "POST", headers, json.dumps({"body": f"b{i}"})
        )
        for i in range(16)
    ]


@dataclass(frozen=True)
class HashCost:
    """What one password verification costs on this machine, with the app's own hasher.

    `seconds`: CPU time of one verification, one at a time (median). `parallel_rps` and
    `parallel_seconds`: verifications per second of wall time, and CPU time per verification,
    with `parallel` of them running at once on the app's (background-priority) hashing
    threads — what hashing alone reaches here, printed beside the ceiling the target uses
    (cores ÷ one hash). On a quiet machine the two agree; other load lowers the measured one.
    """

    seconds: float
    parallel: int
    parallel_rps: float
    parallel_seconds: float


async def hash_cost(password: str, parallel: int) -> HashCost:
    """Measure `HashCost` (CPU time, not wall time, for the per-hash figures: on a busy machine
    a hash waits for a core, and that wait is not the hash's cost)."""
    hasher = PasswordHasher(threads=parallel)
    hashed = await hasher.hash(password)
    samples = []
    for _ in range(HASH_SAMPLES):
        started = time.process_time()  # every thread of this process: the hash runs in one
        await hasher.verify(password, hashed)
        samples.append(time.process_time() - started)
    count = HASH_SAMPLES * parallel
    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(hasher.verify(password, hashed) for _ in range(count)))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return HashCost(statistics.median(samples), parallel, count / wall, cpu / count)


class Session:
    """One worker count: the app and the reference side by side, every scenario."""

    def __init__(
        self,
        app: AppServer,
        reference: ReferenceServer,
        seeded: Seeded,
        secret: str,
        options: Options,
        hash_cost: HashCost,
        log: Callable[[str], None],
        result: SessionResult | None = None,
        ladder: Mapping[str, Server] | None = None,
    ) -> None:
        self.app, self.reference, self.seeded = app, reference, seeded
        self.ladder = dict(ladder or {})  # rung -> its server (bench/ladder.py)
        self.servers: dict[str, Server] = {"app": app, "reference": reference}
        self.servers |= {f"ladder:{rung}": server for rung, server in self.ladder.items()}
        self.hash_cost = hash_cost
        self.options, self.log = options, log
        self.workers = app.workers
        self.result = result or SessionResult(workers=app.workers)
        self.codec = CursorCodec(secret)
        self.member_token = login(app.base_url, seeded.member.email, seeded.password)
        self.admin_token = login(app.base_url, seeded.admin.email, seeded.password)
        self.load = Load(options.connections, options.threads, options.seconds)

    # -- measuring ------------------------------------------------------------------------

    def _check(self, base_url: str, request: Request) -> str | None:
        """One request first: a broken endpoint is reported, not measured at 404 speed."""
        status, body = http(
            base_url + request.path,
            method=request.method,
            headers=request.headers,
            body=request.body.encode() if request.body is not None else None,
        )
        if 200 <= status < 300:
            return None
        return f"skipped: HTTP {status} {str(body)[:120]}"

    def _run(self, base_url: str, requests: Sequence[Request], load: Load) -> WrkResult:
        return WrkRun(base_url, requests, load).result()

    def _run_counting_cpu(
        self, server: str, requests: Sequence[Request], load: Load
    ) -> tuple[WrkResult, float]:
        """One run, and the CPU seconds the server's workers used meanwhile: a cost per
        request that other processes on a shared machine barely disturb."""
        pids = self.servers[server].worker_pids()
        before = cpu_ticks(pids)
        result = self._run(self._url(server), requests, load)
        return result, (cpu_ticks(pids) - before) / CLOCK_TICKS

    def _warm(self, base_url: str, requests: Sequence[Request], load: Load) -> None:
        if self.options.warmup_seconds > 0:
            warm = Load(load.connections, load.threads, self.options.warmup_seconds)
            self._run(base_url, requests, warm)

    def _url(self, server: str) -> str:
        return self.servers[server].base_url

    def measure(
        self, scenario: str, server: str, requests: Sequence[Request], load: Load | None = None
    ) -> Row:
        """One measurement on its own (warm-up, then one run)."""
        return self.interleave([(scenario, server, requests)], load, rounds=1)[0]

    def interleave(
        self,
        runs: Sequence[tuple[str, str, Sequence[Request]]],
        load: Load | None = None,
        rounds: int | None = None,
    ) -> list[Row]:
        """Measure several (scenario, server, requests) in alternation: `rounds` short runs
        each, A B A B..., so drifting background load hits every side alike. Requests/s is
        the total over all rounds; p50 and p99 are the median of the rounds'."""
        load = load or self.load
        rounds = rounds or self.options.rounds
        chunk = Load(load.connections, load.threads, max(1.0, load.seconds / rounds))
        results: dict[int, list[WrkResult]] = {}
        cpu: dict[int, float] = {}
        notes: dict[int, str] = {}
        for index, (_, server, requests) in enumerate(runs):
            note = self._check(self._url(server), requests[0])
            if note is None:
                self._warm(self._url(server), requests, chunk)
                results[index], cpu[index] = [], 0.0
            else:
                notes[index] = note
        for _ in range(rounds):
            for index in results:
                _, server, requests = runs[index]
                result, cpu_seconds = self._run_counting_cpu(server, requests, chunk)
                results[index].append(result)
                cpu[index] += cpu_seconds
        rows = []
        for index, (scenario, server, _) in enumerate(runs):
            if index in notes:
                row = Row(scenario, self.workers, server, note=notes[index])
            else:
                row = Row.merged(scenario, self.workers, server, results[index], cpu[index])
            self.log(_row_line(row))
            rows.append(row)
        self.result.rows += rows
        return rows

    def pair(
        self, scenario: str, reference: Sequence[Request], app: Sequence[Request]
    ) -> tuple[Row, Row]:
        """The reference and the app, interleaved; the app's ratio is to the reference."""
        ref_row, app_row = self.interleave(
            [(scenario, "reference", reference), (scenario, "app", app)]
        )
        if ref_row.rps and app_row.rps:
            app_row.ratio = round(app_row.rps / ref_row.rps, 3)
            app_row.ratio_of = "reference rps"
        if ref_row.cpu_ms_per_request and app_row.cpu_ms_per_request:
            app_row.cpu_ratio = round(ref_row.cpu_ms_per_request / app_row.cpu_ms_per_request, 3)
        return ref_row, app_row

    # -- scenarios ------------------------------------------------------------------------

    def run_all(self, only: Sequence[str] = ()) -> SessionResult:
        """Every scenario but the uncached admin list, which needs an app with the response
        cache off (or those whose key is in `only`: 1, 2, 3, 4, 5, 8, cached, ladder)."""
        steps = {
            "5": self.health,
            "1": self.users_me,
            "cached": self.admin_list_cached,
            "2": self.messages,
            "3": self.post_message,
            "ladder": self.ladder_runs,
            "4": self.login_storm,
            "8": self.thread_list,
        }
        self.result.loadavg.append(load_average())
        self.result.rss_start_mb = [round(mb, 1) for mb in self.app.worker_rss_mb()]
        if not self.ladder:
            del steps["ladder"]  # the ladder runs at one worker count (bench/__main__.py)
        for key, step in steps.items():
            if not only or key in only:
                wait_idle(self.app.worker_pids())
                started = time.monotonic()
                step()
                self.log(f"  ({key}: {time.monotonic() - started:.0f} s)")
                self.result.rss_after_mb[key] = [round(mb, 1) for mb in self.app.worker_rss_mb()]
        wait_idle(self.app.worker_pids())
        self.result.loadavg.append(load_average())
        self.result.rss_mb = [round(mb, 1) for mb in self.app.worker_rss_mb()]
        return self.result

    def health(self) -> None:
        self.pair("5 health/live vs bare /health", [Request("/health")], [Request("/health/live")])

    def users_me(self) -> None:
        headers = bearer(self.member_token)
        self.pair(
            "1 GET /users/me", [Request("/me", headers=headers)],
            [Request(f"{API}/users/me", headers=headers)],
        )  # fmt: skip

    def admin_list(self) -> None:
        """Run on an app with CACHE_ENABLED=false (see bench/__main__.py): uncached."""
        headers = bearer(self.admin_token)
        self.pair(
            "admin list 100 of 10k +total, uncached",
            [Request("/users?limit=100", headers=headers)],
            [Request(f"{API}/users?limit=100", headers=headers)],
        )

    def admin_list_cached(self) -> None:
        """The same list as production serves it: `@cache` on, so mostly cache hits."""
        headers = bearer(self.admin_token)
        self.pair(
            "admin list, response cache on (hits)",
            [Request("/users?limit=100", headers=headers)],
            [Request(f"{API}/users?limit=100", headers=headers)],
        )

    def messages(self) -> None:
        headers = bearer(self.member_token)
        seeded = self.seeded
        cursor = deep_cursor(self.codec, seeded.large_thread, seeded.deep_key)
        small, large, deep = self.interleave(
            [
                (
                    "2a messages 1k thread, page 1",
                    "app",
                    [
                        Request(
                            f"{API}/threads/{seeded.small_thread}/messages?limit=50",
                            headers=headers,
                        )
                    ],
                ),
                (
                    "2b messages 1M thread, page 1",
                    "app",
                    [
                        Request(
                            f"{API}/threads/{seeded.large_thread}/messages?limit=50",
                            headers=headers,
                        )
                    ],
                ),
                (
                    "2c messages 1M thread, deep page",
                    "app",
                    [
                        Request(
                            f"{API}/threads/{seeded.large_thread}/messages?limit=50&cursor={cursor}",
                            headers=headers,
                        )
                    ],
                ),
            ]
        )
        for row in (large, deep):
            if row.p50_ms and small.p50_ms:
                row.ratio = round(row.p50_ms / small.p50_ms, 3)
                row.ratio_of = "1k-thread p50"

    def thread_list(self) -> None:
        """GET /threads with unread counts; the 1M-message thread (all unread) is on the page."""
        request = Request(f"{API}/threads?limit=50", headers=bearer(self.member_token))
        self.measure("8 GET /threads, unread counts (1M unread)", "app", [request])

    def post_message(self) -> None:
        requests = message_requests(str(self.seeded.write_thread), self.member_token)
        self.measure("3 POST message", "app", requests)

    def ladder_runs(self) -> None:
        """Each endpoint on every rung of the ladder and on the app, interleaved (bench/ladder.py).

        Each row's ratio is its requests/s over rung a's; its CPU ratio, rung a's CPU per
        request over its own (as the app/reference pairs)."""
        member, seeded = bearer(self.member_token), self.seeded
        small, write = seeded.small_thread, str(seeded.write_thread)
        endpoints = {
            "me": ([Request("/me", headers=member)], [Request(f"{API}/users/me", headers=member)]),
            "page": (
                [Request(f"/threads/{small}/messages?limit=50", headers=member)],
                [Request(f"{API}/threads/{small}/messages?limit=50", headers=member)],
            ),
            "post": (
                message_requests(write, self.member_token, prefix=""),
                message_requests(write, self.member_token),
            ),
        }
        for key, (rung_requests, app_requests) in endpoints.items():
            scenario = LADDER_SCENARIOS[key]
            runs = [(scenario, f"ladder:{rung}", rung_requests) for rung in self.ladder]
            load = Load(self.load.connections, self.load.threads, self.options.ladder_seconds)
            rows = self.interleave([*runs, (scenario, "app", app_requests)], load)
            base = rows[0]
            for row in rows:
                row.note = RUNG_LABELS.get(row.server.removeprefix("ladder:"), "app (Plinth)")
                if base.rps and row.rps:
                    row.ratio, row.ratio_of = round(row.rps / base.rps, 3), "rung a rps"
                if base.cpu_ms_per_request and row.cpu_ms_per_request:
                    row.cpu_ratio = round(base.cpu_ms_per_request / row.cpu_ms_per_request, 3)

    def login_storm(self) -> None:
        """Logins at full concurrency while a small client measures GET /users/me."""
        probe = [Request(f"{API}/users/me", headers=bearer(self.member_token))]
        probe_load = Load(PROBE_LOAD.connections, PROBE_LOAD.threads, self.options.seconds)
        alone = self.measure("4 users/me probe, alone", "app", probe, probe_load)
        logins = login_requests(self.seeded)
        note = self._check(self.app.base_url, logins[0])
        if note is not None:
            self.result.rows.append(Row("4 login storm", self.workers, "app", note=note))
            return
        pids = self.app.worker_pids()
        cpu_before = cpu_ticks(pids)
        storm_run = WrkRun(self.app.base_url, logins, self.load)
        time.sleep(min(1.0, self.options.seconds / 4))  # let the storm build up first
        probe_short = Load(probe_load.connections, probe_load.threads, self.options.seconds - 2)
        during_result = WrkRun(self.app.base_url, probe, probe_short).result()
        storm_result = storm_run.result()
        cpu_seconds = (cpu_ticks(pids) - cpu_before) / CLOCK_TICKS
        storm = Row.measured("4 login storm", self.workers, "app", storm_result)
        during = Row.measured("4 users/me probe, during storm", self.workers, "app", during_result)
        if storm_result.requests:
            # The probe's share of the CPU, at its cost per request when alone, is not logins'.
            probe_cpu = during_result.requests * (alone.cpu_ms_per_request or 0) / 1000
            login_cpu = max(cpu_seconds - probe_cpu, 0.0) / storm_result.requests
            storm.cpu_ms_per_request = round(login_cpu * 1000, 3)
            hash_cpu = self.hash_cost.parallel_seconds
            storm.cpu_ratio = round(hash_cpu / login_cpu, 3) if login_cpu else None
        if alone.p99_ms and during.p99_ms:
            during.ratio = round(during.p99_ms / alone.p99_ms, 3)
            during.ratio_of = "p99 alone"
        hash_s = self.hash_cost.seconds
        cores = os.cpu_count() or 1
        ceiling = min(self.workers * hashing_threads_per_worker(self.workers), cores) / hash_s
        measured = self.hash_cost.parallel_rps
        self.result.hash_ms = round(hash_s * 1000, 2)
        self.result.login_ceiling_rps = round(ceiling, 1)
        self.result.measured_ceiling_rps = round(measured, 1)
        if storm.rps:
            storm.ratio = round(storm.rps / ceiling, 3)
            storm.ratio_of = f"hash ceiling {ceiling:.1f}/s (hashing alone: {measured:.1f}/s)"
        for row in (storm, during):
            self.log(_row_line(row))
        self.result.rows += [storm, during]

    # -- profiling ------------------------------------------------------------------------

    def profile(self, scenario: str, output_dir: Path) -> Path | None:
        """Sample one worker with py-spy while wrk runs `scenario` on the app."""
        requests = self._requests_for(scenario)
        if requests is None:
            return None
        pid = self.app.worker_pids()[0]
        wait_idle(self.app.worker_pids())
        output_dir.mkdir(parents=True, exist_ok=True)
        slug = "".join(c if c.isalnum() else "-" for c in scenario).strip("-").lower()
        raw = output_dir / f"{slug}.raw.txt"
        spy = profile.record(pid, self.options.seconds, raw)
        time.sleep(0.5)
        WrkRun(self.app.base_url, requests, self.load).result()
        _, stderr = spy.communicate(timeout=self.options.seconds + 30)
        if not raw.exists():
            self.log(f"py-spy failed: {stderr.decode(errors='replace')[-400:]}")
            return None
        summary = output_dir / f"{slug}.txt"
        summary.write_text(
            f"{scenario} (workers={self.workers})\n" + profile.summarise(raw.read_text()).render()
        )
        return summary

    def _requests_for(self, scenario: str) -> list[Request] | None:
        member, admin, seeded = bearer(self.member_token), bearer(self.admin_token), self.seeded
        cursor = deep_cursor(self.codec, seeded.large_thread, seeded.deep_key)
        large = f"{API}/threads/{seeded.large_thread}/messages?limit=50"
        table: dict[str, list[Request]] = {
            "1": [Request(f"{API}/users/me", headers=member)],
            "5": [Request("/health/live")],
            "admin": [Request(f"{API}/users?limit=100", headers=admin)],
            "cached": [Request(f"{API}/users?limit=100", headers=admin)],
            "2a": [
                Request(f"{API}/threads/{seeded.small_thread}/messages?limit=50", headers=member)
            ],
            "2b": [Request(large, headers=member)],
            "2c": [Request(f"{large}&cursor={cursor}", headers=member)],
            "3": message_requests(str(seeded.write_thread), self.member_token),
            "4": login_requests(seeded),
        }
        return table.get(scenario.split()[0])


def load_average() -> float:
    """The 1-minute load average: how busy the machine was besides us (2 cores here)."""
    return float(Path("/proc/loadavg").read_text().split()[0])


def cpu_ticks(pids: Sequence[int]) -> int:
    """utime + stime of `pids` in clock ticks (from /proc)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total


def wait_idle(pids: Sequence[int], timeout: float = 15.0) -> None:
    """Wait until the workers stop burning CPU (requests queued by an earlier run drain)."""
    deadline = time.monotonic() + timeout
    before = cpu_ticks(pids)
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = cpu_ticks(pids)
        if now - before <= 2:  # at most ~2% of a core over 250 ms at 100 Hz
            return
        before = now


def _row_line(row: Row) -> str:
    if row.rps is None:
        return f"  {row.scenario:<41} {row.server:<18} {row.note}"
    ratio = f"  x{row.ratio} of {row.ratio_of}" if row.ratio is not None else ""
    cpu = f"  cpu {row.cpu_ms_per_request} ms/req" if row.cpu_ms_per_request else ""
    return (
        f"  {row.scenario:<41} {row.server:<18} {row.rps:>9.1f} rps  p50 {row.p50_ms:>7.2f} ms  "
        f"p99 {row.p99_ms:>8.2f} ms  errors {row.errors}{cpu}{ratio}"
    )


def as_dict(result: SessionResult) -> dict[str, Any]:
    return asdict(result)
