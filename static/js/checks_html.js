// The Checks tab's HTML compatibility section (GET /api/v1/message/{ID}/html-check, Mailpit's
// shape): the total score, then each HTML element or CSS property the message uses with the
// share of email clients that support it, partly support it or don't, filterable by platform.
// A row opens to the feature's description, where the message uses it, and each client's
// support. Descriptions and notes come from caniemail's data as HTML or Markdown: they reach the
// page as text, code and plain http(s) links rebuilt here, never as markup.
import { h, formatCount, safeLink } from "./dom.js";

const PLATFORM_NAMES = {
  "desktop-app": "Desktop apps",
  "desktop-webmail": "Desktop webmail",
  "mobile-webmail": "Mobile webmail",
  webmail: "Webmail",
  ios: "iOS",
  android: "Android",
  windows: "Windows",
  "windows-mail": "Windows Mail",
  macos: "macOS",
  "outlook-com": "Outlook.com",
};
const SUPPORT = { yes: ["supported", "ok"], partial: ["partial", "warn"], no: ["unsupported", "bad"] };

function platformName(key) {
  return PLATFORM_NAMES[key] || key.replace(/[-_]/g, " ").replace(/^./, (c) => c.toUpperCase());
}

function percent(value) {
  const n = Number(value) || 0;
  return n > 0 && n < 1 ? "<1%" : n > 99 && n < 100 ? ">99%" : `${Math.round(n)}%`;
}

/** One line for the summary card: the total share of supported features. */
export function htmlSummary(data) {
  const total = data.Total || {};
  const warnings = Array.isArray(data.Warnings) ? data.Warnings : [];
  if (!warnings.length) return { text: "no issues", kind: "ok", title: "" };
  const supported = Number(total.Supported) || 0;
  return {
    text: `${percent(supported)} supported`,
    kind: supported >= 90 ? "ok" : supported >= 70 ? "warn" : "bad",
    title: `${percent(total.Partial)} partial, ${percent(total.Unsupported)} unsupported`,
  };
}

/** A stacked bar of supported / partial / unsupported shares (numbers out of 100). */
function bar(yes, partial, no, big = false) {
  const label = `${percent(yes)} supported, ${percent(partial)} partial, ${percent(no)} unsupported`;
  const seg = (kind, value) => (value > 0 ? h("span", { class: `bar-seg is-${kind}`, style: `width:${Math.max(0, Math.min(100, value))}%` }) : null);
  return h("span", { class: `support-bar${big ? " is-big" : ""}`, role: "img", "aria-label": label, title: label },
    seg("ok", yes), seg("warn", partial), seg("bad", no));
}

/** A feature's shares recomputed from its results on one platform (all of them for ""). */
function scoreFor(warning, platform) {
  const results = (Array.isArray(warning.Results) ? warning.Results : []).filter((r) => !platform || r.Platform === platform);
  if (!platform) {
    const s = warning.Score || {};
    return { results, yes: Number(s.Supported) || 0, partial: Number(s.Partial) || 0, no: Number(s.Unsupported) || 0, found: Number(s.Found) || 0 };
  }
  let yes = 0;
  let partial = 0;
  let no = 0;
  for (const r of results) {
    if (r.Support === "yes") yes += 1;
    else if (r.Support === "no") no += 1;
    else partial += 1;
  }
  const n = results.length || 1;
  return { results, yes: (yes / n) * 100, partial: (partial / n) * 100, no: (no / n) * 100, found: Number(warning.Score?.Found) || 0 };
}

/** The total on one platform, weighted as the route weighs it: the worst feature counts, by how often it is found. */
function totalFor(data, scores, platform) {
  const total = data.Total || {};
  if (!platform) return { yes: Number(total.Supported) || 0, partial: Number(total.Partial) || 0, no: Number(total.Unsupported) || 0 };
  const nodes = Number(total.Nodes) || 1;
  let partial = 0;
  let no = 0;
  for (const s of scores) {
    if (!s.results.length) continue;
    partial = Math.max(partial, (s.partial * s.found) / nodes);
    no = Math.max(no, (s.no * s.found) / nodes);
  }
  partial = Math.min(100, partial);
  no = Math.min(100 - partial, no);
  return { yes: 100 - partial - no, partial, no };
}

