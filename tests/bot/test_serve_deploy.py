"""The deploy recipes in bot/deploy: the image builds where a Docker daemon runs (skipped with the reason
where it does not), and the Dockerfile, compose.yaml and systemd unit say what the README promises."""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "bot" / "deploy"


def _docker_daemon() -> str | None:
    """None when a daemon answers, else why not."""
    docker = shutil.which("docker")
    if docker is None:
        return "docker is not installed"
    probe = subprocess.run([docker, "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True,
                           timeout=30)
    if probe.returncode != 0:
        return "no Docker daemon here: " + (probe.stderr.strip().splitlines() or ["docker info failed"])[-1]
    return None


def test_image_builds() -> None:
    why = _docker_daemon()
    if why:
        pytest.skip(f"cannot build the image: {why}")
    build = subprocess.run(["docker", "build", "-f", str(DEPLOY / "Dockerfile"), "-t", "kpi-test", str(REPO)],
                           capture_output=True, text=True, timeout=1800)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    user = subprocess.run(["docker", "run", "--rm", "--entrypoint", "id", "kpi-test", "-u"], capture_output=True,
                          text=True, timeout=120)
    assert user.stdout.strip() not in ("", "0")


def _dockerfile() -> list[tuple[str, str]]:
    lines, out = (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ").splitlines(), []
    for line in lines:
        if line.strip() and not line.lstrip().startswith("#"):
            word, _, rest = line.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_dockerfile_is_slim_non_root_with_a_data_volume() -> None:
    steps = _dockerfile()
    assert [r for w, r in steps if w == "FROM"][-1].endswith("-slim")
    assert ("USER", "kpi") in steps and ("VOLUME", '["/data"]') in steps
    env = " ".join(r for w, r in steps if w == "ENV")
    assert "KPI_DEFINITIONS=/data/definitions.yaml" in env and "KPI_STATE_DIR=/data/.kpi" in env
    for _, rest in (s for s in steps if s[0] == "COPY" and "--from" not in s[1]):
        for src in rest.split()[:-1]:
            assert (REPO / src).exists(), f"COPY {src}: no such path in the repository"
    assert ("CMD", '["serve"]') in steps and ("ENTRYPOINT", '["kpi"]') in steps


def test_compose_runs_kpi_against_postgres() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    kpi, pg = compose["services"]["kpi"], compose["services"]["warehouse"]
    assert pg["image"].startswith("postgres:")
    assert (DEPLOY / kpi["build"]["context"] / kpi["build"]["dockerfile"]).resolve() == (DEPLOY / "Dockerfile").resolve()
    assert kpi["environment"]["KPI_WAREHOUSE_URL"].startswith("postgresql://") and "@warehouse:5432/" in kpi["environment"]["KPI_WAREHOUSE_URL"]
    assert kpi["depends_on"]["warehouse"]["condition"] == "service_healthy"
    assert kpi["ports"] == ["127.0.0.1:8080:8080"] and "./data:/data" in kpi["volumes"]


def test_systemd_unit() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(DEPLOY / "kpi.service")
    service = unit["Service"]
    assert service["ExecStart"].endswith("kpi serve") and service["ExecStartPre"].endswith("kpi serve --check")
    assert service["User"] == "kpi" and service["KillSignal"] == "SIGTERM" and int(service["TimeoutStopSec"]) >= 60
    analyze = shutil.which("systemd-analyze")
    if analyze:  # checks the syntax and directives (the binaries it names need not exist here)
        check = subprocess.run([analyze, "verify", str(DEPLOY / "kpi.service")], capture_output=True, text=True,
                               timeout=60)
        problems = [line for line in check.stderr.splitlines()
                    if "kpi.service" in line and "/opt/kpi/bin/kpi" not in line and "No such file" not in line]
        assert not problems, check.stderr
