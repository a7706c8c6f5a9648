// The Checks tab: "will this mail work out there?" for the open message. Five sections, each
// from a route of its own: the standards lint (/lint) and DKIM/ARC verification (/dkim), run
// when the tab opens; HTML compatibility (/html-check, js/checks_html.js), run then too; the
// link check (/link-check), which makes the catcher request every URL of the message, and so
// runs only when the reader presses its button; the SpamAssassin score (/sa-check), shown when
// /api/v1/webui says SpamAssassin is on. Nothing runs for a message until it is asked for: one
// MessageChecks per open message remembers what was fetched, for the tab and for the DKIM
// badge beside the envelope.
import { ApiError } from "./api.js";
import { h, apiUrl, formatCount, safeLink } from "./dom.js";
import { htmlSection, htmlSummary } from "./checks_html.js";

let webuiInfo = null; // resolves to /api/v1/webui's answer ({} when it can't be read)

function webui() {
  webuiInfo ??= fetch(apiUrl("api/v1/webui"), { headers: { Accept: "application/json" }, cache: "no-store" })
    .then((response) => (response.ok ? response.json() : {}))
    .catch(() => ({}));
  return webuiInfo;
}

/** GET a check's JSON; rejects with an ApiError carrying the route's {"Error": ...} when it answers one. */
async function getJSON(path, signal) {
  let response;
  try {
    response = await fetch(apiUrl(path), { headers: { Accept: "application/json" }, cache: "no-store", signal });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, "the server can't be reached");
  }
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    throw new ApiError(response.status, body && typeof body.Error === "string" ? body.Error : `${response.status} ${response.statusText}`);
  }
  if (body === null || typeof body !== "object") throw new ApiError(response.status, "the answer was not JSON");
  return body;
}

