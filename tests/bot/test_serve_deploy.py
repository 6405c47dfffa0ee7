"""The deploy recipes in bot/deploy: the image builds and runs where a Docker daemon runs (marker ``docker``,
left out of the default run: a build takes minutes; .ci/run runs it after setting up a daemon, and it
skips with the reason where there is none), and the Dockerfile, its command line, compose.yaml and the
systemd unit say what the README promises."""

from __future__ import annotations

import configparser
import json
import os
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

import services

from serve_support import KPI, service_definitions

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "bot" / "deploy"


def _docker_daemon() -> str | None:
    """None when a daemon answers, else why not."""
    docker = shutil.which("docker")
    if docker is None:
        return "docker is not installed (bash .ci/docker-image-setup installs and starts it)"
    probe = subprocess.run([docker, "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True,
                           timeout=30)
    if probe.returncode != 0:
        return "no Docker daemon here: " + (probe.stderr.strip().splitlines() or ["docker info failed"])[-1]
    return None


def _docker(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)


def _base_image() -> tuple[str | None, str]:
    """The Dockerfile's own base when it is here or can be pulled; else the stand-in made from Debian's
    packages by .ci/docker-image-setup (no Docker Hub from this machine); else None and why."""
    default = _arg_defaults()["PYTHON_IMAGE"]
    if _docker("image", "inspect", default).returncode == 0:
        return default, ""
    pulled = _docker("pull", "-q", default)
    if pulled.returncode == 0:
        return default, ""
    if _docker("image", "inspect", STAND_IN).returncode == 0:
        return STAND_IN, ""
    why = (pulled.stderr.strip().splitlines() or ["docker pull failed"])[-1]
    return None, f"{default} cannot be pulled ({why}) and there is no {STAND_IN} (bash .ci/docker-image-setup)"


STAND_IN = "kpi-base:bookworm"


@pytest.mark.docker
def test_image_builds_and_runs_as_non_root_with_data_on_the_volume(demo_dir: Path, tmp_path: Path) -> None:
    why = _docker_daemon()
    if why:  # skips with the reason; under KPI_REQUIRE_SERVICES=1 (.ci/run, after docker-image-setup) fails
        services.unavailable(f"cannot build the image: {why}")
    base, why = _base_image()
    if base is None:
        services.unavailable(f"cannot build the image: {why}")
    # --network host: a daemon started without a bridge (.ci/docker-image-setup) still lets pip reach PyPI
    build = _docker("build", "--network", "host", "--build-arg", f"PYTHON_IMAGE={base}", "-f",
                    str(DEPLOY / "Dockerfile"), "-t", "kpi-test", str(REPO), timeout=3000)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    user = _docker("run", "--rm", "--network", "none", "--entrypoint", "id", "kpi-test", "-u")
    assert user.returncode == 0 and user.stdout.strip() not in ("", "0"), user.stdout + user.stderr
    data = tmp_path / "data"  # what -v "$PWD/data:/data" mounts: definitions, the DuckDB file, state
    data.mkdir()
    service_definitions(demo_dir, data)
    os.chown(data, int(user.stdout), int(user.stdout))
    for f in data.iterdir():
        os.chown(f, int(user.stdout), int(user.stdout))
    run = ["run", "--rm", "--network", "none", "-v", f"{data}:/data", "kpi-test"]
    check = _docker(*run, "serve", "--check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.startswith(f"ok: {_metrics(data)} metrics; Slack: off; API on 0.0.0.0:8080"), check.stdout
    key = _docker(*run, "api", "keys", "create", "--scope", "query", "--name", "in-docker")
    assert key.returncode == 0 and key.stdout.strip().splitlines()[-1].startswith("kpi_"), key.stdout + key.stderr
    state = data / ".kpi" / "bot.sqlite3"  # KPI_STATE_DIR=/data/.kpi: the key outlives the container
    assert state.is_file() and state.stat().st_uid == int(user.stdout)


def _metrics(data: Path) -> int:
    """How many metrics the copied definitions declare (what ``serve --check`` must report)."""
    from metrics_core import KPI as Definitions

    return len(Definitions.from_path(data / "definitions.yaml").definitions.metrics)


def _arg_defaults() -> dict[str, str]:
    return dict(r.partition("=")[::2] for w, r in _dockerfile() if w == "ARG")


def _dockerfile() -> list[tuple[str, str]]:
    lines, out = (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ").splitlines(), []
    for line in lines:
        if line.strip() and not line.lstrip().startswith("#"):
            word, _, rest = line.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def _env() -> dict[str, str]:
    """The image's ENV, as KEY=value pairs (values here have no spaces)."""
    pairs = " ".join(r for w, r in _dockerfile() if w == "ENV").split()
    return dict(p.split("=", 1) for p in pairs)


def test_dockerfile_is_slim_non_root_with_a_data_volume() -> None:
    steps = _dockerfile()
    assert [r for w, r in steps if w == "FROM"][-1] == "${PYTHON_IMAGE}"
    assert _arg_defaults()["PYTHON_IMAGE"].endswith("-slim")
    assert ("USER", "kpi") in steps and ("VOLUME", '["/data"]') in steps
    env = _env()
    assert env["KPI_DEFINITIONS"] == "/data/definitions.yaml" and env["KPI_STATE_DIR"] == "/data/.kpi"
    for _, rest in (s for s in steps if s[0] == "COPY" and "--from" not in s[1]):
        for src in rest.split()[:-1]:
            assert (REPO / src).exists(), f"COPY {src}: no such path in the repository"
    assert ("CMD", '["serve"]') in steps and ("ENTRYPOINT", '["kpi"]') in steps
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert "kpi" in scripts  # the entrypoint is the installed console script
    user_line = next(r for w, r in steps if w == "RUN" and "useradd" in r)
    assert "--uid 10001" in user_line and "chown kpi:kpi /data" in user_line
    ignored = (REPO / ".dockerignore").read_text().split()
    assert {".git", ".venv", "tests", "bench"} <= set(ignored)  # the context stays small
    assert not {"metrics_core", "bot", "sheets", "pyproject.toml", "README.md"} & set(ignored)


def test_the_images_command_line_passes_its_check_here(demo_dir: Path, tmp_path: Path) -> None:
    """What the container runs (ENTRYPOINT + CMD + --check), with the image's environment and /data as a
    directory here: the recipe's settings are valid and its definitions path is where the volume puts them."""
    data = tmp_path / "data"
    data.mkdir()
    service_definitions(demo_dir, data)
    env = {k: v.replace("/data", str(data)).replace("$PATH", os.environ["PATH"]) for k, v in _env().items()}
    env["PATH"] = f"{Path(KPI).parent}:{os.environ['PATH']}"
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "GOOGLE_", "KPI_"))}
    steps = _dockerfile()
    command = json.loads(next(r for w, r in steps if w == "ENTRYPOINT")) + json.loads(next(r for w, r in steps if w == "CMD"))
    out = subprocess.run([*command, "--check"], env={**clean, **env}, cwd=data, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.startswith(f"ok: {_metrics(data)} metrics; Slack: off; API on 0.0.0.0:8080"), out.stdout


def test_compose_runs_kpi_against_postgres() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    kpi, pg = compose["services"]["kpi"], compose["services"]["warehouse"]
    assert pg["image"].startswith("postgres:")
    assert (DEPLOY / kpi["build"]["context"] / kpi["build"]["dockerfile"]).resolve() == (DEPLOY / "Dockerfile").resolve()
    assert kpi["environment"]["KPI_WAREHOUSE_URL"].startswith("postgresql://") and "@warehouse:5432/" in kpi["environment"]["KPI_WAREHOUSE_URL"]
    assert kpi["depends_on"]["warehouse"]["condition"] == "service_healthy"
    assert kpi["ports"] == ["127.0.0.1:8080:8080"] and "./data:/data" in kpi["volumes"]


def _compose_env(data: Path) -> dict[str, str]:
    """The kpi container's environment under compose with an empty bot/deploy/.env: the image's ENV, then the
    service's ``environment:`` with ``${VAR:-default}`` interpolated as compose does (/data -> ``data``)."""
    import re

    service = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]["kpi"]["environment"]
    env = {k: v.replace("/data", str(data)) for k, v in _env().items() if k != "PATH"}
    for k, v in service.items():
        env[k] = re.sub(r"\$\{(\w+)(?::-([^}]*))?\}", lambda m: m.group(2) or "", str(v))
    return env


def test_the_compose_services_environment_passes_the_check(demo_dir: Path, tmp_path: Path) -> None:
    """Without Slack or Google secrets in .env, compose hands kpi empty variables (``${SLACK_BOT_TOKEN:-}``):
    they count as unset, so the service starts with the API alone instead of refusing "no such file ."."""
    data = tmp_path / "data"
    data.mkdir()
    service_definitions(demo_dir, data)
    env = _compose_env(data)
    assert env["GOOGLE_APPLICATION_CREDENTIALS"] == "" and env["SLACK_BOT_TOKEN"] == ""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "GOOGLE_", "KPI_"))}
    out = subprocess.run([KPI, "serve", "--check"], env={**clean, **env}, cwd=data, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.startswith(f"ok: {_metrics(data)} metrics; Slack: off; API on 0.0.0.0:8080"), out.stdout


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
