"""The README's and docs/pytest.md's framework examples, taken from the Markdown and run as printed in a pytest
subprocess against real apps: a Django project under pytest-django, Flask-Mail, Flask-Mailman and FastAPI-Mail
apps."""

from __future__ import annotations

import re
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
DJANGO_INI = "DJANGO_SETTINGS_MODULE = mysite.settings\npythonpath = .\n"


def block_under(path: Path, heading: str) -> str:
    """The first ```python block after a heading of a Markdown file."""
    text = path.read_text(encoding="utf-8")
    assert heading in text, f"{path.name} has no {heading!r}"
    return python_blocks_of(text.split(heading, 1)[1])[0]


def python_blocks_of(text: str) -> list[str]:
    """The ```python blocks of Markdown text, in order."""
    return [block.split("```", 1)[0] for block in text.split("```python\n")[1:]]


def readme_code(start: str) -> str:
    """The one piece of the README's inline code that begins with `start` (its one-line framework examples)."""
    (found,) = re.findall(r"`(" + re.escape(start) + r"[^`\n]*)`", README)
    return str(found)


DJANGO_SETTINGS = """
SECRET_KEY = "not secret: a test project"
ROOT_URLCONF = "mysite.urls"
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = []
MIDDLEWARE = []
DATABASES = {}
USE_TZ = True
DEFAULT_FROM_EMAIL = "app@example.com"
"""

DJANGO_URLS = """
from django.core.mail import send_mail
from django.http import HttpResponse
from django.urls import path


def signup(request):
    send_mail(
        "Confirm your address",
        "Welcome! Confirm your address: https://example.com/confirm?token=abc123\\n",
        None,
        [request.POST["email"]],
    )
    return HttpResponse("check your mail")


def confirm(request):
    return HttpResponse("confirmed" if request.GET.get("token") == "abc123" else "no", status=200)


urlpatterns = [path("signup", signup), path("signup/", signup), path("confirm", confirm)]
"""


@pytest.fixture
def django_project(inner: pytest.Pytester) -> pytest.Pytester:
    """A minimal Django project (a signup view that mails a confirmation link) run by pytest-django."""
    inner.makeini(inner.path.joinpath("tox.ini").read_text() + "\n" + DJANGO_INI)
    package = inner.mkpydir("mysite")
    package.joinpath("settings.py").write_text(DJANGO_SETTINGS)
    package.joinpath("urls.py").write_text(DJANGO_URLS)
    return inner


def test_the_readme_example_passes_in_a_django_project(django_project: pytest.Pytester) -> None:
    example = block_under(ROOT / "README.md", "## Test your app's mail with pytest")
    django_project.makepyfile(
        test_readme=example,
        # After it, Django's test set-up is back: the fixture's settings lasted only for its test.
        test_restored="""
from django.conf import settings


def test_the_settings_are_put_back():
    assert settings.EMAIL_BACKEND == "django.core.mail.backends.locmem.EmailBackend"
""",
    )
    result = django_project.runpytest_subprocess("-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*test_signup_sends_a_confirmation PASSED*"])


def test_the_docs_django_recipe_passes(django_project: pytest.Pytester) -> None:
    recipe = block_under(ROOT / "docs" / "pytest.md", "### Django (pytest-django)")
    django_project.makepyfile(test_signup=recipe)
    result = django_project.runpytest_subprocess("-v")
    result.assert_outcomes(passed=1)


def test_an_empty_mailbox_names_djangos_locmem_backend(django_project: pytest.Pytester) -> None:
    """The session fixture doesn't wire Django: the mail stays in Django's outbox, and the failure says why."""
    django_project.makepyfile(
        test_forgot="""
def test_signup(client, mailcatch_server):
    client.post("/signup", {"email": "bob@example.com"})
    mailcatch_server.wait_for(to="bob@example.com", timeout=0.3)
"""
    )
    result = django_project.runpytest_subprocess()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "E*the mailbox is empty: no message arrived at all",
            "E*likely cause: Django's EMAIL_BACKEND is 'django.core.mail.backends.locmem.EmailBackend': "
            "Django's test set-up (pytest-django, Django's test runner) keeps mail in django.core.mail.outbox*",
        ]
    )


