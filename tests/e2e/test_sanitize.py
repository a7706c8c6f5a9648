"""The message-HTML cleaner (static/js/sanitize.js), run in the browser over known attack shapes.

The sandbox is what stops a message from running anything; this checks the second layer,
which also keeps remote content back until the reader asks for it.
"""

from __future__ import annotations

from typing import Any

from tests.e2e.helpers import UI

VECTORS = [
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)><script>alert(1)</script></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
    '<svg><a href="javascript:alert(1)"><text>x</text></a><animate attributeName="href" to="javascript:alert(1)"/></svg>',
    '<a href="  JaVaScRiPt:alert(1)">x</a>',
    '<a href="java&#x09;script:alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a><a href="data:text/html,<script>alert(1)</script>">y</a>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe><frameset><frame src="http://evil.test/f">',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></p></noscript>',
    '<form action="http://evil.test/f"><button formaction="javascript:alert(1)">x</button><input type=image src="http://evil.test/i"></form>',
    '<meta http-equiv="refresh" content="0;url=http://evil.test/r"><meta http-equiv="set-cookie" content="a=b">',
    '<object data="http://evil.test/o"></object><embed src="http://evil.test/e"><applet code=x></applet>',
    '<base href="http://evil.test/"><a href="relative">r</a>',
    '<link rel=stylesheet href="http://evil.test/s.css"><link rel=prefetch href="http://evil.test/p"><link rel=dns-prefetch href="//evil.test">',
    '<div style="background:url(http://evil.test/a)">a</div><div style="background-image: URL( \'//evil.test/b\' )">b</div>',
    '<style>@import url(http://evil.test/s.css); @import "http://evil.test/t.css"; body{background:url("http://evil.test/b")}'
    ' div{background:image-set("http://evil.test/i.png" 1x)}</style>',
    '<img srcset="http://evil.test/1.png 1x, http://evil.test/2.png 2x"><picture><source srcset="http://evil.test/3.png"></picture>',
    '<video poster="http://evil.test/p.png"><source src="http://evil.test/v.mp4"></video><audio src="http://evil.test/a.mp3"></audio>',
    '<table background="http://evil.test/t.png"><tr><td background="http://evil.test/u.png">x</td></tr></table>',
    '<svg><image href="http://evil.test/i.png"/><use href="http://evil.test/s.svg#x"/><feImage xlink:href="http://evil.test/f.png"/></svg>',
    '<a href="http://ok.test/" ping="http://evil.test/ping">ok</a>',
    "<template><script>alert(1)</script></template><details open ontoggle=alert(1)><summary>s</summary></details>",
    "<input autofocus onfocus=alert(1)><body onload=alert(1)><marquee onstart=alert(1)>m</marquee>",
    '<img src="&#106;avascript:alert(1)"><img src="http:evil.test/x"><img src="\\\\evil.test\\x">',
    '<x-custom onclick=alert(1) style="behavior:url(http://evil.test/h)">c</x-custom>',
]

CHECK = """
async (vectors) => {
  const { buildSrcdoc } = await import("./js/sanitize.js");
  const options = { origin: location.origin, partUrl: (id) => `${location.origin}/api/v1/message/M/part/${id}` };
  const problems = [];
  for (const vector of vectors) {
    const built = buildSrcdoc(vector, options);
    const doc = new DOMParser().parseFromString(built.srcdoc, "text/html");
    const bad = (why, el) => problems.push(`${why}: ${vector} -> ${el ? el.outerHTML : built.srcdoc}`);
    for (const el of doc.querySelectorAll("script, iframe, frame, object, embed, applet, base, template, portal, animate, set"))
      bad("element", el);
    for (const el of doc.querySelectorAll("meta")) {
      const equiv = (el.getAttribute("http-equiv") || "").toLowerCase();
      if (!el.hasAttribute("charset") && el.getAttribute("name") !== "referrer" && equiv !== "content-security-policy" && equiv !== "x-dns-prefetch-control")
        bad("meta", el);
    }
    for (const el of doc.querySelectorAll("*")) {
      for (const attr of el.attributes) {
        const name = attr.name.toLowerCase();
        const value = attr.value.replace(/[\\s\\u0000-\\u001f]/g, "").toLowerCase();
        if (name.startsWith("on")) bad("handler", el);
        if (["action", "formaction", "ping", "srcdoc"].includes(name)) bad("attribute " + name, el);
        if (/^(javascript|vbscript|data:text)/.test(value)) bad("script url", el);
        const isLink = (el.localName === "a" || el.localName === "area") && name === "href";
        if (!isLink && name !== "content" && value.includes("evil.test")) bad("remote " + name, el);
      }
      if (el.localName === "style" && el.textContent.includes("evil.test")) bad("remote css", el);
      if (el.localName === "link") bad("link", el);
    }
    if (!doc.querySelector('meta[http-equiv="Content-Security-Policy"]')) bad("no policy", null);
  }
  return problems;
}
"""


