"""The hot-path targets, the tables, bench/results/latest.json and the README section."""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.runner import LADDER, Row, SessionResult, Target

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "results" / "latest.json"
README = BENCH_DIR / "README.md"
START, END = "<!-- bench:results:start -->", "<!-- bench:results:end -->"
RSS_LIMIT_MB = 150


def _find(rows: Sequence[Row], prefix: str, server: str = "app") -> Row | None:
    return next((r for r in rows if r.scenario.startswith(prefix) and r.server == server), None)


def _check(
    name: str,
    value: float | None,
    wanted: str,
    limit: float,
    scenario: str,
    cpu: float | None = None,
) -> Target:
    """`value` against `limit`; `wanted` is one of ">=", "<=", "<"."""
    compare = {">=": float.__ge__, "<=": float.__le__, "<": float.__lt__}[wanted]
    met = None if value is None else compare(float(value), limit)
    return Target(name, value, f"{wanted} {limit:g}", met, scenario, cpu)


def _ratio(top: float | None, bottom: float | None) -> float | None:
    return round(top / bottom, 3) if top is not None and bottom else None


def _get(row: Row | None, attribute: str) -> Any:
    return getattr(row, attribute) if row is not None else None


REALTIME_P99_MS = 50.0
REALTIME_IDLE_KB = 20.0


FILES_CPU_RATIO = 1.5
"""The app's CPU per 10 MB upload at most this many times its CPU per 1 KB upload."""


def files_targets(files: dict[int, dict[str, Any]]) -> list[Target]:
    """The files target (issue 25): the app's CPU per upload does not grow with the file's
    size (start + presigned POST to S3 + confirm, 10 MB ÷ 1 KB), with no failed upload."""
    if not files:
        return []
    run = files[max(files)]
    ratio = "files: CPU per upload, 10 MB ÷ 1 KB"
    return [
        _check(ratio, run.get("ratio"), "<=", FILES_CPU_RATIO, "files"),
        _check("files: failed uploads", run.get("errors"), "<=", 0, "files"),
    ]


def realtime_targets(realtime: dict[int, dict[str, Any]]) -> list[Target]:
    """The event-stream targets, from the run at the largest worker count: fan-out p99 from
    commit to receipt ≤ 50 ms (judged on the client's time from the row's `created_at`, set just
    before the commit: an upper bound; the workers' publish → written and the time from the
    POST's start are reported beside it), ≤ 20 KB per idle socket, no errors."""
    if not realtime:
        return []
    run = realtime[max(realtime)]
    return [
        _check(
            "6 fan-out p99, commit → receipt (ms, from created_at)",
            run.get("row_p99_ms"),
            "<=",
            REALTIME_P99_MS,
            "6",
        ),
        _check(
            "6 fan-out p99, workers' publish → written (ms)",
            run.get("server_p99_ms"),
            "<=",
            REALTIME_P99_MS,
            "6",
        ),
        _check(
            "7 idle socket memory (KB each)",
            run.get("idle_kb_per_connection"),
            "<=",
            REALTIME_IDLE_KB,
            "7",
        ),
        _check("6/7 event-stream errors", run.get("errors"), "<=", 0, "6"),
    ]


