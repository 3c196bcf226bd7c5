"""launch.yml, compose/ and .envs/ checked without a Docker engine.

Every file the compose file references exists, every variable it or the env files set is a
setting the app reads, ports and commands agree with those settings, and the Dockerfile keeps
its promises (multi-stage, non-root, no compilers in the runtime image).
"""

import gc
import os
import re
import runpy
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from compose.settings_catalog import all_settings, documented, known_names
from tests.conftest import reset_settings_caches

ROOT = Path(__file__).resolve().parents[2]
LAUNCH = ROOT / "launch.yml"
PRODUCTION_ENV = ROOT / ".envs" / ".production" / ".env"
LOCAL_ENV = ROOT / ".envs" / ".local" / ".env"
POSTGRES_ENV = ROOT / ".envs" / ".production" / ".postgres"
APP_SERVICES = ("secret-key", "migrate", "app", "worker")
SCALE_OUT_REPLICAS = 3
STRONG_SECRET = "Zr8-kQ2mV7xW4pL1nT9sH6dJ3fB0cY5gE_aU8iO2qR7w"  # not a repeated letter


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(LAUNCH.read_text())
    return loaded


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    services: dict[str, Any] = compose["services"]
    return services


def env_values(path: Path) -> dict[str, str]:
    """The variables a file sets (commented `# NAME=value` lines are defaults, not set)."""
    values = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Z][A-Z0-9_]*)=(.*)$", line.strip())
        if match:
            values[match.group(1)] = match.group(2)
    return values


def production_setting(name: str) -> str:
    """The production value of a setting: the env file's, else the code default."""
    values = env_values(PRODUCTION_ENV)
    if name in values:
        return values[name]
    default = {s.name: s.default for s in all_settings()}[name]
    return str(default)