def test_no_attack_shape_survives_cleaning(ui: UI) -> None:
    problems: list[str] = ui.page.evaluate(CHECK, VECTORS)
    assert problems == []


def test_cid_parts_and_remote_content_on_request(ui: UI) -> None:
    result: dict[str, Any] = ui.page.evaluate("""async () => {
      const { buildSrcdoc } = await import("./js/sanitize.js");
      const html = '<img id=a src="cid:Logo@Acme"><img id=b src="cid:%3Cmissing%3E">' +
                   '<div id=c style="background:url(cid:logo@acme)"></div>' +
                   '<img id=d src="https://cdn.test/x.png"><link rel=stylesheet href="https://cdn.test/s.css">' +
                   '<a id=e href="https://site.test/">go</a><a id=f href="#top">top</a>';
      const options = { origin: location.origin, parts: [{ PartID: "1.2", ContentID: "<logo@acme>" }],
                        partUrl: (id) => `${location.origin}/api/v1/message/M/part/${id}` };
      const blocked = buildSrcdoc(html, options);
      const allowed = buildSrcdoc(html, { ...options, allowRemote: true });
      const parse = (s) => new DOMParser().parseFromString(s, "text/html");
      const b = parse(blocked.srcdoc), a = parse(allowed.srcdoc);
      return {
        blocked: blocked.blocked, hosts: blocked.hosts,
        cid: b.getElementById("a").getAttribute("src"), missing: b.getElementById("b").hasAttribute("src"),
        cssCid: b.getElementById("c").getAttribute("style"),
        remoteBlocked: b.getElementById("d").hasAttribute("src"),
        remoteAllowed: a.getElementById("d").getAttribute("src"),
        sheet: a.querySelector("link[rel=stylesheet]")?.getAttribute("href"),
        linkTarget: b.getElementById("e").getAttribute("target"), linkRel: b.getElementById("e").getAttribute("rel"),
        anchor: b.getElementById("f").getAttribute("href"), anchorTarget: b.getElementById("f").hasAttribute("target"),
        policyBlocked: b.querySelector('meta[http-equiv="Content-Security-Policy"]').content,
        policyAllowed: a.querySelector('meta[http-equiv="Content-Security-Policy"]').content,
      };
    }""")
    part = f"{ui.catcher.url}/api/v1/message/M/part/1.2"
    assert result["cid"] == part
    assert result["missing"] is False
    assert part in result["cssCid"]
    assert result["blocked"] == 2 and result["hosts"] == ["cdn.test"]
    assert result["remoteBlocked"] is False
    assert result["remoteAllowed"] == "https://cdn.test/x.png"
    assert result["sheet"] == "https://cdn.test/s.css"
    assert (result["linkTarget"], result["linkRel"]) == ("_blank", "noopener noreferrer")
    assert (result["anchor"], result["anchorTarget"]) == ("#top", False)
    assert " http: " not in result["policyBlocked"] + " " and "default-src 'none'" in result["policyBlocked"]
    assert " http: https:" in result["policyAllowed"]
