"""Messages for the tests, and sending them: the one builder the web and browser tests share,
and the browser tests' rich, hostile and screenshot mail."""

from __future__ import annotations

import smtplib
import struct
import zlib
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Protocol


class SMTPTarget(Protocol):
    """Where `send` delivers: a catcher in this process or in another one."""

    @property
    def smtp_host(self) -> str: ...

    @property
    def smtp_port(self) -> int: ...


def build(
    subject: str,
    sender: str = "app@example.com",
    to: str = "user@example.com",
    text: str = "hello",
    html: str | None = None,
    **headers: str,
) -> EmailMessage:
    """A message; extra headers are given as keyword arguments (`Reply_To="..."` is Reply-To)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


def send(
    catcher: SMTPTarget,
    *messages: EmailMessage,
    mail_from: str | None = None,
    rcpt: Sequence[str] | None = None,
    helo: str = "app.local",
) -> None:
    """Deliver messages over one SMTP session, as an application would (envelope from the headers unless given).

    The HELO name is given so smtplib doesn't look up this machine's own name for it.
    """
    with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port, local_hostname=helo) as client:
        for message in messages:
            client.send_message(message, from_addr=mail_from, to_addrs=list(rcpt) if rcpt is not None else None)


def png(width: int = 96, height: int = 48, rgb: tuple[int, int, int] = (47, 95, 208)) -> bytes:
    """A small solid PNG with a lighter stripe, built by hand (no imaging library needed)."""
    light = tuple(min(255, c + 90) for c in rgb)
    rows = bytearray()
    for y in range(height):
        rows.append(0)
        colour = light if height // 3 <= y < 2 * height // 3 else rgb
        rows += bytes(colour) * width

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(rows))) + chunk(b"IEND", b"")
    )


def pdf(text: str = "Hello from mailcatch") -> bytes:
    """A minimal valid one-page PDF showing `text` (letters, digits and spaces) in Helvetica,
    built by hand with a correct cross-reference table."""
    assert all(c.isalnum() or c == " " for c in text), text
    content = f"BT /F1 28 Tf 40 150 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 420 300] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def rich(remote_base: str = "http://127.0.0.1:9/") -> EmailMessage:
    """An HTML newsletter with a cid: logo, a remote image and stylesheet, text, and attachments."""
    message = EmailMessage()
    message["From"] = "Acme Billing <billing@acme.test>"
    message["To"] = "Ivy Chen <ivy@example.com>"
    message["Cc"] = "accounts@example.com"
    message["Reply-To"] = "support@acme.test"
    message["Subject"] = "Your Acme invoice #2024-0193 is ready"
    message["Message-ID"] = make_msgid(domain="acme.test")
    message["X-Tags"] = "billing"
    message.set_content(
        "Hi Ivy,\n\n"
        "Your invoice #2024-0193 for March is ready: 3 seats, $87.00.\n"
        "View it online: https://billing.acme.test/invoices/2024-0193?ref=email\n\n"
        "Questions? Reply to this message or write to support@acme.test.\n\n"
        "-- \nAcme Billing\n"
    )
    logo_cid = make_msgid(domain="acme.test")
    message.add_alternative(
        f"""<!doctype html>