def targets(session: SessionResult) -> list[Target]:
    """Every target of the hot-path round, from the 1-worker session."""
    rows = session.rows
    me, me_ref = _find(rows, "1 "), _find(rows, "1 ", "reference")
    ladder_me, rung_d = _find(rows, "L1 "), _find(rows, "L1 ", "ladder:middlewares")
    cached, cached_ref = _find(rows, "admin list, "), _find(rows, "admin list, ", "reference")
    health, listing = _find(rows, "5 "), _find(rows, "admin list 100")
    page, post = _find(rows, "2a"), _find(rows, "3 ")
    large, deep = _find(rows, "2b"), _find(rows, "2c")
    storm, during = _find(rows, "4 login"), _find(rows, "4 users/me probe, during")
    worst_rss = max(session.rss_mb) if session.rss_mb else None
    errors = sum(r.errors or 0 for r in rows if r.server == "app")
    cpu = "cpu_ms_per_request"
    return [
        _check(
            "1 users/me CPU/req / ladder rung d (ORM + Redis + middlewares)",
            _ratio(_get(ladder_me, cpu), _get(rung_d, cpu)), "<=", 1.25, "1",
        ),
        _check(
            "1 users/me rps / reference", _get(me, "ratio"), ">=", 0.3, "1", _get(me, "cpu_ratio")
        ),
        _check(
            "1 users/me p99 / reference p99",
            _ratio(_get(me, "p99_ms"), _get(me_ref, "p99_ms")), "<=", 3.0, "1",
        ),
        _check("1 users/me errors", _get(me, "errors"), "<=", 0, "1"),
        _check(
            "cache hit CPU/req / uncached reference CPU/req (admin list)",
            _ratio(_get(cached, cpu), _get(cached_ref, cpu)), "<", 1.0, "cached",
        ),
        _check("2 messages page of 50, CPU ms/req", _get(page, cpu), "<=", 2.0, "2a"),
        _check("3 POST message, CPU ms/req", _get(post, cpu), "<=", 2.5, "3"),
        _check(
            "admin list (uncached) rps / reference", _get(listing, "ratio"), ">=", 0.6, "admin",
            _get(listing, "cpu_ratio"),
        ),
        _check(
            "5 health/live rps / bare /health", _get(health, "ratio"), ">=", 0.8, "5",
            _get(health, "cpu_ratio"),
        ),
        _check(
            "4 login rps / hash ceiling", _get(storm, "ratio"), ">=", 0.75, "4",
            _get(storm, "cpu_ratio"),
        ),
        _check("2 1M page-1 p50 / 1k page-1 p50", _get(large, "ratio"), "<=", 1.2, "2b"),
        _check("2 1M deep-page p50 / 1k page-1 p50", _get(deep, "ratio"), "<=", 1.2, "2c"),
        _check("4 users/me p99 during storm / alone", _get(during, "ratio"), "<=", 2.0, "4"),
        _check("RSS per worker (MB)", worst_rss, "<", RSS_LIMIT_MB, ""),
        _check("app errors, all scenarios", errors, "<=", 0, ""),
        *_db_scale_targets(rows),
    ]  # fmt: skip


def _db_scale_targets(rows: Sequence[Row]) -> list[Target]:
    """PgBouncer and replica apps against the direct one (bench/dbscale.py)."""
    checks = []
    for key, server, limit in (("pgbouncer", "pgbouncer", 0.85), ("replicas", "replica", 0.9)):
        for name in ("GET /users/me", "messages page of 50"):
            row = _find(rows, f"{key} {name}", server)
            checks.append(
                _check(f"{key}: {name} rps / direct", _get(row, "ratio"), ">=", limit, "")
            )
        measured = any(r.server == server for r in rows)
        errors = sum(r.errors or 0 for r in rows if r.server == server) if measured else None
        checks.append(_check(f"{key}: errors", errors, "<=", 0, ""))
    return checks


def _fmt(value: float | int | None, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}f}"


