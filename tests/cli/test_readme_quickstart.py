"""The README's first steps as printed: `mailcatch` with no flags, the "Point your app at it" senders (smtplib,
Django's settings, Flask-Mail's config), the curl commands that read their mail back, and the other ways in that
use the default ports: the send API's curl command and `mailcatch-sendmail` from a script.

They name the default ports (localhost:1025 and 8025), which another catcher or test on this machine may hold,
so they run in a network namespace of their own (`unshare --net`, as root or in a user namespace), whose
loopback has every port free."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")

DRIVER = r'''
"""In a new network namespace: loopback up, `mailcatch` started as the README says, the examples run."""
import fcntl
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.request

SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
with socket.socket() as sock:  # `ip link set lo up`, without iproute2
    request = struct.pack("16sH14s", b"lo", 0, b"")
    flags = struct.unpack("16sH14s", fcntl.ioctl(sock, SIOCGIFFLAGS, request))[1]
    fcntl.ioctl(sock, SIOCSIFFLAGS, struct.pack("16sH14s", b"lo", flags | IFF_UP, b""))

examples = json.loads(sys.argv[1])
env = {k: v for k, v in os.environ.items() if not k.startswith(("MAILCATCH_", "PYTEST_"))}
env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")  # mailcatch-sendmail
catcher = subprocess.Popen([sys.executable, "-m", "mailcatch"], env=env, stderr=subprocess.PIPE, text=True)
startup = catcher.stderr.readline()
deadline = time.monotonic() + 30
while True:
    try:
        urllib.request.urlopen("http://127.0.0.1:8025/readyz", timeout=2)
        break
    except OSError:
        assert time.monotonic() < deadline, "no answer on 127.0.0.1:8025: " + startup
        time.sleep(0.1)
result = {"startup": startup, "sent": [], "sh": []}
for name, code in examples["python"]:
    ran = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    result["sent"].append([name, ran.returncode, ran.stdout + ran.stderr])
for command in examples["sh"]:
    ran = subprocess.run(["bash", "-c", command], env=env, capture_output=True, text=True, timeout=60)
    result["sh"].append([command, ran.returncode, ran.stdout, ran.stderr])
with urllib.request.urlopen("http://127.0.0.1:8025/api/v1/messages") as response:
    result["messages"] = json.load(response)["messages"]
catcher.send_signal(signal.SIGTERM)
result["log"] = startup + catcher.communicate(timeout=60)[1]
result["exit"] = catcher.returncode
print(json.dumps(result))
'''


def section(heading: str) -> str:
    """The README's text from `heading` to the next heading of its level."""
    assert heading in README, heading
    return README.split(heading, 1)[1].split("\n## ", 1)[0]


def blocks(text: str, language: str) -> list[str]:
    """The fenced blocks of `language` in Markdown text, in order."""
    return [block.split("```", 1)[0] for block in text.split(f"```{language}\n")[1:]]


def _examples() -> dict[str, Any]:
    """The section's blocks, each as a program: a settings file and a config line get the few lines that use them."""
    smtplib_example, django_settings, flask_line = blocks(section("## Point your app at it"), "python")
    assert smtplib_example.startswith("# smtplib\n") and django_settings.startswith("# Django settings.py\n")
    assert flask_line.startswith("# Flask-Mail\n")
    django = (
        "import django\nfrom django.conf import settings\n\n"
        f"namespace = {{}}\nexec({django_settings!r}, namespace)\n"
        "settings.configure(**{k: v for k, v in namespace.items() if k.isupper()})\ndjango.setup()\n"
        "from django.core.mail import send_mail\n\n"
        'send_mail("From Django", "Sent with the settings above.", "app@example.com", ["user@example.com"])\n'
    )
    flask = (
        "from flask import Flask\nfrom flask_mail import Mail, Message\n\napp = Flask(__name__)\n"
        + flask_line
        + "mail = Mail(app)\nwith app.app_context():\n"
        '    mail.send(Message("From Flask-Mail", sender="app@example.com", recipients=["user@example.com"], body="Hi"))\n'
    )
    (curls,) = blocks(section("## Point your app at it"), "sh")
    (send,) = blocks(section("## Sending through the API"), "sh")
    (_, _, script) = blocks(section("## sendmail"), "sh")[0].partition("\nln -s /path/to/venv/bin/mailcatch ")
    sendmail = script.split("\n", 1)[1]  # (the line that makes it the system's sendmail is left out)
    assert sendmail.startswith("printf 'Subject: backup done")
    return {
        "python": [["smtplib", smtplib_example], ["django", django], ["flask-mail", flask]],
        "sh": [line for line in curls.splitlines() if line.strip()] + [send, sendmail],
    }


def test_the_readme_senders_reach_mailcatch_on_its_default_ports(tmp_path: Path) -> None:
    assert shutil.which("unshare"), "unshare (util-linux) is needed to give the test ports 1025 and 8025"
    assert shutil.which("curl"), "curl is needed to run the README's curl commands"
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER, encoding="utf-8")
    user = [] if os.geteuid() == 0 else ["--map-root-user"]
    ran = subprocess.run(
        ["unshare", "--net", *user, sys.executable, str(driver), json.dumps(_examples())],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    result = json.loads(ran.stdout)
    assert "SMTP on 127.0.0.1:1025, web UI and API on http://127.0.0.1:8025 " in result["startup"], result["log"]
    for name, code, output in result["sent"]:
        assert code == 0, f"the README's {name} example failed:\n{output}"
    assert result["exit"] == 0, result["log"]

    (listing, latest, raw, transcript, send, _) = result["sh"]
    for command, code, _, stderr in result["sh"]:
        assert code == 0, (command, stderr)
    assert listing[0].startswith("curl -s localhost:8025/api/v1/messages ")
    subjects = [m["Subject"] for m in json.loads(listing[2])["messages"]]
    assert subjects == ["From Flask-Mail", "From Django", "Welcome"]  # newest first
    assert json.loads(latest[2])["Subject"] == "From Flask-Mail"
    assert "\nSubject: From Flask-Mail\n" in raw[2]  # (text mode turned CRLF into "\n")
    lines = [line["Text"] for line in json.loads(transcript[2])["Lines"]]
    assert lines[0].startswith("220 ") and any(line.lower().startswith("mail from:<app@example.com>") for line in lines)
    assert list(json.loads(send[2])) == ["ID"]
    assert [m["Subject"] for m in result["messages"]][:2] == ["backup done", "Your invoice"]
    invoice = result["messages"][1]
    assert invoice["ID"] == json.loads(send[2])["ID"] and invoice["Tags"] == ["Invoices"]
    assert [a["Address"] for a in result["messages"][0]["Bcc"]] == ["ops@example.com"]  # the envelope's only