def test_an_empty_mailbox_names_another_address(django_project: pytest.Pytester) -> None:
    django_project.makepyfile(
        test_elsewhere="""
def test_signup(client, mailcatch, settings):
    settings.EMAIL_PORT = 9  # the app's own setting wins over the fixture's: nothing listens there
    try:
        client.post("/signup", {"email": "bob@example.com"})
    except OSError:
        pass
    mailcatch.wait_for(to="bob@example.com", timeout=0.3)
"""
    )
    result = django_project.runpytest_subprocess()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["E*likely cause: Django sends mail to 127.0.0.1:9 (EMAIL_HOST, EMAIL_PORT), not to*"])


def test_django_without_pytest_django_is_wired_too(inner: pytest.Pytester) -> None:
    """Django configured by a conftest and no pytest-django: override_settings, undone after the test."""
    inner.makeconftest(
        """
import django
from django.conf import settings

settings.configure(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend", DEFAULT_FROM_EMAIL="app@x.example")
django.setup()
"""
    )
    inner.makepyfile(
        test_plain="""
from django.conf import settings
from django.core.mail import send_mail


def test_sent(mailcatch):
    send_mail("Hi", "Hello", None, ["ann@example.com"])
    assert mailcatch.wait_for(to="ann@example.com").subject == "Hi"


def test_zz_put_back():
    assert settings.EMAIL_BACKEND == "django.core.mail.backends.locmem.EmailBackend"
"""
    )
    result = inner.runpytest_subprocess("-p", "no:django")
    result.assert_outcomes(passed=2)


MYAPP_FLASK_MAIL = """
from flask import Flask, request
from flask_mail import Mail, Message

mail = Mail()


def create_app(config):
    app = Flask(__name__)
    app.config.update(config)
    mail.init_app(app)

    @app.post("/reset")
    def reset():
        mail.send(Message("Password reset", sender="app@example.com", recipients=[request.form["email"]],
                          body="To reset your password, follow https://example.com/reset?t=1"))
        return "sent"

    return app
"""

MYAPP_FLASK_MAILMAN = """
from flask import Flask, request
from flask_mailman import EmailMessage, Mail

mail = Mail()


def create_app(config):
    app = Flask(__name__)
    app.config.update(config)
    mail.init_app(app)

    @app.post("/reset")
    def reset():
        EmailMessage("Password reset", "To reset your password, follow https://example.com/reset?t=1",
                     "app@example.com", [request.form["email"]]).send()
        return "sent"

    return app
"""


@pytest.mark.parametrize("app_source", [MYAPP_FLASK_MAIL, MYAPP_FLASK_MAILMAN], ids=["flask-mail", "flask-mailman"])
def test_the_docs_flask_recipe_passes(inner: pytest.Pytester, app_source: str) -> None:
    recipe = block_under(ROOT / "docs" / "pytest.md", "### Flask-Mail and Flask-Mailman")
    inner.makepyfile(myapp=textwrap.dedent(app_source), test_reset=recipe)
    result = inner.runpytest_subprocess("-p", "no:django")
    result.assert_outcomes(passed=1)


def test_flask_without_the_config_sends_nothing(inner: pytest.Pytester) -> None:
    """What flask_config() changes: under TESTING, Flask-Mailman alone keeps the mail to itself."""
    inner.makepyfile(
        myapp=textwrap.dedent(MYAPP_FLASK_MAILMAN),
        test_reset="""
from myapp import create_app


def test_reset(mailcatch):
    app = create_app({"TESTING": True, "MAIL_SERVER": mailcatch.smtp_host, "MAIL_PORT": mailcatch.smtp_port})
    app.test_client().post("/reset", data={"email": "ana@example.com"})
    mailcatch.assert_no_mail()
""",
    )
    result = inner.runpytest_subprocess("-p", "no:django")
    result.assert_outcomes(passed=1)