def table(sessions: Sequence[SessionResult]) -> str:
    """A Markdown table: one row per scenario, server and worker count."""
    lines = [
        "| scenario | workers | server | req/s | p50 ms | p99 ms | errors | ratio | ratio of "
        "| CPU ms/req | CPU ratio |",
        "|---|---:|---|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for session in sessions:
        for r in session.rows:
            if r.scenario.startswith(LADDER):
                continue  # in the ladder's own table
            lines.append(
                f"| {r.scenario} | {r.workers} | {r.server} | {_fmt(r.rps)} | {_fmt(r.p50_ms, 2)} "
                f"| {_fmt(r.p99_ms, 2)} | {_fmt(r.errors)} | {_fmt(r.ratio, 2)} "
                f"| {r.ratio_of or r.note} | {_fmt(r.cpu_ms_per_request, 2)} "
                f"| {_fmt(r.cpu_ratio, 2)} |"
            )
    return "\n".join(lines)


def ladder_tables(sessions: Sequence[SessionResult]) -> str:
    """One table per ladder endpoint: each rung, then the app; CPU relative to rung a."""
    blocks = []
    for session in sessions:
        scenarios = dict.fromkeys(r.scenario for r in session.rows if r.scenario.startswith(LADDER))
        for scenario in scenarios:
            rows = [r for r in session.rows if r.scenario == scenario]
            base = rows[0].cpu_ms_per_request
            lines = [
                f"**{scenario.split(' ', 1)[1]}** ({session.workers} worker(s))",
                "",
                "| rung | req/s | p50 ms | p99 ms | errors | CPU ms/req | CPU / reference |",
                "|---|---:|---:|---:|---:|---:|---:|",
            ]
            for r in rows:
                relative = _ratio(r.cpu_ms_per_request, base)
                label = r.note or r.server
                lines.append(
                    f"| {label} | {_fmt(r.rps)} | {_fmt(r.p50_ms, 2)} | {_fmt(r.p99_ms, 2)} "
                    f"| {_fmt(r.errors)} | {_fmt(r.cpu_ms_per_request, 2)} | {_fmt(relative, 2)} |"
                )
            blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def targets_table(checks: Sequence[Target]) -> str:
    lines = [
        "| target (1 worker) | measured | wanted | holds | same ratio by CPU/request |",
        "|---|---:|---|---|---:|",
    ]
    for t in checks:
        holds = {True: "yes", False: "**no**", None: "not measured"}[t.met]
        value = _fmt(t.value, 2) if isinstance(t.value, float) else _fmt(t.value)
        lines.append(f"| {t.name} | {value} | {t.limit} | {holds} | {_fmt(t.cpu_value, 2)} |")
    return "\n".join(lines)


def extras(sessions: Sequence[SessionResult]) -> str:
    lines = []
    for s in sessions:
        rss = ", ".join(f"{mb:.0f}" for mb in s.rss_mb) or "-"
        rss_start = ", ".join(f"{mb:.0f}" for mb in s.rss_start_mb) or "-"
        load = " → ".join(f"{x:.1f}" for x in s.loadavg) or "-"
        steps = "; ".join(
            f"after {key}: {', '.join(f'{mb:.0f}' for mb in values)}"
            for key, values in s.rss_after_mb.items()
        )
        lines.append(
            f"- {s.workers} worker(s): RSS per worker after the run {rss} MB (after start-up "
            f"{rss_start} MB); one password "
            f"hash {_fmt(s.hash_ms, 1)} ms, login ceiling {_fmt(s.login_ceiling_rps)} logins/s "
            f"(hashing alone reached {_fmt(s.measured_ceiling_rps)}); "
            f"1-minute load average {load}"
        )
        if steps:
            lines.append(f"  - RSS (MB) per worker {steps}")
    return "\n".join(lines)


def _command_version(command: Sequence[str], pattern: str = r"[\d.]+\S*") -> str:
    binary = shutil.which(command[0]) or command[0]
    try:
        out = subprocess.run(
            [binary, *command[1:]], capture_output=True, text=True, timeout=10, check=False
        )
    except OSError:
        return "?"
    match = re.search(pattern, out.stdout + out.stderr)
    return match.group(0) if match else "?"


def machine(postgres_version: str) -> dict[str, Any]:
    """What the numbers were measured on."""
    cpuinfo = Path("/proc/cpuinfo").read_text(errors="replace")
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    meminfo = Path("/proc/meminfo").read_text()
    mem_kb = re.search(r"^MemTotal:\s+(\d+)", meminfo, re.M)
    return {
        "nproc": os.cpu_count(),
        "cpu": model.group(1).strip() if model else platform.processor() or "?",
        "ram_gb": round(int(mem_kb.group(1)) / 1024 / 1024, 1) if mem_kb else None,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "postgresql": postgres_version,
        "redis": _command_version(["redis-server", "--version"], r"v=([\d.]+)"),
        "wrk": _command_version(["wrk", "-v"], r"wrk (\S+)"),
    }


def machine_line(info: dict[str, Any]) -> str:
    return (
        f"{info['nproc']} CPUs ({info['cpu']}), {info['ram_gb']} GB RAM, Linux {info['kernel']}, "
        f"Python {info['python']}, PostgreSQL {info['postgresql']}, Redis {info['redis']}, "
        f"wrk {info['wrk']}"
    )


def write_json(
    sessions: Sequence[SessionResult],
    checks: Sequence[Target],
    info: dict[str, Any],
    meta: dict[str, Any],
    path: Path = RESULTS,
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "machine": info,
        "run": meta,
        "results": [
            {**asdict(r), "ratio_to_reference": r.ratio if r.ratio_of == "reference rps" else None}
            for s in sessions
            for r in s.rows
        ],
        "sessions": [{k: v for k, v in asdict(s).items() if k != "rows"} for s in sessions],
        "targets": [asdict(t) for t in checks],
    }
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")


def markdown(
    sessions: Sequence[SessionResult],
    checks: Sequence[Target],
    info: dict[str, Any],
    meta: dict[str, Any],
) -> str:
    parts = [
        f"Measured {meta['finished']} in {meta['wall_seconds']:.0f} s "
        f"(wrk -t{meta['threads']} -c{meta['connections']}, {meta['seconds']:g} s per run "
        f"after a {meta['warmup_seconds']:g} s warm-up; the ladder "
        f"{meta.get('ladder_seconds', meta['seconds']):g} s per rung and endpoint).",
        f"Machine: {machine_line(info)}.",
        table(sessions),
        ladder_tables(sessions),
        targets_table(checks),
        extras(sessions),
    ]
    return "\n\n".join(part for part in parts if part)


def update_readme(text: str, path: Path = README) -> None:
    """Replace the results section of bench/README.md (between the markers)."""
    if not path.exists():
        return
    readme = path.read_text()
    if START not in readme or END not in readme:
        return
    head, _, rest = readme.partition(START)
    _, _, tail = rest.partition(END)
    path.write_text(f"{head}{START}\n{text}\n{END}{tail}")
