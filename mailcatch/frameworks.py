"""The `mailcatch` fixture's wiring of a Django app under test: its mail goes to the catcher for the test.

Django's test set-up (pytest-django, Django's test runner) swaps in the in-memory email backend, so a
test that waits for mail at the catcher would wait for nothing. When Django is configured, the fixture
sets the SMTP backend and the catcher's address for the test that uses it, through pytest-django's
`settings` fixture when that plugin runs (restored after the test), else through
`django.test.override_settings`. Django is never imported here: only an app that already did is wired.
"""

from __future__ import annotations

import importlib
import sys

import pytest

from mailcatch.client.http import Mailbox


def _django_configured() -> bool:
    conf = sys.modules.get("django.conf")
    settings = getattr(conf, "settings", None)
    return bool(settings is not None and getattr(settings, "configured", False))


def wire_django(request: pytest.FixtureRequest, mailbox: Mailbox) -> bool:
    """Send the app's Django mail to `mailbox` until the test ends; False when no Django is configured."""
    if not _django_configured():
        return False
    values = mailbox.django_settings()
    if request.config.pluginmanager.hasplugin("django"):  # pytest-django: its settings fixture restores them
        settings = request.getfixturevalue("settings")
        for name, value in values.items():
            setattr(settings, name, value)
        return True
    override = importlib.import_module("django.test").override_settings(**values)
    override.enable()
    request.addfinalizer(override.disable)
    return True
