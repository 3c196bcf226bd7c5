"""Throwaway PostgreSQL and Redis servers for the test suite and the benchmarks.

Stdlib only.  Every server gets a free loopback port, listens on 127.0.0.1 only,
keeps its data in a temporary directory that is deleted on ``stop()``, and is
stopped at interpreter exit (``atexit``).  If this process dies without running
``atexit`` (SIGKILL, SIGTERM, OOM), a tiny watchdog process -- this file run with
``--watchdog`` -- notices the closed pipe, kills the server and deletes its data.

PostgreSQL refuses to run as root, so when euid is 0 ``initdb``/``postgres`` run as
the ``postgres`` OS user (or a ``plinth-pg`` system user created on demand).

    with start_postgres() as pg, start_redis() as redis:
        database_url = pg.create_database("plinth_test")
        redis_url = redis.url()

Smoke test: ``python tests/servers.py``.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple, Protocol, Self
from urllib.parse import quote

__all__ = [
    "PgBouncerServer",
    "PostgresServer",
    "RedisClusterSet",
    "RedisSentinelSet",
    "RedisServer",
    "ServerStartError",
    "ServerUnavailable",
    "redis_server_binary",
    "start_pgbouncer",
    "start_postgres",
    "start_redis",
    "start_redis_cluster",
    "start_redis_sentinel",
    "start_replica",
]

HOST = "127.0.0.1"
PG_USER = "plinth"
PG_PASSWORD = "plinth"
PG_FALLBACK_OS_USER = "plinth-pg"
PG_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "300",
    "shared_buffers": "128MB",
}
START_TIMEOUT = 30.0  # seconds; startup normally takes well under 2 s
STOP_TIMEOUT = 10.0
PORT_ATTEMPTS = 3  # a freshly probed free port can be stolen before the server binds it
UNIX_SOCKET_PATH_MAX = 100  # sun_path is 108 bytes including ".s.PGSQL.NNNNN"

PG_VERSION = 15
PG_BINDIR_VARIABLE = "PLINTH_TEST_POSTGRES_BINDIR"
REDIS_BINARY_VARIABLE = "PLINTH_TEST_REDIS_SERVER"
PG_INSTALL_HINT = (
    "PostgreSQL server binaries (initdb, postgres) were not found in $PLINTH_TEST_POSTGRES_BINDIR, "
    "/usr/lib/postgresql/15/bin, on PATH or in /usr/lib/postgresql/*/bin. Install PostgreSQL 15: "
    "run `scripts/ensure-postgres.sh` as root, or `apt-get install -y postgresql-15` (Debian 12)."
)
PSQL_INSTALL_HINT = (
    "psql was not found next to initdb or on PATH. Install it: "
    "`apt-get install -y postgresql-client-15`."
)
REDIS_INSTALL_HINT = (
    "redis-server was not found ($PLINTH_TEST_REDIS_SERVER, PATH, /usr/bin). Install it: "
    "run `scripts/ensure-redis.sh` as root, "
    "or `apt-get install -y redis-server` (Debian/Ubuntu; the system service is not needed), "
    "or `brew install redis` (macOS)."
)
PGBOUNCER_INSTALL_HINT = (
    "pgbouncer was not found (PATH, /usr/sbin). Install it: run `scripts/ensure-pgbouncer.sh` "
    "as root, or `apt-get install -y pgbouncer` (Debian/Ubuntu; the service is not needed)."
)
REDIS_FALLBACK_PATHS = ("/usr/bin/redis-server", "/usr/local/bin/redis-server")


class ServerUnavailable(RuntimeError):
    """A server binary (or the OS user needed to run it) is missing; the message says the fix."""


class ServerStartError(RuntimeError):
    """The binaries exist but the server failed to start; the message includes its log."""


class _PortInUseError(Exception):
    """Internal: the probed port was taken before the server could bind it."""


class _Stoppable(Protocol):
    def stop(self) -> None: ...


class _RunAs(NamedTuple):
    """The unprivileged OS user that runs PostgreSQL when we are root."""

    name: str
    uid: int
    gid: int
    groups: list[int]


# --------------------------------------------------------------------------- helpers

_live_lock = threading.Lock()
_live: set[_Stoppable] = set()


def _register(server: _Stoppable) -> None:
    with _live_lock:
        _live.add(server)


def _unregister(server: _Stoppable) -> None:
    with _live_lock:
        _live.discard(server)


def _forget_after_fork() -> None:
    """In a fork()ed child: the servers belong to the parent; never stop them at exit."""
    _live.clear()
    for watchdog in list(_watchdogs):
        watchdog.detach()


@atexit.register
def _stop_all() -> None:
    """Stop every server still running when the interpreter exits."""
    with _live_lock:
        servers = list(_live)
    for server in servers:
        with contextlib.suppress(Exception):
            server.stop()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _make_root(prefix: str, base_dir: Path | None) -> Path:
    if base_dir is not None:
        base_dir.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=base_dir))


def _tail(path: Path, offset: int = 0, lines: int = 30) -> str:
    try:
        with path.open("rb") as log:
            log.seek(offset)
            text = log.read().decode(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _is_alive(pid: int) -> bool:
    """True if ``pid`` runs (zombies count as dead: PID 1 may never reap them)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
        return stat.rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")
    except (OSError, IndexError):
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _signal_and_wait(pid: int, sig: int, timeout: float) -> bool:
    """Send ``sig`` to ``pid`` and wait until it is gone; return True if it is."""
    with contextlib.suppress(OSError):
        os.kill(pid, sig)
    deadline = time.monotonic() + timeout
    while _is_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _kill(pid: int, sig: int, timeout: float = STOP_TIMEOUT) -> None:
    """Stop ``pid`` with ``sig``, escalating to SIGKILL after ``timeout`` seconds."""
    if pid > 0 and not _signal_and_wait(pid, sig, timeout):
        _signal_and_wait(pid, signal.SIGKILL, 2.0)


