"""Installing mailcatch as the docs say: the README's set-up command, run as printed in a copy of the source
tree (a fresh virtual environment, `pip install .`, `mailcatch`), serves its UI from the installed package,
also once those files are removed under it, and with pytest beside it gives the `mailcatch` fixture; the
Dockerfile and the GitHub Actions recipe, read, and the image's health check run here (CI has no Docker daemon
to build the image with)."""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from importlib.metadata import requires
from pathlib import Path

import httpx
import pytest
import yaml
from packaging.requirements import Requirement

from mailcatch import Catcher

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
SOURCE = ("pyproject.toml", "README.md", "mailcatch", "static")
"""What installing reads from a clone."""
STARTUP = re.compile(r"SMTP on \S+, web UI and API on (?P<url>http://\S+) ")
INSTALL_TIMEOUT = 900
"""A guard against a hang: creating the environment and installing the dependencies from the package index."""


def block_under(text: str, heading: str, language: str) -> str:
    """The first fenced block of `language` after a heading of a Markdown text."""
    assert heading in text, heading
    after = text.split(heading, 1)[1]
    return after.split(f"```{language}\n", 1)[1].split("```", 1)[0]


class Running:
    """A process whose output lines are collected as they come; started in a session of its own."""

    def __init__(self, command: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        self._pump = threading.Thread(target=self._read, daemon=True)
        self._pump.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put("")

    def url(self, timeout: float) -> str:
        """The catcher's URL, from its start-up line."""
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError("no start-up line; output:\n" + "".join(self.output)) from None
            self.output.append(line)
            found = STARTUP.search(line)
            if found:
                return found["url"]
            if line == "":
                raise AssertionError("it exited before starting; output:\n" + "".join(self.output))

    def stop(self) -> str:
        """SIGTERM to its whole session; its output."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self._pump.join(10)
        assert self.proc.stdout is not None
        self.proc.stdout.close()
        while not self.lines.empty():
            self.output.append(self.lines.get())
        return "".join(self.output)


def _fresh_shell_env() -> dict[str, str]:
    """The environment of a new shell: no virtual environment of this test run's, no MAILCATCH_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAILCATCH_", "PYTEST_", "PYTHON", "PIP_"))}
    env.pop("VIRTUAL_ENV", None)
    if sys.prefix != sys.base_prefix:
        ours = str(Path(sys.prefix) / "bin")
        env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != ours)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A copy of the source tree, as a clone holds it."""
    target = tmp_path / "mailcatch"
    target.mkdir()
    for name in SOURCE:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(source, target / name)
    return target


@pytest.fixture
def processes() -> Iterator[list[Running]]:
    started: list[Running] = []
    yield started
    for process in started:
        process.stop()


def test_the_readme_set_up_command_installs_a_catcher_that_serves_its_ui(clone: Path, processes: list[Running]) -> None:
    command = block_under(README, "## Set up", "sh").strip()
    assert command == "python3 -m venv .venv && . .venv/bin/activate && pip install . && mailcatch"
    env = {**_fresh_shell_env(), "MAILCATCH_SMTP": "127.0.0.1:0", "MAILCATCH_LISTEN": "127.0.0.1:0"}
    catcher = Running(["bash", "-c", command], clone, env)
    processes.append(catcher)
    url = catcher.url(timeout=INSTALL_TIMEOUT)
    with httpx.Client(base_url=url, trust_env=False, timeout=30) as http:
        page = http.get("/")
        assert page.status_code == 200
        assert page.content == (clone / "static" / "index.html").read_bytes()

        # A copy in the environment, not the source tree: the UI is the package's own.
        (installed,) = (clone / ".venv" / "lib").glob("python3.*/site-packages/mailcatch")
        assert (installed / "__init__.py").is_file()
        assert (installed / "static" / "js" / "api.js").read_bytes() == (
            clone / "static" / "js" / "api.js"
        ).read_bytes()
        # caniemail's data is in the package too: the HTML check answers from the installed copy.
        assert (installed / "checks" / "data" / "caniemail.json").is_file()
        html = {"From": {"Email": "app@example.com"}, "To": [{"Email": "ann@example.com"}], "HTML": "<p>Hi</p>"}
        sent = http.post("/api/v1/send", json=html)
        assert sent.status_code == 200, sent.text
        check = http.get(f"/api/v1/message/{sent.json()['ID']}/html-check")
        assert check.status_code == 200 and "html-p" in {w["Slug"] for w in check.json()["Warnings"]}, check.text

        # Reinstalling (or `pip install -e .`) removes those files under the running catcher: it keeps serving.
        shutil.rmtree(installed / "static")
        again = http.get("/js/api.js")
        assert again.status_code == 200
        assert again.content == (clone / "static" / "js" / "api.js").read_bytes()
    log = catcher.stop()
    assert "mailcatch: stopped in " in log

    # The same environment as a project's test environment (docs/pytest.md): with pytest in it, the installed
    # package's plugin gives the `mailcatch` fixture, and the docs' first example passes.
    pip = subprocess.run(
        [str(clone / ".venv" / "bin" / "pip"), "install", "-q", "pytest"],
        env=_fresh_shell_env(),
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT,
    )
    assert pip.returncode == 0, pip.stdout + pip.stderr
    project = clone.parent / "project"
    project.mkdir()
    docs = (ROOT / "docs" / "pytest.md").read_text(encoding="utf-8")
    (project / "test_welcome.py").write_text(block_under(docs, "# Testing mail with pytest", "python"))
    tests = subprocess.run(
        [str(clone / ".venv" / "bin" / "python"), "-m", "pytest", "-p", "no:cacheprovider", "-v"],
        cwd=project,
        env=_fresh_shell_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert tests.returncode == 0 and "test_welcome_mail PASSED" in tests.stdout, tests.stdout + tests.stderr

    # A catcher started without the files says so, in its log and on each UI page; the API still works.
    bare = Running([str(clone / ".venv" / "bin" / "mailcatch")], clone, env)  # it imports the installed copy
    processes.append(bare)
    with httpx.Client(base_url=bare.url(timeout=60), trust_env=False, timeout=30) as http:
        missing = http.get("/")
        assert missing.status_code == 500
        assert missing.json()["Error"].startswith("the web UI's files are missing from this installation of mailcatch")
        assert http.get("/api/v1/messages").status_code == 200
    assert "the web UI's files are missing" in bare.stop()


def test_pipx_install_from_the_clone_puts_a_working_mailcatch_on_the_path(clone: Path, tmp_path: Path) -> None:
    """The README's other way: `pipx install .` from the clone (pipx itself from the package index here,
    where the README has Debian's package), its own environment, and commands that run."""
    assert "`pipx install .` from the clone" in README
    env = _fresh_shell_env()
    tools = tmp_path / "tools"
    subprocess.run([sys.executable, "-m", "venv", str(tools)], check=True, env=env, timeout=INSTALL_TIMEOUT)
    subprocess.run([str(tools / "bin" / "pip"), "install", "-q", "pipx"], check=True, env=env, timeout=INSTALL_TIMEOUT)
    env |= {"PIPX_HOME": str(tmp_path / "pipx"), "PIPX_BIN_DIR": str(tmp_path / "bin")}
    done = subprocess.run(
        [str(tools / "bin" / "pipx"), "install", "."],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for command, argument, says in (("mailcatch", "--version", "mailcatch "), ("mailcatch-sendmail", "--help", "-t")):
        ran = subprocess.run(
            [str(tmp_path / "bin" / command), argument], env=env, capture_output=True, text=True, timeout=60
        )
        assert ran.returncode == 0 and says in ran.stdout + ran.stderr, (command, ran.stdout, ran.stderr)


def test_every_subpackage_is_in_the_distribution() -> None:
    """pyproject.toml names the packages a `pip install .` copies; an editable install would hide one left out."""
    listed = re.search(r"^packages = \[(.*?)\]", (ROOT / "pyproject.toml").read_text(), re.MULTILINE | re.DOTALL)
    assert listed is not None
    named = set(re.findall(r'"([\w.]+)"', listed[1]))
    on_disk = {
        ".".join(folder.relative_to(ROOT).parts)
        for folder in (ROOT / "mailcatch").rglob("*")
        if folder.is_dir() and any(folder.glob("*.py"))
    } | {"mailcatch"}
    assert on_disk - named == set(), "add them to [tool.setuptools] packages in pyproject.toml"
    assert named - on_disk == {"mailcatch.static"}  # static/, mapped by package-dir


def _pins() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (ROOT / "docker" / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"docker/constraints.txt: {line!r} is not name==version"
            pins[name.lower().replace("_", "-")] = version
    return pins


IMAGE_MARKERS = {
    "sys_platform": "linux",
    "platform_system": "Linux",
    "os_name": "posix",
    "platform_python_implementation": "CPython",
    "implementation_name": "cpython",
    "python_version": "3.12",
    "python_full_version": "3.12.0",
    "extra": "",
}
"""The image's environment, for the dependencies' markers."""


IMAGE_EXTRAS = {"postgres"}
"""The extras of mailcatch the image installs (`.[postgres]`: replicas on PostgreSQL)."""


def _image_requirements() -> dict[str, list[Requirement]]:
    """Every distribution the image installs (mailcatch's dependencies with IMAGE_EXTRAS, and theirs with
    the extras they are asked for, as this environment's metadata states them, markers read for the image),
    each with the requirements that name it."""
    found: dict[str, list[Requirement]] = {}
    waiting: list[tuple[str, set[str]]] = [("mailcatch", IMAGE_EXTRAS)]
    while waiting:
        wanted, extras = waiting.pop()
        for text in requires(wanted) or []:
            requirement = Requirement(text)
            if requirement.marker is not None and not any(
                requirement.marker.evaluate({**IMAGE_MARKERS, "extra": extra}) for extra in {"", *extras}
            ):
                continue  # another platform's or Python's, or an extra the image doesn't install (test)
            name = requirement.name.lower().replace("_", "-")
            if name not in found:
                waiting.append((name, set(requirement.extras)))
            found.setdefault(name, []).append(requirement)
    return found


def test_the_image_installs_pinned_releases_that_satisfy_the_package() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install --no-cache-dir --constraint docker/constraints.txt '.[postgres]'" in dockerfile
    for sources in re.findall(r"^COPY (.+) \S+$", dockerfile, re.MULTILINE):
        for source in sources.split():
            assert (ROOT / source).exists(), f"the Dockerfile copies {source}, which is not in the source tree"
    pins = _pins()
    needed = _image_requirements()
    assert {"starlette", "anyio", "dkimpy", "cffi"} <= set(needed)  # direct and indirect ones
    assert {"psycopg", "psycopg-binary", "psycopg-pool"} <= set(needed)  # the postgres extra's, with psycopg's own
    for name, requirements in needed.items():
        assert name in pins, f"docker/constraints.txt doesn't pin {name} (needed by the image: {requirements})"
        for requirement in requirements:
            assert requirement.specifier.contains(pins[name]), f"{name}=={pins[name]} is outside {requirement}"
    assert set(pins) - set(needed) == set(), "docker/constraints.txt pins releases the image no longer installs"


def test_the_build_context_is_only_what_the_image_copies() -> None:
    """.dockerignore leaves out everything but the Dockerfile's COPY sources, so a clone's .ci/venv,
    .git or node_modules never travel to the daemon."""
    rules = [line for line in (ROOT / ".dockerignore").read_text().splitlines() if line and not line.startswith("#")]
    assert rules[0] == "*"
    copied = {
        source
        for sources in re.findall(r"^COPY (.+) \S+$", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
        for source in sources.split()
    }
    assert {rule[1:] for rule in rules if rule.startswith("!")} == copied


def test_the_image_keeps_mail_on_a_volume_and_the_readme_publishes_on_loopback() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "\nVOLUME /data\n" in dockerfile and "\nWORKDIR /data\n" in dockerfile
    docker = block_under(README, "## Docker", "sh")
    run = next(line for line in docker.splitlines() if line.startswith("docker run"))
    published = re.findall(r"-p (\S+)", run)
    assert published == ["127.0.0.1:1025:1025", "127.0.0.1:8025:8025"]
    assert "-v mailcatch-data:/data" in run and run.endswith("mailcatch --database /data/mailcatch.db")


def test_the_actions_recipe_builds_the_image_it_runs() -> None:
    docs = (ROOT / "docs" / "pytest.md").read_text()
    workflow = yaml.safe_load(block_under(docs, "GitHub Actions", "yaml"))
    steps = workflow["jobs"]["test"]["steps"]
    start = next(step for step in steps if step.get("name") == "Start mailcatch")["run"]
    (built,) = re.findall(r"^docker build -t (\S+) (\S+)$", start, re.MULTILINE)
    (ran,) = re.findall(r"^docker run .* (\S+)$", start, re.MULTILINE)
    assert ran == built[0], "the recipe runs an image it doesn't build"
    assert re.findall(r"-p (\S+)", start) == ["127.0.0.1:1025:1025", "127.0.0.1:8025:8025"]
    installs = [step["run"] for step in steps if "pip install" in str(step.get("run", ""))]
    assert installs == [f"pip install ./{built[1]} -e '.[test]'"], (
        "the tests install the mailcatch the image is built from"
    )
    env = workflow["jobs"]["test"]["env"]
    assert env == {"MAILCATCH_URL": "http://localhost:8025", "MAILCATCH_SMTP": "localhost:1025"}


def _healthcheck_command() -> list[str]:
    """The image's HEALTHCHECK command, as the Dockerfile gives it (exec form)."""
    dockerfile = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    (command,) = re.findall(r"^HEALTHCHECK .*? CMD (\[.*\])$", dockerfile, re.MULTILINE)
    parsed = json.loads(command)
    assert parsed[0] == "python"
    return [sys.executable, *parsed[1:]]


def test_the_health_check_asks_the_catcher_on_its_port_past_any_proxy() -> None:
    """Run here as Docker runs it in the container: with HTTP_PROXY set (as Docker's client proxy settings
    set it in every container) and the UI moved with MAILCATCH_LISTEN."""
    env = {**_fresh_shell_env(), "HTTP_PROXY": "http://proxy.invalid:3128", "http_proxy": "http://proxy.invalid:3128"}
    with Catcher() as catcher:
        port = catcher.url.rsplit(":", 1)[1]
        healthy = subprocess.run(
            _healthcheck_command(), env={**env, "MAILCATCH_LISTEN": f"0.0.0.0:{port}"}, capture_output=True, timeout=30
        )
        assert healthy.returncode == 0, healthy.stderr
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))  # a port nothing listens on
        port = closed.getsockname()[1]
        unhealthy = subprocess.run(
            _healthcheck_command(), env={**env, "MAILCATCH_LISTEN": f"0.0.0.0:{port}"}, capture_output=True, timeout=30
        )
    assert unhealthy.returncode != 0