def dockerfile_stages() -> list[list[str]]:
    """The Dockerfile's instructions (continuation lines joined), split into build stages."""
    text = (ROOT / "compose" / "Dockerfile").read_text().replace("\\\n", " ")
    stages: list[list[str]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            stages.append([])
        if stages:
            stages[-1].append(line)
    return stages


# -- files the compose file references ---------------------------------------------------------


def compose_default(value: str) -> str:
    """The default of a `${NAME:-default}` value (a plain value is its own default)."""
    match = re.fullmatch(r"\$\{\w+:-(.*)\}", value)
    return match.group(1) if match else value


def test_launch_has_the_seven_services(services: dict[str, Any]) -> None:
    assert set(services) == {"secret-key", "postgres", "redis", "migrate", "app", "worker", "nginx"}


def test_the_app_image_builds_once_from_the_compose_dockerfile(services: dict[str, Any]) -> None:
    build = services["app"]["build"]
    assert (ROOT / build["context"] / build["dockerfile"]).is_file()
    assert build["dockerfile"] == "compose/Dockerfile"
    assert [name for name, service in services.items() if "build" in service] == ["app"]


def test_every_env_file_and_mounted_file_exists(services: dict[str, Any]) -> None:
    for name, service in services.items():
        for env_file in service.get("env_file", []):
            assert (ROOT / env_file).is_file(), f"{name}: missing env_file {env_file}"
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (ROOT / source).is_file(), f"{name}: missing mounted file {source}"


def test_app_services_read_the_production_env_file(services: dict[str, Any]) -> None:
    for name in APP_SERVICES:
        assert services[name]["env_file"] == [".envs/.production/.env"]


def test_container_scripts_exist_are_executable_and_parse() -> None:
    for script in ("entrypoint", "start", "start-worker"):
        path = ROOT / "compose" / script
        assert path.is_file()
        assert os.access(path, os.X_OK), f"compose/{script} is not executable"
        subprocess.run(["bash", "-n", str(path)], check=True)


def test_dockerfile_entrypoint_and_cmd_are_the_compose_scripts() -> None:
    runtime = dockerfile_stages()[-1]
    assert 'ENTRYPOINT ["/app/compose/entrypoint"]' in runtime
    assert 'CMD ["/app/compose/start"]' in runtime
    assert "WORKDIR /app" in runtime


def test_scripts_hand_pid_1_to_gunicorn() -> None:
    """`exec` all the way: SIGTERM from `docker stop` reaches gunicorn, which drains workers."""
    entrypoint = (ROOT / "compose" / "entrypoint").read_text()
    assert "python compose/wait_for_services.py" in entrypoint
    assert 'exec "$@"' in entrypoint
    start = (ROOT / "compose" / "start").read_text()
    assert re.search(
        r'^exec python -m gunicorn --config compose/gunicorn.conf.py "main:create_app\(\)"$',
        start,
        re.M,
    )


# -- commands, ports, health ----------------------------------------------------------------


def test_migrate_runs_alembic_upgrade_heads_once(services: dict[str, Any]) -> None:
    assert services["migrate"]["command"] == ["alembic", "upgrade", "heads"]
    assert services["migrate"]["restart"] == "no"
    assert production_setting("DATABASE_AUTO_MIGRATE") == "false", "workers must never migrate"


def test_app_starts_after_healthy_services_and_a_successful_migration(
    services: dict[str, Any],
) -> None:
    assert services["app"]["depends_on"] == {
        "secret-key": {"condition": "service_completed_successfully"},
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
        "migrate": {"condition": "service_completed_successfully"},
    }
    assert services["migrate"]["depends_on"] == {
        "secret-key": {"condition": "service_completed_successfully"},
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    assert services["nginx"]["depends_on"] == {"app": {"condition": "service_healthy"}}
    assert services["app"]["command"] == ["/app/compose/start"]


def test_the_job_worker_is_its_own_scalable_service(services: dict[str, Any]) -> None:
    """`--scale worker=N`: no port, no name; starts after the migration; outlasts its grace."""
    worker = services["worker"]
    assert worker["command"] == ["/app/compose/start-worker"]
    assert worker["depends_on"] == services["app"]["depends_on"]
    assert "ports" not in worker
    assert "container_name" not in worker
    grace = int(worker["stop_grace_period"].rstrip("s"))
    assert grace > float(production_setting("JOBS_SHUTDOWN_GRACE_SECONDS"))
    start = (ROOT / "compose" / "start-worker").read_text()
    assert re.search(r"^exec python -m core.platform.jobs app.jobs:registry$", start, re.M)


@pytest.mark.parametrize("name", ["postgres", "redis", "app"])
def test_services_others_wait_on_have_a_healthcheck(services: dict[str, Any], name: str) -> None:
    check = services[name]["healthcheck"]
    assert check["test"][0] in {"CMD", "CMD-SHELL"}
    assert check["retries"] >= 3


def test_app_healthcheck_probes_readiness_on_the_app_port(services: dict[str, Any]) -> None:
    probe = " ".join(services["app"]["healthcheck"]["test"])
    assert "127.0.0.1:%s/health/ready' % os.environ['APP_PORT']" in probe
    port = compose_default(services["app"]["environment"]["APP_PORT"])
    assert port == production_setting("APP_PORT")


def test_app_is_scalable_and_only_nginx_publishes_port_8080(services: dict[str, Any]) -> None:
    """`--scale app=3` fails if the app binds a fixed host port; nginx is the one entry."""
    assert "ports" not in services["app"]
    assert "container_name" not in services["app"]
    assert services["app"]["expose"] == [services["app"]["environment"]["APP_PORT"]]
    assert services["nginx"]["ports"] == ["8080:8080"]
    for name in ("postgres", "redis", "migrate"):
        assert "ports" not in services[name], f"{name} must not be reachable from outside"


def test_nginx_proxies_to_the_app_service_on_the_app_port(services: dict[str, Any]) -> None:
    mount = services["nginx"]["volumes"][0]
    source, target, _ = mount.split(":")
    assert target == "/etc/nginx/templates/default.conf.template"  # the image runs envsubst
    assert (
        services["nginx"]["environment"]["APP_PORT"] == (services["app"]["environment"]["APP_PORT"])
    )
    conf = (ROOT / source).read_text()
    assert re.search(r"listen 8080;", conf)
    upstream = re.search(r"upstream (\w+) \{(.*?)\n\}", conf, re.S)
    assert upstream is not None
    name, body = upstream.groups()
    assert re.search(r"server app:\$\{APP_PORT\} resolve;", body)
    assert f"proxy_pass http://{name};" in conf
    keepalive = re.search(r"keepalive_timeout (\d+)s;", body)
    assert keepalive is not None
    assert int(keepalive.group(1)) < int(production_setting("SERVER_KEEPALIVE_SECONDS"))
    read_timeout = re.search(r"proxy_read_timeout (\d+)s;", conf)
    assert read_timeout is not None
    assert int(read_timeout.group(1)) > int(production_setting("SERVER_TIMEOUT_SECONDS"))


def test_stop_grace_period_outlasts_the_graceful_timeout(services: dict[str, Any]) -> None:
    grace = services["app"]["stop_grace_period"]
    assert grace.endswith("s")
    assert int(grace[:-1]) > int(production_setting("SERVER_GRACEFUL_TIMEOUT_SECONDS"))


def test_postgres_has_a_named_volume_and_room_for_three_app_containers(
    compose: dict[str, Any], services: dict[str, Any]
) -> None:
    volume = services["postgres"]["volumes"][0]
    assert volume.split(":")[0] in compose["volumes"]
    assert volume.endswith(":/var/lib/postgresql/data")
    command = " ".join(services["postgres"]["command"])
    max_connections = int(re.search(r"max_connections=(\d+)", command).group(1))  # type: ignore[union-attr]
    per_worker = int(production_setting("DATABASE_POOL_SIZE")) + int(
        production_setting("DATABASE_MAX_OVERFLOW")
    )
    workers = int(production_setting("APP_WORKERS"))
    migrate_connection = 1
    job_workers = SCALE_OUT_REPLICAS * per_worker  # `--scale worker=3`: one pool each
    app = SCALE_OUT_REPLICAS * workers * per_worker
    assert app + job_workers + migrate_connection < max_connections


def test_database_url_matches_the_postgres_container(services: dict[str, Any]) -> None:
    postgres = env_values(POSTGRES_ENV)
    url = urlsplit(production_setting("DATABASE_URL"))
    assert url.scheme == "postgresql+asyncpg"
    assert url.hostname == "postgres"
    assert url.port == 5432
    assert url.username == postgres["POSTGRES_USER"]
    assert url.password == postgres["POSTGRES_PASSWORD"]
    assert url.path == f"/{postgres['POSTGRES_DB']}"
    redis = urlsplit(production_setting("REDIS_URL"))
    assert (redis.scheme, redis.hostname, redis.port) == ("redis", "redis", 6379)


# -- settings: names and values ---------------------------------------------------------------


@pytest.mark.parametrize("env_file", [PRODUCTION_ENV, LOCAL_ENV], ids=["production", "local"])
def test_env_files_name_only_real_settings(env_file: Path) -> None:
    unknown = set(documented(env_file)) - known_names()
    assert not unknown, f"{env_file.relative_to(ROOT)} sets variables the app never reads"


@pytest.mark.parametrize("env_file", [PRODUCTION_ENV, LOCAL_ENV], ids=["production", "local"])
def test_env_files_document_every_setting(env_file: Path) -> None:
    docs = documented(env_file)
    missing = known_names() - set(docs)
    assert not missing, f"add these to {env_file.relative_to(ROOT)} with a comment: {missing}"
    undocumented = [name for name, (_, comment) in docs.items() if not comment]
    assert not undocumented, f"these need a comment line above them: {undocumented}"


def test_compose_environment_names_only_real_settings(services: dict[str, Any]) -> None:
    for name in APP_SERVICES:
        unknown = set(services[name].get("environment", {})) - known_names()
        assert not unknown, f"{name} sets variables the app never reads: {unknown}"


def test_no_secret_comes_from_the_repository(services: dict[str, Any]) -> None:
    """The committed file holds only the placeholder (refused in production); compose passes
    the operator's key, or an empty one that makes the entrypoint read the generated key."""
    assert env_values(PRODUCTION_ENV)["AUTH_SECRET_KEY"] == "change-me"
    for name in APP_SERVICES:
        assert services[name]["environment"]["AUTH_SECRET_KEY"] == "${AUTH_SECRET_KEY:-}"


def run_entrypoint(key_file: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """compose/entrypoint running `python -c 'print the key'`, with no services to wait for."""
    clean = {
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "PLINTH_SECRET_KEY_FILE": str(key_file),
        **env,
    }
    code = "import os; print(os.environ.get('AUTH_SECRET_KEY', '<unset>'))"
    return subprocess.run(
        [str(ROOT / "compose" / "entrypoint"), "python", "-c", code],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_the_first_up_generates_a_key_that_later_ups_keep(tmp_path: Path) -> None:
    key_file = tmp_path / "auth_secret_key"
    script = [sys.executable, str(ROOT / "compose" / "secret_key.py"), str(key_file)]
    first = subprocess.run(script, capture_output=True, text=True, check=True)
    key = key_file.read_text()
    second = subprocess.run(script, capture_output=True, text=True, check=True)
    assert first.stdout.startswith("generated") and second.stdout.startswith("kept")
    assert key_file.read_text() == key
    assert len(key) >= 64  # 48 random bytes, URL-safe base64
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert list(tmp_path.iterdir()) == [key_file], "no temporary file left behind"
    assert run_entrypoint(key_file, AUTH_SECRET_KEY="").stdout.strip() == key
    exported = run_entrypoint(key_file, AUTH_SECRET_KEY=STRONG_SECRET)
    assert exported.stdout.strip() == STRONG_SECRET, "an exported key wins"
    missing = run_entrypoint(tmp_path / "absent", AUTH_SECRET_KEY="")
    assert missing.stdout.strip() == "", "no file: the app refuses the empty key itself"


def test_the_generated_key_passes_the_production_check(tmp_path: Path) -> None:
    key_file = tmp_path / "auth_secret_key"
    subprocess.run(
        [sys.executable, str(ROOT / "compose" / "secret_key.py"), str(key_file)], check=True
    )
    result = load_settings_from(PRODUCTION_ENV, AUTH_SECRET_KEY=key_file.read_text())
    assert result.returncode == 0, result.stderr


def load_settings_from(env_file: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    """Load the settings in a clean process that has only ENV_FILE (and `extra`) set."""
    env = {"PATH": os.environ["PATH"], "ENV_FILE": str(env_file), **extra}
    code = (
        "from configs import load_settings; s = load_settings(); "
        "print(s.app.env.value, s.app.port, s.app.workers, s.database_url, s.redis.url)"
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )


def test_production_env_file_refuses_the_placeholder_secret() -> None:
    result = load_settings_from(PRODUCTION_ENV)
    assert result.returncode != 0
    assert "AUTH_SECRET_KEY must be set" in result.stderr


def test_production_env_file_loads_once_a_secret_is_given() -> None:
    result = load_settings_from(PRODUCTION_ENV, AUTH_SECRET_KEY=STRONG_SECRET)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "production",
        production_setting("APP_PORT"),
        production_setting("APP_WORKERS"),
        production_setting("DATABASE_URL"),
        production_setting("REDIS_URL"),
    ]


def test_local_env_file_runs_the_embedded_default(tmp_path: Path) -> None:
    result = load_settings_from(LOCAL_ENV, APP_DATA_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    env, _, _, database_url, redis_url = result.stdout.split()
    assert env == "development"
    assert database_url.startswith("sqlite+aiosqlite:///")
    assert redis_url == "None"


def test_gunicorn_config_takes_workers_bind_and_timeouts_from_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    for name, value in {
        "APP_HOST": "127.0.0.1",
        "APP_PORT": "9123",
        "APP_WORKERS": "3",
        "SERVER_TIMEOUT_SECONDS": "41",
        "SERVER_GRACEFUL_TIMEOUT_SECONDS": "17",
        "SERVER_KEEPALIVE_SECONDS": "4",
        "SERVER_MAX_REQUESTS": "1000",
    }.items():
        monkeypatch.setenv(name, value)
    reset_settings_caches()
    try:
        config = runpy.run_path(str(ROOT / "compose" / "gunicorn.conf.py"))
    finally:
        monkeypatch.undo()
        reset_settings_caches()
    assert config["bind"] == ["127.0.0.1:9123"]
    assert config["workers"] == 3
    assert (config["timeout"], config["graceful_timeout"], config["keepalive"]) == (41, 17, 4)
    assert (config["max_requests"], config["max_requests_jitter"]) == (1000, 100)
    assert config["wsgi_app"] == "main:create_app()"
    assert config["worker_class"].__mro__[1].__module__.startswith("uvicorn_worker")
    assert config["logconfig_dict"]["loggers"]["gunicorn.error"]["handlers"] == ["default"]
    assert config["child_exit"].__module__ == "core.platform.metrics"


def test_gunicorn_workers_freeze_start_up_objects_and_collect_young_ones_less_often(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SERVER_GC_YOUNG_THRESHOLD", "12345")
    reset_settings_caches()
    before = gc.get_threshold()
    try:
        config = runpy.run_path(str(ROOT / "compose" / "gunicorn.conf.py"))
        config["post_worker_init"](None)
        after, frozen = gc.get_threshold(), gc.get_freeze_count()
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
        monkeypatch.undo()
        reset_settings_caches()
    assert after == (12345, *before[1:])
    assert frozen > 10_000  # the modules, mappers and routes loaded so far


# -- the image ------------------------------------------------------------------------------


def test_dockerfile_is_multi_stage_with_a_slim_runtime() -> None:
    stages = dockerfile_stages()
    assert len(stages) >= 2
    assert "AS builder" in stages[0][0]
    assert any("pip wheel" in line for line in stages[0]), "the builder builds wheels"
    runtime = stages[-1]
    assert runtime[0].startswith("FROM ${PYTHON_IMAGE}")
    assert any(
        "slim" in line
        for line in (ROOT / "compose/Dockerfile").read_text().splitlines()
        if line.startswith("ARG PYTHON_IMAGE")
    )
    assert any("--no-index" in line and "from=builder" in line for line in runtime), (
        "the runtime installs the builder's wheels only"
    )


def test_runtime_stage_has_no_compilers() -> None:
    runtime = " ".join(dockerfile_stages()[-1]).lower()
    for tool in ("gcc", "g++", "build-essential", "clang", "make ", "-dev ", "apt-get install"):
        assert tool not in runtime, f"{tool!r} in the runtime stage"


def test_runtime_runs_as_a_non_root_user() -> None:
    runtime = dockerfile_stages()[-1]
    users = [line.split()[1] for line in runtime if line.startswith("USER ")]
    assert users, "the runtime stage sets no USER"
    assert re.fullmatch(r"\d+:\d+", users[-1]), "numeric uid:gid (Kubernetes runAsNonRoot)"
    uid, gid = users[-1].split(":")
    assert uid != "0" and gid != "0"
    assert any(f"useradd --system --uid {uid}" in line for line in runtime)
    assert any(f"groupadd --system --gid {gid}" in line for line in runtime)
    assert "COPY . ." in runtime, "the code is copied owned by root: the app cannot rewrite it"
    last_run = max(i for i, line in enumerate(runtime) if line.startswith("RUN"))
    assert runtime.index(f"USER {users[-1]}") > last_run, "USER comes after every RUN"


def test_dependencies_are_a_cached_layer_before_the_source() -> None:
    """Only requirements.txt is copied before `pip`, so editing code reuses the deps layers."""
    for stage in dockerfile_stages():
        copies = [i for i, line in enumerate(stage) if line.startswith("COPY")]
        installs = [i for i, line in enumerate(stage) if re.search(r"pip (wheel|install)", line)]
        for install in installs:
            before = [stage[i] for i in copies if i < install]
            assert all("requirements.txt" in line for line in before), before


def test_dockerignore_keeps_settings_and_local_state_out_of_the_image() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", ".envs", "data", "tests"} <= ignored


# -- the entrypoint's wait ------------------------------------------------------------------


def run_wait(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {"PATH": os.environ["PATH"], **env}
    return subprocess.run(
        [sys.executable, "compose/wait_for_services.py"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_wait_gives_up_after_the_configured_time_and_says_on_what() -> None:
    port = closed_port()
    result = run_wait(
        DATABASE_URL=f"postgresql+asyncpg://u:p@127.0.0.1:{port}/db",
        REDIS_URL=f"redis://127.0.0.1:{port}/0",
        SERVER_WAIT_TIMEOUT_SECONDS="1",
    )
    assert result.returncode == 1
    assert "PostgreSQL did not answer" in result.stderr
    assert "Redis did not answer" in result.stderr


def test_wait_passes_when_the_services_answer(leg: Any) -> None:
    env = {"DATABASE_URL": leg.database_url, "SERVER_WAIT_TIMEOUT_SECONDS": "5"}
    if leg.redis_url:
        env["REDIS_URL"] = leg.redis_url
    result = run_wait(**env)
    assert result.returncode == 0, result.stderr
    if leg.is_services:
        assert "PostgreSQL is up" in result.stderr
        assert "Redis is up" in result.stderr


def test_trusted_proxies_cover_the_compose_network_only(compose: dict[str, Any]) -> None:
    """The client IP of limits and logs comes from nginx's X-Forwarded-For, not nginx's own IP."""
    import ipaddress

    configured = compose["networks"]["default"]["ipam"]["config"][0]["subnet"]
    assert configured == "${PLINTH_SUBNET:-172.28.0.0/16}"
    for name in APP_SERVICES:
        assert compose["services"][name]["environment"]["TRUSTED_PROXIES"] == configured
    assert ipaddress.ip_network(compose_default(configured)).is_private
    assert "TRUSTED_PROXIES" not in env_values(PRODUCTION_ENV), "launch.yml sets it"


def test_the_docs_table_lists_every_setting() -> None:
    from compose.settings_catalog import documented_table, markdown_table

    assert documented_table() == markdown_table(), (
        "docs/deploy.md is out of date: run `python compose/settings_catalog.py --update-docs`"
    )


def test_the_start_script_refuses_the_placeholder_secret_before_forking_workers() -> None:
    env = {
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "ENV_FILE": str(PRODUCTION_ENV),
        "APP_HOST": "127.0.0.1",
        "APP_PORT": str(closed_port()),
    }
    result = subprocess.run(
        [str(ROOT / "compose" / "start")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "AUTH_SECRET_KEY must be set to a random value in production" in result.stderr
    assert "Booting worker" not in result.stderr


@pytest.mark.parametrize("env_file", [PRODUCTION_ENV, LOCAL_ENV], ids=["production", "local"])
def test_commented_defaults_in_env_files_are_the_real_defaults(
    env_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`# NAME=value` promises the default: reading that value must give what the code uses."""
    settings = {setting.name: setting for setting in all_settings()}
    for raw in env_file.read_text().splitlines():
        match = re.match(r"^# ([A-Z][A-Z0-9_]*)=(.+)$", raw)
        if not match or match.group(1) not in settings:
            continue
        name, value = match.groups()
        setting = settings[name]
        monkeypatch.delenv("ENV_FILE", raising=False)
        monkeypatch.delenv(name, raising=False)
        default = getattr(setting.owner(), setting.field)
        monkeypatch.setenv(name, value)
        assert getattr(setting.owner.load(), setting.field) == default, f"{name}={value}"
