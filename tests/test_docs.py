"""The README documents every flag and environment variable, and its set-up commands are the ones CI runs."""

from __future__ import annotations

from pathlib import Path

from mailcatch.config import ALIASES, FLAGS, MAILPIT_ENV

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_every_flag_and_variable_is_in_the_readme() -> None:
    for flag, env, _, _ in FLAGS:
        assert f"`{flag}" in README, flag
        if env:
            assert f"`{env}`" in README, env
        for variable in MAILPIT_ENV.get(flag, ()):
            assert f"`{variable}`" in README, variable
        for alias in ALIASES.get(flag, ()):
            assert f"`{alias}`" in README, alias


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert "bash .ci/run" in README
    assert "`python3 -m pytest -n 2`" in README
    assert ci.rstrip().splitlines()[-1] == "python3 -m pytest -n 2"