def _stop_child(proc: subprocess.Popen[bytes], sig: int, then: int) -> None:
    """Stop our child with ``sig``; after STOP_TIMEOUT send ``then``, then SIGKILL; reap it."""
    for signum, timeout in ((sig, STOP_TIMEOUT), (then, 5.0), (signal.SIGKILL, None)):
        with contextlib.suppress(OSError):
            proc.send_signal(signum)
        try:
            proc.wait(timeout=timeout)
            return
        except subprocess.TimeoutExpired:
            continue


# --------------------------------------------------------------------------- watchdog


class _Watchdog:
    """Out-of-process janitor: kills the server and removes its data if this process dies.

    It reads commands (``pid N``, ``pidfile PATH``, ``signal N``, ``dir PATH``) from a pipe
    whose only writer is this process.  ``done`` dismisses it; EOF without ``done`` means we
    died, so it cleans up.  It lives in its own session, so Ctrl-C or killing our process
    group does not take it down with us.
    """

    def __init__(self) -> None:
        read_fd, self._write_fd = os.pipe()  # non-inheritable: other children won't hold it
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-I", "-S", str(Path(__file__).resolve()), "--watchdog"],
                stdin=read_fd,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            os.close(read_fd)
        _watchdogs.add(self)

    def detach(self) -> None:
        """Close our pipe end without dismissing (used in fork()ed children)."""
        if self._write_fd >= 0:
            os.close(self._write_fd)
            self._write_fd = -1

    def tell(self, command: str, argument: object) -> None:
        if self._write_fd >= 0:
            with contextlib.suppress(OSError):
                os.write(self._write_fd, f"{command} {argument}\n".encode())

    def dismiss(self) -> None:
        if self._write_fd < 0:
            return
        with contextlib.suppress(OSError):
            os.write(self._write_fd, b"done\n")
        os.close(self._write_fd)
        self._write_fd = -1
        _watchdogs.discard(self)
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()


_watchdogs: weakref.WeakSet[_Watchdog] = weakref.WeakSet()
os.register_at_fork(after_in_child=_forget_after_fork)


def _watchdog_main() -> int:
    """Entry point of the watchdog process (``servers.py --watchdog``)."""
    for sig in (signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    state = {"pid": "0", "pidfile": "", "signal": str(int(signal.SIGTERM)), "dir": ""}
    for line in sys.stdin:
        command, _, argument = line.rstrip("\n").partition(" ")
        if command == "done":
            return 0
        state[command] = argument
    pid = int(state["pid"])
    if pid <= 0 and state["pidfile"]:
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int(Path(state["pidfile"]).read_text().split()[0])
    _kill(pid, int(state["signal"]))
    if state["dir"]:
        shutil.rmtree(state["dir"], ignore_errors=True)
    return 0


# --------------------------------------------------------------------------- PostgreSQL


def _pg_candidates() -> list[Path]:
    """Where to look for initdb and postgres: PLINTH_TEST_POSTGRES_BINDIR alone when set, else
    Debian's PostgreSQL 15 (/usr/lib/postgresql/15/bin, not on PATH), PATH, other versions."""
    explicit = os.environ.get(PG_BINDIR_VARIABLE)
    if explicit:
        return [Path(explicit)]
    candidates = [Path(f"/usr/lib/postgresql/{PG_VERSION}/bin")]
    initdb = shutil.which("initdb")
    if initdb:
        candidates += [Path(initdb).resolve().parent, Path(initdb).parent]
    versions = Path("/usr/lib/postgresql").glob("*/bin")
    candidates += sorted(versions, key=lambda p: int(re.sub(r"\D", "", p.parent.name) or 0))[::-1]
    return candidates


def _pg_bindir() -> Path:
    """Directory holding initdb and postgres (see `_pg_candidates`)."""
    for bindir in _pg_candidates():
        if all(os.access(bindir / tool, os.X_OK) for tool in ("initdb", "postgres")):
            return bindir
    raise ServerUnavailable(PG_INSTALL_HINT)


def _psql_binary(bindir: Path) -> str:
    if os.access(bindir / "psql", os.X_OK):
        return str(bindir / "psql")  # skips Debian's Perl pg_wrapper in /usr/bin
    found = shutil.which("psql")
    if found is None:
        raise ServerUnavailable(PSQL_INSTALL_HINT)
    return found


def _create_system_user(name: str) -> None:
    """Create an unprivileged system user (``useradd --system --no-create-home``)."""
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    cmd = [useradd, "--system", "--no-create-home", "--user-group"]
    cmd += ["--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", name]
    try:
        subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)  # created concurrently by another test process
            return
        detail = getattr(exc, "stderr", None) or exc
        raise ServerUnavailable(
            f"PostgreSQL refuses to run as root, no 'postgres' OS user exists, and creating "
            f"'{name}' failed ({detail!s}). Create it: `useradd --system --no-create-home {name}`."
        ) from exc


