"""docs/compose/docker-compose.yml, read without Docker (which CI can't run): two mailcatch replicas built
from the repository's Dockerfile on one PostgreSQL, each with a health check that answers, published
on 127.0.0.1 only; and the README points at it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from mailcatch.storage.postgres.url import is_postgres_url
from tests.helpers import running

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docs" / "compose" / "docker-compose.yml"


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return loaded


def _replicas(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: s for name, s in compose["services"].items() if "MAILCATCH_DATABASE" in s.get("environment", {})}


def test_two_replicas_built_from_the_dockerfile_share_the_postgres_service() -> None:
    compose = _compose()
    services = compose["services"]
    assert set(services) == {"postgres", "mailcatch-a", "mailcatch-b"}
    postgres = services["postgres"]
    assert postgres["image"].startswith("postgres:")
    replicas = _replicas(compose)
    assert len(replicas) == 2
    urls = {service["environment"]["MAILCATCH_DATABASE"] for service in replicas.values()}
    assert len(urls) == 1, "both replicas must use one database"
    url = urlsplit(urls.pop())
    assert is_postgres_url(url.geturl())
    assert url.hostname == "postgres" and url.port == 5432
    settings = postgres["environment"]
    assert (url.username, url.password, url.path.lstrip("/")) == (
        settings["POSTGRES_USER"],
        settings["POSTGRES_PASSWORD"],
        settings["POSTGRES_DB"],
    )
    for service in replicas.values():
        build = service["build"]
        assert (COMPOSE.parent / build["context"] / build["dockerfile"]).resolve() == ROOT / "Dockerfile"
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert "--max" in service["command"]
    # The image holds the driver the URL needs.
    assert "'.[postgres]'" in (ROOT / "Dockerfile").read_text()


def test_every_service_has_a_health_check_and_the_replicas_answer_it() -> None:
    compose = _compose()
    postgres_check = compose["services"]["postgres"]["healthcheck"]["test"]
    assert postgres_check[:2] == ["CMD", "pg_isready"]
    for service in _replicas(compose).values():
        check = service["healthcheck"]
        assert check["test"][:2] == ["CMD", "python"] and check["retries"] >= 1
        listen_port = service["environment"]["MAILCATCH_LISTEN"].rsplit(":", 1)[1]
        code = check["test"][-1]
        assert f"http://127.0.0.1:{listen_port}/readyz" in code
        # The same check, run against a real catcher: it passes while the catcher is ready, fails when nothing listens.
        with running() as catcher:
            port = catcher.url.rsplit(":", 1)[1]
            asked = code.replace(f"127.0.0.1:{listen_port}", f"127.0.0.1:{port}")
            assert subprocess.run([sys.executable, "-c", asked], capture_output=True, timeout=10).returncode == 0
        assert subprocess.run([sys.executable, "-c", asked], capture_output=True, timeout=10).returncode != 0


def test_the_replicas_publish_on_this_machine_only_on_ports_of_their_own() -> None:
    compose = _compose()
    published: list[str] = []
    for service in _replicas(compose).values():
        inside = {service["environment"][name].rsplit(":", 1)[1] for name in ("MAILCATCH_SMTP", "MAILCATCH_LISTEN")}
        assert all(service["environment"][n].startswith("0.0.0.0:") for n in ("MAILCATCH_SMTP", "MAILCATCH_LISTEN"))
        ports = service["ports"]
        assert len(ports) == 2
        for port in ports:
            host, host_port, _ = port.split(":")
            assert host == "127.0.0.1", f"{port} is published beyond this machine"
            published.append(host_port)
        assert {port.split(":")[2] for port in ports} == inside
    assert len(published) == len(set(published))
    assert "ports" not in compose["services"]["postgres"]


def test_the_readme_shows_the_example() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/compose/docker-compose.yml" in readme
    assert "docker compose -f docs/compose/docker-compose.yml up" in readme