/** caniemail's description or note (HTML or Markdown) as text, code and safe links only. */
export function richText(source) {
  const text = String(source || "");
  const out = h("span", { class: "rich" });
  if (!/[<&]/.test(text)) {
    // Markdown as caniemail writes it: `code` and [text](url).
    const pattern = /`([^`]+)`|\[([^\]]+)\]\(([^)\s]+)\)/g;
    let last = 0;
    for (const m of text.matchAll(pattern)) {
      out.append(text.slice(last, m.index));
      if (m[1] !== undefined) out.append(h("code", { text: m[1] }));
      else out.append(safeLink(m[3]) ? h("a", { href: m[3], target: "_blank", rel: "noopener noreferrer", text: m[2] }) : m[2]);
      last = m.index + m[0].length;
    }
    out.append(text.slice(last));
    return out;
  }
  // HTML: parsed into an inert document (nothing in it loads or runs), and rebuilt.
  const doc = new DOMParser().parseFromString(text, "text/html");
  const walk = (node, into) => {
    for (const child of node.childNodes) {
      if (child.nodeType === Node.TEXT_NODE) {
        into.append(child.textContent);
      } else if (child.nodeType === Node.ELEMENT_NODE) {
        const tag = child.tagName.toLowerCase();
        if (tag === "script" || tag === "style") continue;
        if (tag === "br") {
          into.append(h("br"));
        } else if (tag === "code") {
          into.append(h("code", { text: child.textContent }));
        } else if (tag === "a" && safeLink(child.getAttribute("href") || "")) {
          into.append(h("a", { href: child.getAttribute("href"), target: "_blank", rel: "noopener noreferrer", text: child.textContent }));
        } else {
          walk(child, into);
          if (tag === "p" || tag === "li") into.append(" ");
        }
      }
    }
  };
  walk(doc.body, out);
  return out;
}

/** Where the message uses a feature, as the route says it (line, column, a bit of the source). */
function places(warning) {
  const raw = warning.Where ?? warning.Locations ?? warning.Places ?? null;
  const list = Array.isArray(raw) ? raw : raw ? [raw] : [];
  return list.map((p) => {
    if (typeof p === "string" || typeof p === "number") return { line: null, text: String(p) };
    const line = p.Line ?? p.line ?? null;
    const column = p.Column ?? p.Col ?? null;
    const text = p.Snippet ?? p.Source ?? p.Context ?? p.Text ?? p.Selector ?? p.Tag ?? "";
    return { line, column, text: String(text) };
  });
}

function whereText(list) {
  if (!list.length) return "";
  const lines = [...new Set(list.map((p) => p.line).filter((l) => l !== null && l !== undefined))];
  if (!lines.length) return `${formatCount(list.length)} place${list.length === 1 ? "" : "s"}`;
  const shown = lines.slice(0, 4).join(", ");
  return `line${lines.length === 1 ? "" : "s"} ${shown}${lines.length > 4 ? `, +${formatCount(lines.length - 4)}` : ""}`;
}

const PLACES_SHOWN = 12;

function detail(warning, score) {
  const out = h("div", { class: "html-detail" });
  if (warning.Description) out.append(h("p", { class: "html-desc" }, richText(warning.Description)));
  const where = places(warning);
  if (where.length) {
    out.append(h("h5", { text: "Where in the HTML" }));
    out.append(h("ol", { class: "html-places" }, where.slice(0, PLACES_SHOWN).map((p) =>
      h("li", null,
        p.line !== null && p.line !== undefined ? h("span", { class: "html-place-line", text: `line ${p.line}${p.column ? `:${p.column}` : ""}` }) : null,
        p.text ? h("code", { class: "html-place-src", text: p.text.length > 200 ? `${p.text.slice(0, 200)}…` : p.text }) : null))));
    if (where.length > PLACES_SHOWN) out.append(h("p", { class: "muted", text: `and ${formatCount(where.length - PLACES_SHOWN)} more` }));
  }
  const results = score.results.slice().sort((a, b) => String(a.Name).localeCompare(String(b.Name)));
  if (results.length) {
    out.append(h("h5", { text: "Support by client" }));
    out.append(h("ul", { class: "html-clients" }, results.map((r) => {
      const [word, kind] = SUPPORT[r.Support] || SUPPORT.partial;
      return h("li", { class: `html-client is-${kind}`, title: `${r.Name}: ${word}${r.NoteNumber ? ` (note ${r.NoteNumber})` : ""}` },
        h("span", { class: "html-client-dot", "aria-hidden": "true" }),
        h("span", { text: r.Name || `${r.Family || ""} ${r.Platform || ""} ${r.Version || ""}` }),
        h("span", { class: "visually-hidden", text: `: ${word}` }),
        r.NoteNumber ? h("sup", { class: "html-note-ref", text: r.NoteNumber }) : null);
    })));
  }
  const notes = Object.entries(warning.NotesByNumber || {});
  if (notes.length) {
    out.append(h("ol", { class: "html-notes" }, notes.map(([n, text]) => h("li", { value: Number(n) || null }, h("span", { class: "html-note-num", text: `${n}.` }), " ", richText(text)))));
  }
  if (safeLink(warning.URL || "")) {
    out.append(h("p", { class: "html-more" }, h("a", { href: warning.URL, target: "_blank", rel: "noopener noreferrer", text: "More on caniemail.com" })));
  }
  return out;
}

/** The section's content for one html-check answer. */
export function htmlSection(data) {
  const warnings = Array.isArray(data.Warnings) ? data.Warnings : [];
  const total = data.Total || {};
  const platforms = Object.keys(data.Platforms || {}).sort((a, b) => platformName(a).localeCompare(platformName(b)));
  if (!warnings.length) {
    return h("p", { class: "check-clean" }, h("span", { class: "check-pill is-ok", text: "no issues" }),
      ` None of the ${formatCount(Number(total.Tests) || 0)} HTML and CSS features checked has support problems in the email clients caniemail knows.`);
  }
  let platform = "";
  const open = new Set(); // slugs whose detail row is open
  const totalBox = h("div", { class: "html-total" });
  const body = h("tbody");
  const select = h("select", { id: "html-platform", class: "check-select" },
    h("option", { value: "", text: "All platforms" }),
    platforms.map((p) => {
      const clients = (data.Platforms[p] || []).length;
      return h("option", { value: p, text: `${platformName(p)}${clients ? ` (${clients} client${clients === 1 ? "" : "s"})` : ""}` });
    }));
  select.addEventListener("change", () => {
    platform = select.value;
    render();
  });
  const count = h("span", { class: "muted html-count", "aria-live": "polite" });
  // Features every client supports are listed too, but only when asked: they need no work.
  let showAll = false;
  const all = h("input", { type: "checkbox", id: "html-all" });
  all.addEventListener("change", () => {
    showAll = all.checked;
    render();
  });
  const allLabel = h("label", { class: "check-option", for: "html-all" }, all, h("span"));

  const render = () => {
    const scored = warnings.map((w) => ({ w, s: scoreFor(w, platform) }));
    const t = totalFor(data, scored.map((x) => x.s), platform);
    totalBox.replaceChildren(
      h("div", { class: "html-total-figure" },
        h("span", { class: "html-total-num", text: percent(t.yes) }),
        h("span", { class: "html-total-label", text: platform ? `supported on ${platformName(platform)}` : "supported" })),
      h("div", { class: "html-total-bar" },
        bar(t.yes, t.partial, t.no, true),
        h("p", { class: "html-legend" },
          h("span", { class: "legend-key is-ok", text: `${percent(t.yes)} supported` }),
          h("span", { class: "legend-key is-warn", text: `${percent(t.partial)} partial` }),
          h("span", { class: "legend-key is-bad", text: `${percent(t.no)} unsupported` })),
        h("p", { class: "muted html-tests", text: `${formatCount(warnings.length)} feature${warnings.length === 1 ? "" : "s"} found in ${formatCount(Number(total.Nodes) || 0)} HTML element${Number(total.Nodes) === 1 ? "" : "s"}, of ${formatCount(Number(total.Tests) || 0)} that caniemail knows` })));
    const weight = ({ s }) => (s.results.length ? (s.no + s.partial) * Math.max(1, s.found) : -1);
    scored.sort((a, b) => weight(b) - weight(a));
    const rows = [];
    let shown = 0;
    let fine = 0;
    for (const { w, s } of scored) {
      const slug = w.Slug || w.Title;
      const id = `html-detail-${String(slug).replace(/[^a-z0-9_-]/gi, "_")}`;
      const expanded = open.has(slug);
      const noData = platform && !s.results.length;
      if (!noData && s.no <= 0 && s.partial <= 0) {
        fine += 1;
        if (!showAll) continue;
      }
      if (!noData) shown += 1;
      const where = whereText(places(w));
      const toggle = h("button", {
        type: "button", class: "html-toggle", "aria-expanded": String(expanded), "aria-controls": id,
        onclick: () => {
          if (open.has(slug)) open.delete(slug);
          else open.add(slug);
          render();
          body.querySelector(`[aria-controls="${id}"]`)?.focus();
        },
      },
      h("span", { class: "html-caret", "aria-hidden": "true" }),
      h("span", { class: "html-title", text: w.Title || slug }));
      rows.push(h("tr", { class: `html-row${noData ? " is-nodata" : ""}`, "data-slug": slug },
        h("th", { scope: "row" }, toggle,
          h("span", { class: "html-tags" },
            w.Category ? h("span", { class: "html-cat", text: String(w.Category).toUpperCase() }) : null,
            where ? h("span", { class: "html-where", text: where }) : null)),
        h("td", { class: "html-support" }, noData
          ? h("span", { class: "muted", text: "no data for this platform" })
          : [bar(s.yes, s.partial, s.no),
            h("span", { class: "html-shares" },
              h("span", { class: "is-ok", text: percent(s.yes) }),
              s.partial > 0 ? h("span", { class: "is-warn", text: ` · ${percent(s.partial)} partial` }) : null,
              s.no > 0 ? h("span", { class: "is-bad", text: ` · ${percent(s.no)} no` }) : null)]),
        h("td", { class: "html-found", text: s.found ? `${formatCount(s.found)}×` : "" })));
      if (expanded) rows.push(h("tr", { class: "html-detail-row", id }, h("td", { colspan: "3" }, detail(w, s))));
    }
    body.replaceChildren(...rows);
    if (!rows.length) body.append(h("tr", null, h("td", { colspan: "3", class: "muted", text: "Every feature the message uses is supported everywhere." })));
    allLabel.lastChild.textContent = `Show fully supported (${formatCount(fine)})`;
    allLabel.hidden = fine === 0;
    count.textContent = platform ? `${formatCount(shown)} feature${shown === 1 ? "" : "s"} with data for ${platformName(platform)}` : "";
  };
  render();
  return [
    totalBox,
    h("div", { class: "html-filter" },
      h("label", { for: "html-platform", text: "Platform" }), select, allLabel, count),
    h("div", { class: "check-table-wrap" },
      h("table", { class: "check-table html-table" },
        h("caption", { class: "visually-hidden", text: "HTML and CSS features the message uses, least supported first; open one for its details" }),
        h("thead", null, h("tr", null,
          h("th", { scope: "col", text: "Feature" }),
          h("th", { scope: "col", text: "Support in email clients" }),
          h("th", { scope: "col", class: "html-found", text: "Found" }))),
        body)),
  ];
}
