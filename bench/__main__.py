"""`python -m bench` (or `make bench`): the whole benchmark, end to end.

Starts a throwaway PostgreSQL and Redis (tests/servers.py), migrates and seeds once, then for
each worker count runs the app (compose/start: gunicorn + uvicorn workers, production
settings) beside the reference (uvicorn, same worker count) and every scenario of the first
and the hot-path rounds, with the ladder (bench/ladder.py) once at the smallest worker count.
Prints one table, writes bench/results/latest.json and the results section of bench/README.md,
and profiles the app with py-spy for every target it misses.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from bench import dbscale, files, realtime, report
from bench.ladder import RUNGS
from bench.runner import (
    Options,
    Session,
    SessionResult,
    app_environment,
    hash_cost,
    new_secret,
    reference_environment,
)
from bench.seed import LARGE_THREAD_MESSAGES, seed
from bench.stack import PROJECT_ROOT, AppServer, LadderServer, ReferenceServer
from tests.s3 import start_s3
from tests.servers import start_postgres, start_redis

PROFILES = PROJECT_ROOT / "bench" / "results" / "profiles"


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--workers", default="1,2", help="worker counts to run (default 1,2)")
    parser.add_argument(
        "--seconds", type=float, default=9.0, help="measured seconds per scenario and server"
    )
    parser.add_argument(
        "--ladder-seconds",
        type=float,
        default=6.0,
        help="measured seconds per ladder rung (and the app) per endpoint",
    )
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up before each run")
    parser.add_argument("--connections", type=int, default=32, help="wrk -c")
    parser.add_argument("--threads", type=int, default=2, help="wrk -t")
    parser.add_argument(
        "--rounds", type=int, default=3, help="interleaved rounds the seconds are split into"
    )
    parser.add_argument(
        "--messages", type=int, default=LARGE_THREAD_MESSAGES, help="size of the large thread"
    )
    parser.add_argument("--no-profile", action="store_true", help="skip py-spy on missed targets")
    parser.add_argument(
        "--only",
        default="",
        help="run only these scenarios (comma-separated: "
        "1,2,3,4,5,8,admin,cached,ladder,realtime,files,pgbouncer,replicas)",
    )
    parser.add_argument(
        "--profile", default="", help="also py-spy these scenarios (1,2a,2b,2c,3,4,5,admin,cached)"
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra app setting for a what-if run (repeatable; implies --no-readme)",
    )
    parser.add_argument(
        "--output", type=Path, default=report.RESULTS, help="where to write the JSON results"
    )
    parser.add_argument("--no-readme", action="store_true", help="leave bench/README.md untouched")
    return parser.parse_args(argv)


def log(line: str) -> None:
    print(line, flush=True)


def ensure_tools() -> None:
    env = {**os.environ, "PYTHON": sys.executable}
    script = PROJECT_ROOT / "bench" / "ensure-tools.sh"
    subprocess.run(["bash", str(script)], check=True, env=env)


def profile_misses(
    session: Session,
    uncached: Session | None,
    result: SessionResult,
    output_dir: Path,
    extra: set[str],
) -> list[str]:
    """py-spy the app on each scenario whose target was missed; returns the summary paths."""
    missed = {t.scenario for t in report.targets(result) if t.met is False and t.scenario}
    written = []
    for stale in output_dir.glob("*.txt"):
        stale.unlink()
    for scenario in sorted(missed | extra):
        log(f"profiling scenario {scenario} ...")
        target = uncached if scenario == "admin" and uncached is not None else session
        path = target.profile(scenario, output_dir)
        if path is not None:
            written.append(str(path.relative_to(PROJECT_ROOT)))
            log(path.read_text())
    return written


@contextlib.contextmanager
def _s3_server(wanted: bool) -> Iterator[dict[str, str]]:
    """moto's S3 on loopback for the files scenario (the STORAGE_* settings that point the app
    at it, with a quota its uploads never reach); nothing when that scenario is left out."""
    if not wanted:
        yield {}
        return
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's line per request
    server = start_s3()
    try:
        yield {**server.env(), "STORAGE_USER_QUOTA_BYTES": str(1 << 40)}
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    started = time.monotonic()
    ensure_tools()
    options = Options(
        args.seconds, args.warmup, args.connections, args.threads, args.rounds, args.ladder_seconds
    )
    worker_counts = [int(w) for w in args.workers.split(",") if w.strip()]
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    extra_profiles = {s.strip() for s in args.profile.split(",") if s.strip()}
    extra_env = dict(item.split("=", 1) for item in args.env)
    sessions: list[SessionResult] = []
    realtime_results: dict[int, dict[str, object]] = {}
    files_results: dict[int, dict[str, object]] = {}
    with_files = not only or "files" in only
    profiles: list[str] = []
    with (
        tempfile.TemporaryDirectory(prefix="plinth-bench-") as tmp,
        start_postgres() as pg,
        start_redis() as redis,
        _s3_server(with_files) as s3_env,
    ):
        database_url = pg.create_database("plinth_bench")
        log(f"seeding {database_url} ...")
        seeded = asyncio.run(seed(database_url, args.messages))
        log("  " + ", ".join(f"{k} {v:.1f}s" for k, v in seeded.seconds.items()))
        hashing = asyncio.run(hash_cost(seeded.password, os.cpu_count() or 1))
        secret = new_secret()
        for workers in worker_counts:
            log(f"\n== {workers} worker(s)")
            data_dir = Path(tmp) / f"w{workers}"
            data_dir.mkdir()
            app_env = app_environment(database_url, redis.url(), secret, data_dir)
            app_env.update(s3_env)
            app_env.update(extra_env)
            ref_env = reference_environment(database_url, secret, redis.url())
            with contextlib.ExitStack() as servers:
                app = servers.enter_context(AppServer(workers, app_env, data_dir))
                reference = servers.enter_context(ReferenceServer(workers, ref_env, data_dir))
                ladder = {}
                if workers == min(worker_counts) and (not only or "ladder" in only):
                    # The ladder runs once, at the smallest worker count (its targets are at 1).
                    for rung in RUNGS:
                        server = LadderServer(rung, workers, ref_env, data_dir)
                        ladder[rung] = servers.enter_context(server)
                session = Session(
                    app, reference, seeded, secret, options, hashing, log, ladder=ladder
                )
                try:
                    result = session.run_all(only)
                except Exception:
                    log(f"app log tail:\n{app.log_tail()}")
                    raise
                if workers == min(worker_counts) and (not only or set(only) & set(dbscale.KEYS)):
                    dbscale.run(session, servers, pg, app_env, data_dir, only)
                sessions.append(result)
                if workers == max(worker_counts) and (not only or "realtime" in only):
                    realtime_results[workers] = asdict(realtime.run(app, seeded, secret, log))
                if workers == max(worker_counts) and with_files:
                    files_results[workers] = asdict(files.run(app, seeded, secret, log))
                uncached: Session | None = None
                if not only or "admin" in only:
                    # The admin list uncached: the same app with the response cache off.
                    nocache_env = {**app_env, "CACHE_ENABLED": "false"}
                    nocache_app = servers.enter_context(
                        AppServer(workers, nocache_env, data_dir, label="-nocache")
                    )
                    uncached = Session(
                        nocache_app, reference, seeded, secret, options, hashing, log, result
                    )
                    uncached.admin_list()
                if workers == 1 and not args.no_profile:
                    profiles = profile_misses(session, uncached, result, PROFILES, extra_profiles)
        postgres_version = seeded.postgres_version
    one_worker = next((s for s in sessions if s.workers == 1), sessions[0])
    checks = (
        report.targets(one_worker)
        + report.realtime_targets(realtime_results)
        + report.files_targets(files_results)
    )
    info = report.machine(postgres_version)
    meta = {
        "finished": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "wall_seconds": round(time.monotonic() - started, 1),
        "seconds": options.seconds,
        "warmup_seconds": options.warmup_seconds,
        "connections": options.connections,
        "threads": options.threads,
        "rounds": options.rounds,
        "ladder_seconds": options.ladder_seconds,
        "large_thread_messages": args.messages,
        "seed_seconds": {k: round(v, 2) for k, v in seeded.seconds.items()},
        "profiles": profiles,
        "extra_env": extra_env,
        "realtime": realtime_results,
        "files": files_results,
    }
    text = report.markdown(sessions, checks, info, meta)
    print("\n" + text)
    report.write_json(sessions, checks, info, meta, args.output)
    if not args.no_readme and not extra_env:
        report.update_readme(text)
    log(f"\nwrote {args.output}; total {meta['wall_seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
