"""mailcatch: a developer mail catcher with a live web UI, a Mailpit-compatible API and a pytest plugin."""

__version__ = "0.1.0"

__all__ = ["__version__"]