<html><head><meta charset="utf-8">
<link rel="stylesheet" href="{remote_base}newsletter.css">
<style>
  body {{ margin: 0; background: #eef1f6; font-family: Helvetica, Arial, sans-serif; color: #1d2433; }}
  .card {{ max-width: 560px; margin: 24px auto; background: #fff; border-radius: 10px; padding: 28px 32px; }}
  h1 {{ font-size: 22px; margin: 16px 0 8px; }}
  .total {{ font-size: 28px; font-weight: bold; color: #2f5fd0; }}
  table.items {{ width: 100%; border-collapse: collapse; margin: 16px 0; }}
  table.items td {{ padding: 8px 0; border-bottom: 1px solid #e6e9ef; }}
  .btn {{ display: inline-block; background: #2f5fd0; color: #fff; padding: 10px 18px; border-radius: 6px; text-decoration: none; }}
  .foot {{ color: #7a8394; font-size: 12px; text-align: center; }}
</style></head>
<body>
<div class="card">
  <img id="logo" src="cid:{logo_cid[1:-1]}" alt="Acme" width="96" height="48">
  <h1>Your invoice is ready</h1>
  <p>Hi Ivy, thanks for using Acme. Here is your invoice for March.</p>
  <table class="items">
    <tr><td>Team plan, 3 seats</td><td align="right">$81.00</td></tr>
    <tr><td>Extra storage</td><td align="right">$6.00</td></tr>
  </table>
  <p class="total">$87.00</p>
  <p><a class="btn" href="https://billing.acme.test/invoices/2024-0193">View invoice</a></p>
  <img id="tracker" src="{remote_base}open.gif" width="1" height="1" alt="">
</div>
<p class="foot">Acme Inc. · 1 Example Way · <a href="https://acme.test/unsubscribe">Unsubscribe</a></p>
</body></html>
""",
        subtype="html",
    )
    message.get_payload()[1].add_related(png(), "image", "png", cid=logo_cid, filename="logo.png")
    message.add_attachment(
        b"%PDF-1.4\n% mailcatch test invoice\n%%EOF\n",
        maintype="application",
        subtype="pdf",
        filename="invoice-2024-0193.pdf",
    )
    message.add_attachment(png(160, 100, (24, 121, 78)), maintype="image", subtype="png", filename="usage-chart.png")
    return message


def hostile(tracker: str) -> EmailMessage:
    """HTML built to attack the viewer: each trick reports to `tracker` or sets a flag if it runs."""
    message = EmailMessage()
    evil = "<img src=x onerror=\"window.__pwned='subject';alert(1)\"><script>window.__pwned='subject'</script>"
    message["From"] = f'"{evil}" <evil@example.com>'
    message["To"] = "victim@example.com"
    message["Subject"] = f'Hostile {evil} "quotes" & <b>bold</b>'
    message["X-Tags"] = "<img src=x onerror=alert(2)>"
    message.set_content("Text part with javascript:alert(3) and <script>alert(4)</script> and http://safe.example/ok\n")
    ping = f"{tracker}ran"
    message.add_alternative(
        f"""<html><head>
<meta http-equiv="refresh" content="0;url=javascript:alert(5)">
<meta http-equiv="refresh" content="1;url={tracker}refresh">
<base href="{tracker}base/">
<script>window.__pwned = 'script'; alert(6); new Image().src = '{ping}-script';</script>
</head>
<body onload="window.__pwned='onload';alert(7)">
<h1 id="hello">Hello from a hostile message</h1>
<img id="bad-img" src="nonexistent.png" onerror="window.__pwned='onerror';alert(8);new Image().src='{ping}-onerror'">
<a id="js-link" href="javascript:window.__pwned='link';alert(9)">click me</a>
<a id="data-link" href="data:text/html,<script>alert(10)</script>">data link</a>
<div onmouseover="window.__pwned='hover';alert(11)" id="hover-me" style="padding:20px">hover me</div>
<form id="evil-form" action="{tracker}form" method="post"><input name="q" value="x"><button id="evil-submit">Submit</button></form>
<iframe src="javascript:alert(12)"></iframe>
<object data="{tracker}object"></object>
<embed src="{tracker}embed">
<svg xmlns="http://www.w3.org/2000/svg" onload="alert(13)" width="120" height="40">
  <script>window.__pwned='svg';alert(14)</script>
  <a href="javascript:alert(15)"><text x="4" y="20">svg link</text></a>
  <animate attributeName="href" to="javascript:alert(16)"/>
</svg>
<math><mtext><table><mglyph><style><img src=x onerror="alert(17)"></style></mglyph></table></mtext></math>
<noscript><p title="</noscript><img src=x onerror=alert(18)>"></p></noscript>
<div style="background-image:url({tracker}css-bg)">styled</div>
<img id="remote" src="{tracker}pixel.png">
</body></html>
""",
        subtype="html",
    )
    message.add_attachment(
        b'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40" onload="alert(19)">'
        b'<script>alert(20)</script><rect width="40" height="40" fill="red"/></svg>',
        maintype="image",
        subtype="svg+xml",
        filename='<img src=x onerror="alert(21)">.svg',
    )
    message.add_attachment(
        b"<script>alert(22)</script>", maintype="text", subtype="html", filename='"><svg onload=alert(23)>.html'
    )
    return message


def demo_set() -> list[EmailMessage]:
    """A realistic mailbox for screenshots."""
    out = [
        build(
            "Your daily backup finished",
            sender="cron@build-01.internal",
            to="ops@example.com",
            text="Backup of db-primary finished in 4m12s.\n\n  tables: 212\n  size:   3.4 GB\n  target: s3://backups/2024-03-18/\n",
        ),
        build(
            "Reset your password",
            sender="Acme Accounts <no-reply@acme.test>",
            to="sam@example.com",
            text="Someone asked to reset the password for sam@example.com.\n\n"
            "Reset it here (valid for 30 minutes):\nhttps://acme.test/reset?token=8f14e45fceea167a5a36dedd4bea2543\n\n"
            "If this wasn't you, ignore this message.\n",
        ),
        build(
            "Welcome to Acme, Priya!",
            sender="Acme <hello@acme.test>",
            to="Priya Raman <priya@example.com>",
            text="Welcome aboard! Your workspace acme-labs is ready.\n",
        ),
        build(
            "[staging] 3 failed jobs in queue mail",
            sender="Alerts <alerts@acme.test>",
            to="oncall@example.com",
            X_Tags="alerts, staging",
            text="Job send_digest failed 3 times: SMTPRecipientsRefused.\n",
        ),
        build(
            "Your order #55120 has shipped",
            sender="Shop <orders@shop.test>",
            to="ivy@example.com",
            text="Good news: your order is on its way. Track it at https://shop.test/track/55120\n",
        ),
        build(
            "Invitation: Sprint review, Thu 14:00",
            sender="Calendar <calendar@acme.test>",
            to="team@example.com, ivy@example.com, sam@example.com, priya@example.com",
            text="Sprint review\nThursday 14:00-15:00\nRoom 4 / video link in the invite.\n",
        ),
        build(
            "Weekly digest: 12 new comments",
            sender="Acme Community <digest@acme.test>",
            to="ivy+digest@example.com",
            text="Here is what happened this week in your projects.\n",
        ),
        build("", sender="mailer@legacy.internal", to="ops@example.com", text="(a message without a subject)\n"),
    ]
    return out