export function plural(n, one, many = `${one}s`) {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

/** What has been asked of the checks routes for one message: each route's answer, fetched once. */
export class MessageChecks {
  constructor(id) {
    this.id = id;
    this.results = new Map(); // name -> promise of the route's JSON
    this.listeners = new Set();
    this.aborter = new AbortController();
  }

  /** Stop what is under way: another message was opened, or none is. */
  abort() {
    this.aborter.abort();
    this.listeners.clear();
  }

  path(route) {
    return `api/v1/message/${encodeURIComponent(this.id)}/${route}`;
  }

  /** The answer of `route` (fetched the first time); a failure is forgotten, so Retry asks again. */
  get(name, route = name) {
    if (!this.results.has(name)) {
      const promise = getJSON(this.path(route), this.aborter.signal);
      this.results.set(name, promise);
      this.emit(name, "start");
      promise.then((data) => this.emit(name, "done", data), (error) => {
        this.results.delete(name);
        if (error.name !== "AbortError") this.emit(name, "failed", error);
      });
    }
    return this.results.get(name);
  }

  lint() { return this.get("lint"); }
  dkim() { return this.get("dkim"); }
  html() { return this.get("html-check"); }
  spam() { return this.get("sa-check"); }

  /** The link check: never from cache unless asked for again with the same option. */
  links(follow) {
    const promise = getJSON(`${this.path("link-check")}${follow ? "?follow=true" : ""}`, this.aborter.signal);
    this.results.set("link-check", promise);
    promise.catch(() => {});
    return promise;
  }

  /** Called with (name, "start") when a route is asked, then (name, "done", its answer) or (name, "failed", the error). */
  listen(fn) {
    this.listeners.add(fn);
  }

  emit(name, state, value) {
    for (const fn of this.listeners) fn(name, state, value);
  }
}

// Pieces shared by the sections ----------------------------------------------------------------

const RESULT_TEXT = { pass: "pass", fail: "fail", nokey: "no key", temperror: "temporary error", permerror: "permanent error", none: "none" };
const KEY_SOURCES = { file: "the --dkim-keys file", dns: "DNS" };
const RESULT_KIND = { pass: "ok", fail: "bad", nokey: "warn", temperror: "warn", permerror: "bad", none: "plain" };

/** A small coloured label: kind is ok, warn, bad, info or plain. */
export function pill(text, kind = "plain", title = null) {
  return h("span", { class: `check-pill is-${kind}`, title, text });
}

/** An "RFC 5322 section 3.6.4"-style reference, as a link to the RFC where it names one. */
function reference(text) {
  if (!text) return null;
  const match = /^RFC\s*(\d{3,5})(?:[,\s]+(?:section|§)\s*([\d.]+\d|\d+))?/i.exec(text);
  if (!match) return h("span", { class: "check-ref", text });
  const href = `https://www.rfc-editor.org/rfc/rfc${match[1]}${match[2] ? `#section-${match[2]}` : ""}`;
  return h("a", { class: "check-ref", href, target: "_blank", rel: "noopener noreferrer", title: `${text} on rfc-editor.org`, text });
}

/** A state line inside a section: loading, an error with Retry, or a quiet note. */
function loading(text) {
  return h("p", { class: "check-state is-loading", role: "status" }, h("span", { class: "check-spinner", "aria-hidden": "true" }), text);
}

function failure(what, error, retry) {
  const status = error.status ? ` (HTTP ${error.status})` : "";
  return h("div", { class: "check-state is-error", role: "alert" },
    h("p", null, h("strong", { text: `Couldn't ${what}${status}: ` }), h("span", { text: error.message || String(error) })),
    retry ? h("button", { type: "button", class: "btn small", onclick: retry }, "Try again") : null);
}

function note(text) {
  return h("p", { class: "check-state", text });
}

// The tab --------------------------------------------------------------------------------------

const SECTIONS = [
  ["lint", "Standards lint"],
  ["dkim", "DKIM and ARC"],
  ["html", "HTML compatibility"],
  ["links", "Links"],
  ["spam", "Spam score"],
];

export class ChecksView {
  /** @param {MessageChecks} checks @param {{html: boolean}} message what the message has */
  constructor(checks, message) {
    this.checks = checks;
    this.message = message;
    this.cards = new Map();
    this.bodies = new Map();
    this.sections = new Map();
    this.followRedirects = true;
    const summary = h("ul", { class: "checks-summary", "aria-label": "Checks at a glance" });
    const parts = [];
    for (const [key, title] of SECTIONS) {
      const headingId = `check-${key}-title`;
      const value = h("span", { class: "check-card-value", text: "…" });
      const card = h("button", {
        type: "button", class: "check-card", "data-check": key, onclick: () => this.focusSection(key),
      }, h("span", { class: "check-card-title", text: title }), value);
      const li = h("li", null, card);
      this.cards.set(key, { li, card, value });
      summary.append(li);
      const body = h("div", { class: "check-body" });
      const section = h("section", { class: `check-section check-${key}`, "aria-labelledby": headingId, "data-check": key },
        h("h3", { class: "check-title", id: headingId, tabindex: "-1", text: title }),
        body);
      this.bodies.set(key, body);
      this.sections.set(key, section);
      parts.push(section);
    }
    this.el = h("div", { class: "checks-view" }, summary, ...parts);
    this.setCard("links", "not run", "plain");
    this.setCard("spam", "…", "plain");
    this.cards.get("spam").li.hidden = true;
    this.sections.get("spam").hidden = true;
    this.runLint();
    this.runDkim();
    this.runHtml();
    this.showLinks();
    this.runSpam();
  }

  setCard(key, text, kind = "plain", title = null) {
    const { card, value } = this.cards.get(key);
    value.textContent = text;
    card.dataset.kind = kind;
    card.title = title || "";
    card.setAttribute("aria-label", `${this.sections.get(key).querySelector("h3").textContent}: ${text}`);
  }

  /** Scroll the reading pane (only it: scrollIntoView would move the page too) to a section, and focus its heading. */
  focusSection(key) {
    const section = this.sections.get(key);
    const pane = section.closest(".reader-pane");
    if (pane) {
      const below = pane.querySelector(".tabs")?.offsetHeight || 0;
      const top = section.getBoundingClientRect().top - pane.getBoundingClientRect().top + pane.scrollTop - below;
      const smooth = !matchMedia("(prefers-reduced-motion: reduce)").matches;
      pane.scrollTo({ top: Math.max(0, top), behavior: smooth ? "smooth" : "auto" });
    }
    section.querySelector("h3").focus({ preventScroll: true });
  }

  /** Run one section: a loading line, then its view, or the route's error with a way to retry. */
  async run(key, what, load, render, { pending = "Checking…" } = {}) {
    const body = this.bodies.get(key);
    body.replaceChildren(loading(pending));
    this.setCard(key, "checking…", "plain");
    body.setAttribute("aria-busy", "true");
    try {
      const data = await load();
      body.replaceChildren(...[render(data)].flat());
    } catch (error) {
      if (error.name === "AbortError") return; // the message is no longer shown
      body.replaceChildren(failure(what, error, () => this.run(key, what, load, render, { pending })));
      this.setCard(key, "error", "bad", error.message);
    } finally {
      body.removeAttribute("aria-busy");
    }
  }

  // Lint -----------------------------------------------------------------------------------
  runLint() {
    this.run("lint", "run the lint", () => this.checks.lint(), (data) => this.lintView(data));
  }

  lintView(data) {
    const findings = Array.isArray(data.Findings) ? data.Findings : [];
    const count = (severity) => findings.filter((f) => f.Severity === severity).length;
    const errors = data.Errors ?? count("error");
    const warnings = data.Warnings ?? count("warning");
    const infos = data.Infos ?? count("info");
    const tight = (n, one) => plural(n, one).replace(" ", "\u00a0"); // "2 errors" never split over two lines
    if (errors) this.setCard("lint", `${tight(errors, "error")}${warnings ? ` · ${tight(warnings, "warning")}` : ""}`, "bad");
    else if (warnings) this.setCard("lint", plural(warnings, "warning"), "warn");
    else this.setCard("lint", infos ? `clean, ${formatCount(infos)} note${infos === 1 ? "" : "s"}` : "clean", "ok");
    if (!findings.length) {
      return h("p", { class: "check-clean" }, pill("clean", "ok"), " No problems found: the headers, the MIME structure, the encodings and the addresses follow the standards the lint checks.");
    }
    const groups = [
      ["error", "Errors", "bad", "Receivers may reject or mangle the message."],
      ["warning", "Warnings", "warn", "Likely to cause trouble somewhere."],
      ["info", "Notes", "info", "Worth knowing."],
    ];
    const known = new Set(groups.map(([s]) => s));
    const out = [h("p", { class: "check-counts" },
      pill(plural(errors, "error"), errors ? "bad" : "plain"), " ",
      pill(plural(warnings, "warning"), warnings ? "warn" : "plain"), " ",
      pill(plural(infos, "note"), infos ? "info" : "plain"))];
    for (const [severity, title, kind, hint] of groups) {
      const items = findings.filter((f) => f.Severity === severity || (severity === "info" && !known.has(f.Severity)));
      if (!items.length) continue;
      out.push(h("h4", { class: `lint-group is-${kind}` }, `${title} (${formatCount(items.length)})`, h("span", { class: "muted", text: ` ${hint}` })));
      out.push(h("ul", { class: "lint-list" }, items.map((f) => this.finding(f, kind))));
    }
    return out;
  }

  finding(f, kind) {
    const where = f.Where || {};
    const places = [];
    if (where.Header) places.push(["header", where.Header]);
    if (where.Line) places.push(["line", String(where.Line)]);
    if (where.PartID) places.push(["part", where.PartID]);
    return h("li", { class: `lint-item is-${kind}` },
      h("span", { class: "lint-mark", "aria-hidden": "true" }),
      h("div", { class: "lint-main" },
        h("p", { class: "lint-message", text: sentence(f.Message || f.Code || "") }),
        h("p", { class: "lint-meta" },
          f.Code ? h("code", { class: "lint-code", text: f.Code }) : null,
          places.map(([label, value]) => h("span", { class: "lint-where" }, h("span", { class: "muted", text: `${label} ` }), h("span", { class: "mono", text: value }))),
          reference(f.Reference))));
  }

  // DKIM -----------------------------------------------------------------------------------
  runDkim() {
    this.run("dkim", "verify the signatures", () => this.checks.dkim(), (data) => this.dkimView(data), { pending: "Verifying…" });
  }

  dkimView(data) {
    const signatures = Array.isArray(data.Signatures) ? data.Signatures : [];
    const summary = dkimSummary(data);
    this.setCard("dkim", summary.text, summary.kind);
    const out = [];
    const arc = data.ARC || {};
    if (!signatures.length) {
      out.push(h("p", { class: "check-clean" }, pill("none", "plain"), " This message has no DKIM signature. Receivers that expect one (Gmail and Yahoo do for bulk senders) may reject it or file it as spam."));
    } else {
      out.push(h("ul", { class: "dkim-list" }, signatures.map((s) => this.signature(s))));
    }
    if (arc.Result && arc.Result !== "none") {
      out.push(h("p", { class: "dkim-arc" }, h("span", { class: "dkim-label", text: "ARC chain" }),
        pill(RESULT_TEXT[arc.Result] || arc.Result, RESULT_KIND[arc.Result] || "plain"),
        arc.Reason ? h("span", { class: "dkim-reason", text: arc.Reason }) : null));
    }
    return out;
  }

  signature(s) {
    const result = s.Result || "none";
    const headers = Array.isArray(s.Headers) ? s.Headers : [];
    return h("li", { class: `dkim-sig is-${RESULT_KIND[result] || "plain"}` },
      h("div", { class: "dkim-line" },
        pill(RESULT_TEXT[result] || result, RESULT_KIND[result] || "plain"),
        h("span", { class: "dkim-kind", text: s.Kind || "DKIM-Signature" }),
        h("span", { class: "dkim-id mono" },
          h("span", { class: "muted", text: "d=" }), s.Domain || "?", " ",
          h("span", { class: "muted", text: "s=" }), s.Selector || "?"),
        s.Algorithm ? h("span", { class: "dkim-alg mono muted", text: s.Algorithm }) : null),
      s.Reason ? h("p", { class: "dkim-reason", text: s.Reason }) : null,
      h("p", { class: "dkim-facts muted" },
        s.KeySource ? `Key from ${KEY_SOURCES[s.KeySource] || s.KeySource}` : null,
        headers.length ? h("span", { class: "dkim-headers", title: headers.join(", ") }, `${s.KeySource ? " · " : ""}signs ${plural(headers.length, "header")}: `, h("span", { class: "mono", text: headers.join(" ") })) : null));
  }

  // HTML compatibility --------------------------------------------------------------------------
  runHtml() {
    if (!this.message.html) {
      this.bodies.get("html").replaceChildren(note("This message has no HTML part: nothing to check."));
      this.setCard("html", "no HTML", "plain");
      return;
    }
    this.run("html", "check the HTML", () => this.checks.html(), (data) => {
      const total = htmlSummary(data);
      this.setCard("html", total.text, total.kind, total.title);
      return htmlSection(data);
    });
  }

  // Links ------------------------------------------------------------------------------------
  showLinks() {
    const body = this.bodies.get("links");
    const follow = h("input", { type: "checkbox", id: "check-follow", class: "check-follow" });
    follow.checked = this.followRedirects;
    follow.addEventListener("change", () => (this.followRedirects = follow.checked));
    const results = h("div", { class: "links-results" },
      note("Not run: it makes mailcatch request every link and image URL in this message, so it runs only when you ask."));
    const button = h("button", {
      type: "button", class: "btn primary small", "data-action": "check-links",
      onclick: () => this.runLinks(button, results),
    }, "Check links");
    body.replaceChildren(
      h("div", { class: "links-bar" }, button,
        h("label", { class: "check-option", for: "check-follow" }, follow, "Follow redirects")),
      h("p", { class: "links-note muted", text: "A HEAD request for each URL (GET where HEAD is refused), without cookies or credentials." }),
      results);
  }

  async runLinks(button, results) {
    button.disabled = true;
    button.textContent = "Checking…";
    results.setAttribute("aria-busy", "true");
    results.replaceChildren(loading("Requesting each link…"));
    this.setCard("links", "checking…", "plain");
    try {
      const data = await this.checks.links(this.followRedirects);
      results.replaceChildren(...this.linksView(data));
      button.textContent = "Check again";
    } catch (error) {
      if (error.name === "AbortError") return;
      results.replaceChildren(failure("check the links", error, null));
      this.setCard("links", "error", "bad", error.message);
      button.textContent = "Check links";
    } finally {
      button.disabled = false;
      results.removeAttribute("aria-busy");
    }
  }

  linksView(data) {
    const links = Array.isArray(data.Links) ? data.Links : [];
    const bad = links.filter(linkFailed);
    const errors = typeof data.Errors === "number" ? data.Errors : bad.length;
    if (!links.length) {
      this.setCard("links", "no links", "plain");
      return [note("This message has no links or image URLs.")];
    }
    this.setCard("links", errors ? `${formatCount(errors)} of ${formatCount(links.length)} failed` : `${formatCount(links.length)} OK`, errors ? "bad" : "ok");
    // Failures first, then the rest in the message's order.
    const ordered = [...bad, ...links.filter((l) => !linkFailed(l))];
    const rows = ordered.map((link) => {
      const failed = linkFailed(link);
      const code = Number(link.StatusCode) || 0;
      const kind = failed ? "bad" : code >= 300 && code < 400 ? "warn" : "ok";
      const url = String(link.URL || "");
      return h("tr", { class: failed ? "is-failed" : null },
        h("td", { class: "link-code" }, pill(code ? String(code) : "error", kind)),
        h("td", { class: "link-url" },
          safeLink(url)
            ? h("a", { href: url, target: "_blank", rel: "noopener noreferrer", class: "mono", text: url })
            : h("span", { class: "mono", text: url }),
          link.Status ? h("span", { class: "link-status", text: link.Status }) : null));
    });
    const skipped = Number(data.Skipped) || 0;
    return [
      h("p", { class: "check-counts" },
        pill(plural(links.length, "URL"), "plain"), " ",
        pill(`${formatCount(errors)} failed`, errors ? "bad" : "ok"),
        skipped ? pill(`${formatCount(skipped)} more not checked (the first ${formatCount(links.length)} were)`, "warn") : null),
      h("div", { class: "check-table-wrap" },
        h("table", { class: "check-table links-table" },
          h("caption", { class: "visually-hidden", text: "Each link's status, failures first" }),
          h("thead", null, h("tr", null, h("th", { scope: "col", text: "Status" }), h("th", { scope: "col", text: "URL and reply" }))),
          h("tbody", null, rows))),
    ];
  }

  // Spam -------------------------------------------------------------------------------------
  async runSpam() {
    const info = await webui();
    if (!info || info.SpamAssassin !== true) return;
    this.cards.get("spam").li.hidden = false;
    this.sections.get("spam").hidden = false;
    this.run("spam", "get the spam score", () => this.checks.spam(), (data) => this.spamView(data), { pending: "Asking SpamAssassin…" });
  }

  spamView(data) {
    if (data.Error) {
      this.setCard("spam", "error", "bad", data.Error);
      return failure("get the spam score", new Error(data.Error), () => {
        this.checks.results.delete("sa-check");
        this.run("spam", "get the spam score", () => this.checks.spam(), (d) => this.spamView(d), { pending: "Asking SpamAssassin…" });
      });
    }
    const score = Number(data.Score) || 0;
    const spam = data.IsSpam === true;
    this.setCard("spam", `${score.toFixed(1)}${spam ? ", spam" : ""}`, spam ? "bad" : score > 0 ? "warn" : "ok");
    const rules = (Array.isArray(data.Rules) ? data.Rules : []).slice().sort((a, b) => (Number(b.Score) || 0) - (Number(a.Score) || 0));
    const head = h("div", { class: "spam-head" },
      h("span", { class: `spam-score is-${spam ? "bad" : "ok"}`, text: score.toFixed(1) }),
      h("span", null, spam ? pill("spam", "bad") : pill("not spam", "ok"),
        h("span", { class: "muted", text: ` SpamAssassin's score; 5.0 and above is spam by default.` })));
    if (!rules.length) return [head, note("No rule matched.")];
    return [head, h("div", { class: "check-table-wrap" },
      h("table", { class: "check-table spam-table" },
        h("caption", { class: "visually-hidden", text: "The SpamAssassin rules that matched, highest score first" }),
        h("thead", null, h("tr", null, h("th", { scope: "col", text: "Score" }), h("th", { scope: "col", text: "Rule" }), h("th", { scope: "col", text: "What it means" }))),
        h("tbody", null, rules.map((rule) => {
          const value = Number(rule.Score) || 0;
          return h("tr", null,
            h("td", { class: `spam-rule-score ${value > 0 ? "is-bad" : value < 0 ? "is-ok" : ""}`, text: `${value > 0 ? "+" : ""}${value.toFixed(1)}` }),
            h("td", { class: "mono", text: rule.Name || "" }),
            h("td", { text: rule.Description || "" }));
        }))))];
  }
}

/** A finding's text as a sentence: its first letter capitalised. */
function sentence(text) {
  return text ? text[0].toUpperCase() + text.slice(1) : "";
}

function linkFailed(link) {
  const code = Number(link.StatusCode) || 0;
  return code === 0 || code >= 400;
}

/** One word for a message's DKIM: pass when a DKIM-Signature verifies, else the first's result. */
export function dkimSummary(data) {
  const signatures = (Array.isArray(data.Signatures) ? data.Signatures : []).filter((s) => !s.Kind || s.Kind === "DKIM-Signature");
  if (!signatures.length) return { result: "none", text: "unsigned", kind: "plain" };
  const passing = signatures.find((s) => s.Result === "pass");
  const result = passing ? "pass" : signatures[0].Result || "none";
  const domain = (passing || signatures[0]).Domain;
  return { result, text: RESULT_TEXT[result] || result, kind: RESULT_KIND[result] || "plain", domain, reason: passing ? "" : signatures[0].Reason || "" };
}

/**
 * The DKIM item beside the envelope: a Verify button until the signatures have been checked
 * (here or in the Checks tab), then the result, which opens the Checks tab's DKIM section.
 */
export function dkimBadge(checks, onOpen) {
  const slot = h("span", { class: "dkim-badge" });
  const open = (label, kind, title, result) => h("button", {
    type: "button", class: `check-pill is-${kind} dkim-badge-btn`, "data-result": result, title,
    "aria-label": `DKIM: ${label}. Show the DKIM check`, onclick: () => onOpen("dkim"),
  }, label);
  const verify = h("button", {
    type: "button", class: "dkim-verify", title: "Verify this message's DKIM signatures",
    "aria-label": "Verify DKIM signatures", onclick: () => checks.dkim(),
  }, "verify");
  slot.append(verify);
  checks.listen((name, state, value) => {
    if (name !== "dkim") return;
    if (state === "start") {
      verify.disabled = true;
      verify.textContent = "verifying…";
      slot.replaceChildren(verify);
    } else if (state === "done") {
      const s = dkimSummary(value);
      const label = s.result === "none" ? "no signature" : `${s.text}${s.domain ? ` (${s.domain})` : ""}`;
      slot.replaceChildren(open(label, s.kind, `${s.reason ? `${s.reason}. ` : ""}Show the DKIM check`, s.result));
    } else {
      slot.replaceChildren(open("couldn't verify", "bad", `${value.message}. Show the DKIM check`, "error"));
    }
  });
  return slot;
}