def _lookup_user(name: str) -> _RunAs | None:
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return None
    if entry.pw_uid == 0:
        return None
    return _RunAs(name, entry.pw_uid, entry.pw_gid, os.getgrouplist(name, entry.pw_gid))


def _pg_run_as() -> _RunAs | None:
    """The OS user to run PostgreSQL as: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    run_as = _lookup_user("postgres") or _lookup_user(PG_FALLBACK_OS_USER)
    if run_as is None:
        _create_system_user(PG_FALLBACK_OS_USER)
        run_as = _lookup_user(PG_FALLBACK_OS_USER)
    if run_as is None:
        raise ServerUnavailable(f"Could not find or create OS user {PG_FALLBACK_OS_USER!r}.")
    return run_as


def _pg_env(run_as: _RunAs | None, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C"
    if run_as is not None:
        env.update(HOME=str(home), USER=run_as.name, LOGNAME=run_as.name)
    return env


class PostgresServer:
    """A throwaway PostgreSQL cluster on 127.0.0.1 (context manager; stop() is idempotent;
    halt() and resume() take it down and bring it back on the same port).

    Authentication is ``trust`` (loopback only); ``user``/``password`` still appear in
    every URL and the password is really set, so switching auth methods needs no change.
    """

    host: str
    port: int
    user: str
    password: str
    os_user: str  # the OS account running the postmaster

    def __init__(self, root: Path, bindir: Path, run_as: _RunAs | None) -> None:
        self.host, self.port, self.user, self.password = HOST, 0, PG_USER, PG_PASSWORD
        self.os_user = run_as.name if run_as else pwd.getpwuid(os.geteuid()).pw_name
        self._root, self._bindir, self._run_as = root, bindir, run_as
        self._data, self._log = root / "data", root / "postgres.log"
        self._lock = threading.Lock()
        self._stopped = False
        self._proc: subprocess.Popen[bytes] | None = None
        self._watchdog = _Watchdog()
        self._watchdog.tell("dir", root)
        self._watchdog.tell("pidfile", self._data / "postmaster.pid")
        self._watchdog.tell("signal", int(signal.SIGQUIT))  # immediate shutdown
        _register(self)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<PostgresServer {self.host}:{self.port} as {self.os_user}>"

    def url(self, database: str = "postgres", driver: str = "postgresql+asyncpg") -> str:
        """SQLAlchemy URL for ``database``, e.g. ``postgresql+asyncpg://plinth:plinth@…/db``."""
        credentials = f"{quote(self.user, safe='')}:{quote(self.password, safe='')}"
        return f"{driver}://{credentials}@{self.host}:{self.port}/{quote(database, safe='')}"

    def create_database(self, name: str) -> str:
        """Run ``CREATE DATABASE name`` (via psql) and return ``url(name)``."""
        identifier = '"' + name.replace('"', '""') + '"'
        self._psql(f"CREATE DATABASE {identifier}")
        return self.url(name)

    def stop(self) -> None:
        """Fast shutdown (SIGINT, as ``pg_ctl -m fast``), then delete the data; idempotent."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        try:
            if self._proc is not None:
                _stop_child(self._proc, signal.SIGINT, signal.SIGQUIT)
        finally:
            shutil.rmtree(self._root, ignore_errors=True)
            self._watchdog.dismiss()
            _unregister(self)

    def halt(self) -> None:
        """Fast shutdown of the postmaster (as ``pg_ctl stop -m fast``), keeping the data and
        the port for ``resume()``: an outage, as clients see one."""
        with self._lock:
            proc, self._proc = self._proc, None
        if proc is not None:
            _stop_child(proc, signal.SIGINT, signal.SIGQUIT)

    def resume(self) -> None:
        """Start the halted postmaster again on the same port, with the same data."""
        with self._lock:
            if self._stopped or self._proc is not None:
                raise ServerStartError("resume() needs a halted, not stopped, server")
        try:
            self._spawn()
        except _PortInUseError as exc:
            raise ServerStartError(f"cannot resume: port {self.port} is taken") from exc

    # -- internals

    def _as_user(self) -> dict[str, Any]:
        """subprocess keyword arguments that drop root privileges to the PostgreSQL OS user."""
        run_as = self._run_as
        return {
            "cwd": self._root,
            "env": _pg_env(run_as, self._root),
            "stdin": subprocess.DEVNULL,
            "user": run_as.uid if run_as else None,
            "group": run_as.gid if run_as else None,
            "extra_groups": run_as.groups if run_as else None,
        }

    def _run(self, cmd: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
        kwargs = self._as_user()
        return subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, check=False, **kwargs
        )

    def _check_access(self) -> None:
        if self._run_as is None:
            return
        test = shutil.which("test") or "/usr/bin/test"
        if self._run([test, "-w", str(self._root)], timeout=10).returncode != 0:
            raise ServerStartError(
                f"{self._root} is not writable by OS user {self._run_as.name!r} (PostgreSQL "
                f"cannot run as root). Every parent directory must be world-traversable "
                f"(o+x); pytest's tmp_path (/tmp/pytest-of-root, mode 0700) is not. Use "
                f"base_dir=None or a directory under /tmp."
            )

    def _initdb(self) -> None:
        pwfile = self._root / "pwfile"
        pwfile.write_text(self.password + "\n")
        if self._run_as is not None:
            os.chown(pwfile, self._run_as.uid, self._run_as.gid)
        cmd = [str(self._bindir / "initdb"), "-D", str(self._data), "-U", self.user]
        cmd += [f"--pwfile={pwfile}", "--auth=trust", "--encoding=UTF8", "--locale=C"]
        cmd += ["--no-sync", "--no-instructions"]
        result = self._run(cmd, timeout=120)
        pwfile.unlink()
        if result.returncode != 0:
            raise ServerStartError(f"initdb failed:\n{result.stdout}{result.stderr}")
        socket_dir = self._root / "sock"
        socket_dir.mkdir()
        if self._run_as is not None:
            os.chown(socket_dir, self._run_as.uid, self._run_as.gid)

    def _postgres_command(self) -> list[str]:
        socket_dir = str(self._root / "sock")
        if len(socket_dir) > UNIX_SOCKET_PATH_MAX - len("/.s.PGSQL.65535"):
            socket_dir = ""  # too long for a Unix socket path: TCP only
        cmd = [str(self._bindir / "postgres"), "-D", str(self._data)]
        cmd += ["-h", HOST, "-p", str(self.port), "-k", socket_dir]
        for key, value in PG_SETTINGS.items():
            cmd += ["-c", f"{key}={value}"]
        return cmd

    def _spawn(self) -> None:
        """Run the postmaster as our own child (in its own session) and wait until ready.

        Not ``pg_ctl start``: that re-parents the postmaster to PID 1, which here reaps
        it only seconds after it exits; as our child it is reaped by stop() itself.
        """
        offset = _file_size(self._log)
        with self._log.open("ab") as log:
            self._proc = subprocess.Popen(
                self._postgres_command(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                **self._as_user(),
            )
        self._watchdog.tell("pid", self._proc.pid)
        self._wait_ready(self._proc, offset)

    def _is_ready(self, pid: int) -> bool:
        """The check ``pg_ctl -w`` makes: postmaster.pid names ``pid`` and says "ready"."""
        try:
            lines = (self._data / "postmaster.pid").read_text().splitlines()
        except OSError:
            return False
        return len(lines) >= 8 and lines[0] == str(pid) and lines[7].strip() == "ready"

    def _wait_ready(self, proc: subprocess.Popen[bytes], offset: int) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while not self._is_ready(proc.pid):
            if proc.poll() is not None:
                self._proc = None
                log = _tail(self._log, offset)
                if "could not bind" in log or "already in use" in log:
                    raise _PortInUseError(log)
                raise ServerStartError(f"postgres exited with {proc.returncode}:\n{log}")
            if time.monotonic() > deadline:
                raise ServerStartError(
                    f"postgres not ready after {START_TIMEOUT}s:\n{_tail(self._log)}"
                )
            time.sleep(0.01)

    def _start(self) -> None:
        self._check_access()
        self._initdb()
        for attempt in range(1, PORT_ATTEMPTS + 1):
            self.port = _free_port()
            try:
                self._spawn()
                return
            except _PortInUseError as exc:
                if attempt == PORT_ATTEMPTS:
                    raise ServerStartError(f"no free port after {attempt} tries:\n{exc}") from exc

    def _psql(self, sql: str, database: str = "postgres") -> str:
        psql = _psql_binary(self._bindir)
        cmd = [psql, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", self.host]
        cmd += ["-p", str(self.port), "-U", self.user, "-d", database, "-c", sql]
        env = _pg_env(None, self._root)
        env.update(PGPASSWORD=self.password, PGCONNECT_TIMEOUT="10")
        result = subprocess.run(
            cmd, env=env, capture_output=True, text=True, timeout=60, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"psql {sql!r} failed: {result.stderr.strip()}")
        return result.stdout.strip()


def start_postgres(base_dir: Path | None = None) -> PostgresServer:
    """Start a throwaway PostgreSQL (initdb + postgres) under ``base_dir`` (default: $TMPDIR).

    Raises ServerUnavailable if the binaries are missing, ServerStartError if it won't start.
    """
    bindir = _pg_bindir()
    _psql_binary(bindir)  # fail early and clearly if psql is missing
    run_as = _pg_run_as()
    root = _make_root("plinth-pg-", base_dir)
    if run_as is not None:
        os.chown(root, run_as.uid, run_as.gid)
    server = PostgresServer(root, bindir, run_as)
    try:
        server._start()
    except BaseException:
        server.stop()
        raise
    return server


def _wait_port(port: int, proc: subprocess.Popen[bytes], log: Path, name: str) -> None:
    """Wait until something accepts connections on ``port`` while ``proc`` runs."""
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=0.2):
            return
        if proc.poll() is not None:
            text = _tail(log)
            if "already in use" in text or "Address in use" in text:
                raise _PortInUseError(text)
            raise ServerStartError(f"{name} exited with {proc.returncode}:\n{text}")
        if time.monotonic() > deadline:
            raise ServerStartError(f"{name} not listening after {START_TIMEOUT}s:\n{_tail(log)}")
        time.sleep(0.02)


def start_replica(primary: PostgresServer) -> PostgresServer:
    """A streaming replica of ``primary`` (``pg_basebackup -R``) on its own loopback port.

    ``halt()``/``resume()`` take it down and back; ``url()`` connects to it (read-only).
    """
    root = _make_root("plinth-pg-replica-", None)
    if primary._run_as is not None:
        os.chown(root, primary._run_as.uid, primary._run_as.gid)
    server = PostgresServer(root, primary._bindir, primary._run_as)
    try:
        (root / "sock").mkdir()
        if primary._run_as is not None:
            os.chown(root / "sock", primary._run_as.uid, primary._run_as.gid)
        cmd = [str(primary._bindir / "pg_basebackup"), "-h", HOST, "-p", str(primary.port)]
        cmd += ["-U", primary.user, "-D", str(server._data), "-R", "-X", "stream", "-c", "fast"]
        result = server._run(cmd, timeout=120)
        if result.returncode != 0:
            raise ServerStartError(f"pg_basebackup failed:\n{result.stdout}{result.stderr}")
        for attempt in range(1, PORT_ATTEMPTS + 1):
            server.port = _free_port()
            try:
                server._spawn()
                break
            except _PortInUseError as exc:
                if attempt == PORT_ATTEMPTS:
                    raise ServerStartError(f"no free port after {attempt} tries:\n{exc}") from exc
    except BaseException:
        server.stop()
        raise
    return server


def pgbouncer_binary() -> str | None:
    """Path of ``pgbouncer`` (PATH, then Debian's /usr/sbin), or None."""
    found = shutil.which("pgbouncer")
    if found:
        return found
    return "/usr/sbin/pgbouncer" if os.access("/usr/sbin/pgbouncer", os.X_OK) else None


class PgBouncerServer:
    """A throwaway PgBouncer on 127.0.0.1 in transaction pooling mode in front of a
    ``PostgresServer`` (context manager; ``stop()`` is idempotent). Every database of the
    server is reachable through it under its own name, with the server's user."""

    host: str
    port: int

    def __init__(self, postgres: PostgresServer, pool_size: int) -> None:
        self.host, self.port = HOST, 0
        self.postgres, self.pool_size = postgres, pool_size
        self._root = _make_root("plinth-pgbouncer-", None)
        self._log = self._root / "pgbouncer.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._watchdog = _Watchdog()
        self._watchdog.tell("dir", self._root)
        _register(self)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def url(self, database: str = "postgres", driver: str = "postgresql+asyncpg") -> str:
        """SQLAlchemy URL of ``database`` through PgBouncer."""
        return self.postgres.url(database, driver).replace(
            f"@{HOST}:{self.postgres.port}/", f"@{HOST}:{self.port}/"
        )

    def stop(self) -> None:
        """SIGINT (safe shutdown), then delete the directory; idempotent."""
        proc, self._proc = self._proc, None
        if proc is not None:
            _stop_child(proc, signal.SIGINT, signal.SIGTERM)
        shutil.rmtree(self._root, ignore_errors=True)
        self._watchdog.dismiss()
        _unregister(self)

    def _config(self) -> Path:
        users = self._root / "userlist.txt"
        users.write_text(f'"{self.postgres.user}" "{self.postgres.password}"\n')
        ini = self._root / "pgbouncer.ini"
        ini.write_text(
            "[databases]\n"
            f"* = host={HOST} port={self.postgres.port}\n"
            "[pgbouncer]\n"
            f"listen_addr = {HOST}\nlisten_port = {self.port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {users}\n"
            "pool_mode = transaction\n"
            f"default_pool_size = {self.pool_size}\nmax_client_conn = 1000\n"
            f"logfile = {self._log}\n"
        )
        return ini

    def _launch(self, binary: str) -> None:
        self.port = _free_port()
        ini = self._config()
        run_as = self.postgres._run_as
        if run_as is not None:
            for path in (self._root, *self._root.iterdir()):
                os.chown(path, run_as.uid, run_as.gid)
        kwargs = self.postgres._as_user()
        kwargs["cwd"] = self._root
        self._proc = subprocess.Popen(
            [binary, str(ini)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            **kwargs,
        )
        self._watchdog.tell("pid", self._proc.pid)
        _wait_port(self.port, self._proc, self._log, "pgbouncer")


def start_pgbouncer(postgres: PostgresServer, pool_size: int = 20) -> PgBouncerServer:
    """Start PgBouncer (transaction pooling, ``pool_size`` server connections per database and
    user) in front of ``postgres``. Raises ServerUnavailable if pgbouncer is missing."""
    binary = pgbouncer_binary()
    if binary is None:
        raise ServerUnavailable(PGBOUNCER_INSTALL_HINT)
    server = PgBouncerServer(postgres, pool_size)
    for attempt in range(1, PORT_ATTEMPTS + 1):
        try:
            server._launch(binary)
            return server
        except _PortInUseError as exc:
            if attempt == PORT_ATTEMPTS:
                server.stop()
                raise ServerStartError(f"no free port after {attempt} tries:\n{exc}") from exc
        except BaseException:
            server.stop()
            raise
    raise AssertionError("unreachable")


# --------------------------------------------------------------------------- Redis


def redis_server_binary() -> str | None:
    """Path of ``redis-server`` ($PLINTH_TEST_REDIS_SERVER alone when set, else PATH first, then
    common locations), or None."""
    explicit = os.environ.get(REDIS_BINARY_VARIABLE)
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    found = shutil.which("redis-server")
    if found:
        return found
    return next((p for p in REDIS_FALLBACK_PATHS if os.access(p, os.X_OK)), None)


def _redis_call(port: int, command: bytes) -> bytes:
    """Send one inline command and return the raw reply (b"" if nothing answers)."""
    try:
        with socket.create_connection((HOST, port), timeout=0.5) as sock:
            sock.sendall(command + b"\r\n")
            reply = sock.recv(65536)
            if reply.startswith(b"$"):  # bulk string: read until complete
                header, _, body = reply.partition(b"\r\n")
                while len(body) < int(header[1:]) + 2:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    body += chunk
                reply = header + b"\r\n" + body
            return reply
    except (OSError, ValueError):
        return b""


def _redis_is_ours(port: int, pid: int) -> bool:
    """True if our redis-server (by pid, not just any process on the port) answers PING."""
    if not _redis_call(port, b"PING").startswith(b"+PONG"):
        return False
    match = re.search(rb"process_id:(\d+)", _redis_call(port, b"INFO server"))
    return match is not None and int(match.group(1)) == pid


class RedisServer:
    """A throwaway redis-server on 127.0.0.1 (context manager; no persistence).

    ``stop()`` is idempotent and ``restart()`` brings it back on the same port (empty).
    """

    host: str
    port: int

    def __init__(
        self, binary: str, base_dir: Path | None, args: Sequence[str] = (), config: str = ""
    ) -> None:
        self.host, self.port = HOST, 0
        self._binary, self._base_dir = binary, base_dir
        self._args, self._config = list(args), config
        self._lock = threading.RLock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._root: Path | None = None
        self._watchdog: _Watchdog | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self._proc is not None else "stopped"
        return f"<RedisServer {self.host}:{self.port} {state}>"

    def url(self, db: int = 0) -> str:
        """``redis://127.0.0.1:PORT/db``."""
        return f"redis://{self.host}:{self.port}/{db}"

    def stop(self) -> None:
        """SIGTERM (then SIGKILL after a timeout) and delete the data directory; idempotent."""
        self._halt(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL, as a crash would, and delete the data directory; idempotent."""
        self._halt(signal.SIGKILL)

    def _halt(self, sig: int) -> None:
        with self._lock:
            proc, root, watchdog = self._proc, self._root, self._watchdog
            self._proc = self._root = self._watchdog = None
            if proc is not None:
                _stop_child(proc, sig, signal.SIGTERM)
            if root is not None:
                shutil.rmtree(root, ignore_errors=True)
            if watchdog is not None:
                watchdog.dismiss()
            _unregister(self)

    def restart(self) -> None:
        """Stop (if running) and start again, empty, on the same port."""
        with self._lock:
            self.stop()
            try:
                self._launch(self.port)
            except _PortInUseError as exc:
                raise ServerStartError(f"cannot restart: port {self.port} is taken") from exc

    def _launch(self, port: int) -> None:
        root = _make_root("plinth-redis-", self._base_dir)
        watchdog = _Watchdog()
        watchdog.tell("dir", root)
        log = root / "redis.log"
        cmd = [self._binary]
        if self._config:  # a sentinel rewrites its file: it needs one of its own
            (root / "redis.conf").write_text(self._config)
            cmd.append(str(root / "redis.conf"))
        cmd += ["--port", str(port), "--bind", HOST, "--save", ""]
        cmd += ["--appendonly", "no", "--dir", str(root), "--daemonize", "no", *self._args]
        with log.open("wb") as out:
            proc = subprocess.Popen(
                cmd,
                cwd=root,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        watchdog.tell("pid", proc.pid)
        self.port, self._proc, self._root, self._watchdog = port, proc, root, watchdog
        _register(self)
        try:
            self._wait_ready(proc, log)
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, proc: subprocess.Popen[bytes], log: Path) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while not _redis_is_ours(self.port, proc.pid):
            if proc.poll() is not None:
                text = _tail(log)
                if "already in use" in text:
                    raise _PortInUseError(text)
                raise ServerStartError(f"redis-server exited with {proc.returncode}:\n{text}")
            if time.monotonic() > deadline:
                raise ServerStartError(f"redis-server not answering PING:\n{_tail(log)}")
            time.sleep(0.01)


def start_redis(
    base_dir: Path | None = None, *, args: Sequence[str] = (), config: str = ""
) -> RedisServer:
    """Start a throwaway redis-server under ``base_dir`` (default: $TMPDIR), with extra
    command-line ``args`` and a ``config`` file's text (a sentinel's).

    Raises ServerUnavailable if redis-server is missing, ServerStartError if it won't start.
    """
    binary = redis_server_binary()
    if binary is None:
        raise ServerUnavailable(REDIS_INSTALL_HINT)
    server = RedisServer(binary, base_dir, args, config)
    for attempt in range(1, PORT_ATTEMPTS + 1):
        try:
            server._launch(_free_port())
            return server
        except _PortInUseError as exc:
            if attempt == PORT_ATTEMPTS:
                raise ServerStartError(f"no free port after {attempt} tries:\n{exc}") from exc
    raise AssertionError("unreachable")


# --------------------------------------------------------------- Redis Sentinel and Cluster

SENTINEL_DOWN_AFTER_MS = 1000  # a dead master is noticed within a second


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise ServerStartError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _info_field(port: int, section: str, field: str) -> str:
    """One field of INFO ``section`` (b"" when the server does not answer)."""
    match = re.search(
        rf"{field}:([^\r\n]*)".encode(), _redis_call(port, f"INFO {section}".encode())
    )
    return match.group(1).decode() if match else ""


class RedisSentinelSet:
    """A master, one replica and three sentinels watching them (quorum 2), on loopback.

    ``kill_master()`` crashes whichever server is the master now; the sentinels promote the
    other within a few seconds (``wait_for_failover``).
    """

    def __init__(self, name: str, servers: list[RedisServer], sentinels: list[RedisServer]):
        self.name, self.servers, self.sentinels = name, servers, sentinels

    def sentinels_setting(self) -> str:
        """REDIS_SENTINELS: ``host:port,...``."""
        return ",".join(f"{s.host}:{s.port}" for s in self.sentinels)

    def master_port(self) -> int:
        """The master's port, as the first sentinel that answers names it (0: none does)."""
        for sentinel in self.sentinels:
            command = f"SENTINEL get-master-addr-by-name {self.name}".encode()
            ports = re.findall(rb"\r\n(\d+)\r\n", _redis_call(sentinel.port, command))
            if ports:
                return int(ports[-1])
        return 0

    def kill_master(self) -> int:
        """SIGKILL the current master; returns the port it had."""
        port = self.master_port()
        next(server for server in self.servers if server.port == port).kill()
        return port

    def wait_for_failover(self, old_port: int, timeout: float = 30.0) -> int:
        """Wait until the sentinels name a new master that accepts writes; returns its port."""

        def promoted() -> bool:
            port = self.master_port()
            return (
                port not in (0, old_port) and _info_field(port, "replication", "role") == "master"
            )

        _wait_for(promoted, f"a failover away from :{old_port}", timeout)
        return self.master_port()

    def stop(self) -> None:
        """Stop every process (sentinels first, so none fails over while the rest stop)."""
        for server in [*self.sentinels, *self.servers]:
            server.stop()


def start_redis_sentinel(base_dir: Path | None = None, name: str = "plinth") -> RedisSentinelSet:
    """Start a master, a replica of it and three sentinels; return once all of them see each
    other (ServerUnavailable / ServerStartError as ``start_redis``)."""
    started: list[RedisServer] = []
    try:
        started.append(master := start_redis(base_dir))
        started.append(start_redis(base_dir, args=["--replicaof", HOST, str(master.port)]))
        _wait_for(
            lambda: _info_field(started[1].port, "replication", "master_link_status") == "up",
            "the replica to sync",
        )
        config = (
            f"sentinel monitor {name} {HOST} {master.port} 2\n"
            f"sentinel down-after-milliseconds {name} {SENTINEL_DOWN_AFTER_MS}\n"
            f"sentinel failover-timeout {name} 5000\n"
        )
        sentinels = [start_redis(base_dir, args=["--sentinel"], config=config) for _ in range(3)]
        started += sentinels
        for sentinel in sentinels:
            _wait_for(
                functools.partial(_sentinel_sees_all, sentinel.port),
                "the sentinels to find the replica and each other",
            )
    except BaseException:
        for server in started:
            server.stop()
        raise
    return RedisSentinelSet(name, started[:2], sentinels)


class RedisClusterSet:
    """Three Redis Cluster masters on loopback, every slot assigned."""

    def __init__(self, nodes: list[RedisServer]) -> None:
        self.nodes = nodes

    def url(self) -> str:
        """REDIS_URL of one node (with REDIS_CLUSTER=true the client finds the others)."""
        return self.nodes[0].url()

    def flush(self) -> None:
        """FLUSHALL on every node."""
        for node in self.nodes:
            _redis_call(node.port, b"FLUSHALL")

    def stop(self) -> None:
        """Stop every node."""
        for node in self.nodes:
            node.stop()


def _cluster_args() -> list[str]:
    # The bus port would be port + 10000 by default: past 65535 for a high ephemeral port.
    return [
        *("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"),
        *("--cluster-node-timeout", "2000", "--cluster-port", str(_free_port())),
    ]


def _cluster_ok(port: int) -> bool:
    return b"cluster_state:ok" in _redis_call(port, b"CLUSTER INFO")


def _sentinel_sees_all(port: int) -> bool:
    return "slaves=1,sentinels=3" in _info_field(port, "sentinel", "master0")


def start_redis_cluster(base_dir: Path | None = None, masters: int = 3) -> RedisClusterSet:
    """Start ``masters`` cluster nodes, join them with ``redis-cli --cluster create`` and return
    once every node reports ``cluster_state:ok``."""
    binary = redis_server_binary()
    cli = shutil.which("redis-cli") or str(
        Path(binary or "/usr/bin/redis-server").with_name("redis-cli")
    )
    nodes: list[RedisServer] = []
    try:
        nodes += [start_redis(base_dir, args=_cluster_args()) for _ in range(masters)]
        addresses = [f"{node.host}:{node.port}" for node in nodes]
        subprocess.run(
            [cli, "--cluster", "create", *addresses, "--cluster-replicas", "0", "--cluster-yes"],
            check=True,
            capture_output=True,
            timeout=START_TIMEOUT,
        )
        for node in nodes:
            _wait_for(functools.partial(_cluster_ok, node.port), "every slot to be served")
    except BaseException:
        for node in nodes:
            node.stop()
        raise
    return RedisClusterSet(nodes)


# --------------------------------------------------------------------------- smoke test


def _smoke() -> int:
    """Start both servers, check them, restart Redis, stop both; print timings."""
    started = time.perf_counter()
    with start_postgres() as pg:
        pg_seconds = time.perf_counter() - started
        print(f"postgres  {pg.url()}  (os user {pg.os_user}, {pg_seconds:.2f}s)")
        print(f"  SELECT 1 -> {pg._psql('SELECT 1')}")
        print(f"  created   {pg.create_database('plinth_smoke')}")
        started = time.perf_counter()
        with start_redis() as redis:
            redis_seconds = time.perf_counter() - started
            print(f"redis     {redis.url()}  ({redis_seconds:.2f}s)")
            print(f"  PING -> {_redis_call(redis.port, b'PING').strip().decode()}")
            redis.stop()
            redis.stop()
            started = time.perf_counter()
            redis.restart()
            seconds = time.perf_counter() - started
            reply = _redis_call(redis.port, b"PING").strip().decode()
            print(f"  restart on :{redis.port} ({seconds:.2f}s), PING -> {reply}")
        started = time.perf_counter()
    print(f"stopped postgres ({time.perf_counter() - started:.2f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(_watchdog_main() if sys.argv[1:] == ["--watchdog"] else _smoke())