FLASK_SENDS = {
    "flask-mail": """
from flask_mail import Mail, Message

mail = Mail()
send = lambda: mail.send(Message("Password reset", sender="app@example.com", recipients=["ana@example.com"],
                                 body="To reset your password, follow https://example.com/reset?t=1"))
""",
    "flask-mailman": """
from flask_mailman import EmailMessage, Mail

mail = Mail()
send = lambda: EmailMessage("Password reset", "To reset your password, follow https://example.com/reset?t=1",
                            "app@example.com", ["ana@example.com"]).send()
""",
}


@pytest.mark.parametrize("extension", sorted(FLASK_SENDS))
def test_the_readme_flask_line_sends_to_the_catcher(inner: pytest.Pytester, extension: str) -> None:
    """The README's line, before `mail.init_app(app)` in an app under TESTING, as the README says."""
    line = readme_code("app.config.update(mailcatch_")
    inner.makepyfile(
        test_readme=FLASK_SENDS[extension]
        + f"""
from flask import Flask


def test_reset(mailcatch_server, mailcatch):
    app = Flask(__name__)
    app.config["TESTING"] = True
    {line}
    mail.init_app(app)
    with app.app_context():
        send()
    message = mailcatch.wait_for(to="ana@example.com", subject="Password reset")
    assert message.links == ["https://example.com/reset?t=1"]
"""
    )
    result = inner.runpytest_subprocess("-p", "no:django")
    result.assert_outcomes(passed=1)


MYAPP_FASTAPI_MAIL = """
from fastapi import FastAPI
from fastapi_mail import ConnectionConfig, FastMail, MessageSchema, MessageType
from pydantic import BaseModel, EmailStr


class Reset(BaseModel):
    email: EmailStr


def create_app(conf: ConnectionConfig) -> FastAPI:
    app = FastAPI()
    mail = FastMail(conf)

    @app.post("/reset")
    async def reset(reset: Reset) -> dict[str, str]:
        message = MessageSchema(
            subject="Password reset",
            recipients=[reset.email],
            body="To reset your password, follow https://example.com/reset?t=1",
            subtype=MessageType.plain,
        )
        await mail.send_message(message)
        return {"status": "sent"}

    return app
"""


FASTAPI_ARGS = ["-p", "no:django"] + (
    # httpx2 needs Python 3.11: on 3.10 Starlette's TestClient runs on httpx, and says it would rather not.
    ["-W", "ignore:Using `httpx` with `starlette.testclient` is deprecated"] if sys.version_info < (3, 11) else []
)


def test_the_docs_fastapi_mail_recipe_passes(inner: pytest.Pytester) -> None:
    recipe = block_under(ROOT / "docs" / "pytest.md", "### FastAPI-Mail")
    inner.makepyfile(myapp=MYAPP_FASTAPI_MAIL, test_reset=recipe)
    result = inner.runpytest_subprocess(*FASTAPI_ARGS)
    result.assert_outcomes(passed=1)


def test_the_readme_fastapi_mail_line_sends_to_the_catcher(inner: pytest.Pytester) -> None:
    """The README's line builds a real FastAPI-Mail config; the app's mail arrives as FastAPI-Mail sent it:
    over plain SMTP (no STARTTLS), without a login."""
    line = readme_code("ConnectionConfig(")
    inner.makepyfile(
        myapp=MYAPP_FASTAPI_MAIL,
        test_readme=f"""
from fastapi.testclient import TestClient
from fastapi_mail import ConnectionConfig

from myapp import create_app


def test_reset(mailcatch_server, mailcatch):
    conf = {line}
    response = TestClient(create_app(conf)).post("/reset", json={{"email": "ana@example.com"}})
    assert response.json() == {{"status": "sent"}}
    message = mailcatch.wait_for(to="ana@example.com", subject="Password reset")
    assert message.from_ == "app@example.com"
    assert message.links == ["https://example.com/reset?t=1"]
    assert message.envelope.mail_from == "app@example.com"
    assert message.envelope.username == "" and message.envelope.tls is False
    assert [line.text for line in message.transcript if line.text.startswith(("STARTTLS", "AUTH"))] == []
""",
    )
    result = inner.runpytest_subprocess(*FASTAPI_ARGS)
    result.assert_outcomes(passed=1)
