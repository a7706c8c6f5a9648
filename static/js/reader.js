// The reading pane: the message's addresses, its SMTP envelope, and seven views as tabs.
import { api, urls } from "./api.js";
import { h, icon, addressText, addressList, formatSize, fullTime, lazyFormat, linkify } from "./dom.js";
import { buildSrcdoc } from "./sanitize.js";
import { releaseButton } from "./release.js";
import { TagEditor } from "./tags_editor.js";
import { isTextual, isPdf, textThumbnail, previewText, previewPdf } from "./attachment_preview.js";
import { downloadHtmlPng } from "./html_shot.js";
import { toast } from "./toast.js";
import { ChecksView, MessageChecks, dkimBadge } from "./checks.js";

export const TABS = [
  ["html", "HTML"],
  ["text", "Text"],
  ["headers", "Headers"],
  ["raw", "Raw"],
  ["transcript", "Transcript"],
  ["attachments", "Attachments"],
  ["checks", "Checks"],
];
const SHORT_LABELS = { attachments: "Files", transcript: "SMTP" }; // on a phone, so that all seven tabs fit
const WIDTHS = [["phone", "Phone", 375], ["tablet", "Tablet", 768], ["full", "Full", 0]];
const RAW_LIMIT = 2 * 1024 * 1024;
const TEXT_LIMIT = 1024 * 1024;
const TRANSCRIPT_ALL = 400; // sessions up to this many lines are shown whole
const TRANSCRIPT_HEAD = 12;
const TRANSCRIPT_CONTEXT = 8;
let viewRoute = null; // resolves to whether the server has /view/{ID}.html
const PREVIEWABLE = /^image\/(png|jpe?g|gif|webp|avif|bmp|svg\+xml|x-icon|vnd\.microsoft\.icon)$/i;

export class Reader {
  /** @param {HTMLElement} el the pane; hooks {onDelete(id), onSetRead(id, read), onClose(), onSearch(query), onError(e)} */
  constructor(el, hooks) {
    this.el = el;
    this.hooks = hooks;
    this.placeholder = el.firstElementChild;
    this.message = null;
    this.tab = sessionStorage.getItem("mailcatch.tab") || "html";
    this.width = sessionStorage.getItem("mailcatch.width") || "full";
    this.remote = new Set(); // IDs whose remote content the reader allowed
    this.cache = new Map(); // tab -> loaded data for the open message
    this.token = 0;
    // Set while the page couldn't reach mailcatch, until a message opens again: a message found
    // missing meanwhile may have gone with a restart, not a delete.
    this.afterOutage = false;
  }

  get openId() {
    return this.message ? this.message.ID : null;
  }

  /** Load and show a message; resolves once its first view is on screen. */
  async open(id) {
    const token = ++this.token;
    this.el.setAttribute("aria-busy", "true");
    let message;
    try {
      message = await api.message(id);
    } catch (error) {
      if (token !== this.token) return;
      this.el.removeAttribute("aria-busy");
      if (error.status === 404) this.showGone();
      else if (error.status === 0) this.showGone("Couldn't open this message.", "mailcatch can't be reached; open it again once it is back.");
      else this.hooks.onError(error);
      return;
    }
    if (token !== this.token) return;
    this.afterOutage = false;
    this.message = message;
    this.cache = new Map();
    this.render();
    this.el.removeAttribute("aria-busy");
  }

  close() {
    this.token += 1;
    this.checks?.abort();
    this.message = null;
    this.el.replaceChildren(this.placeholder);
  }

  showGone(title = "", detail = "") {
    if (!title && this.afterOutage) {
      title = "This message is no longer in the mailbox.";
      detail = "mailcatch was restarted (or the message deleted) while this page couldn't reach it; a catcher without --database starts empty.";
    }
    title = title || "This message was deleted.";
    this.token += 1;
    this.checks?.abort();
    this.message = null;
    this.el.replaceChildren(h("div", { class: "reader-empty reader-gone" },
      h("p", { class: "gone-title", text: title }),
      detail ? h("p", { class: "muted", text: detail }) : null,
      h("button", { type: "button", class: "btn small", onclick: () => this.hooks.onClose() }, "Back to the list")));
  }

  /** The open message's tags changed (here or elsewhere). */
  setTags(tags) {
    if (!this.message) return;
    this.message.Tags = tags;
    this.tagEditor?.set(tags);
  }

  /** Open the field for a new tag on the open message. */
  addTag() {
    if (this.message) this.tagEditor?.edit();
  }

  setRead(read) {
    if (!this.message) return;
    this.message.Read = read;
    const button = this.el.querySelector("[data-action=read]");
    if (button) this.updateReadButton(button);
  }

  updateReadButton(button) {
    const read = this.message.Read !== false;
    button.replaceChildren(icon(read ? "unread" : "read"), h("span", { text: read ? "Mark unread" : "Mark read" }));
    button.title = read ? "Mark unread (u)" : "Mark read (u)";
  }

  // Layout -------------------------------------------------------------------------
  render() {
    const m = this.message;
    const readButton = h("button", {
      type: "button", class: "btn ghost", "data-action": "read", "data-needs-server": true,
      onclick: () => this.hooks.onSetRead(m.ID, m.Read === false),
    });
    this.updateReadButton(readButton);
    const back = h("button", { type: "button", class: "btn ghost back", onclick: () => this.hooks.onClose(), "aria-label": "Back to the list" },
      icon("back"), h("span", { text: "Back" }));
    const nav = (dir, label, key) => h("button", {
      type: "button", class: "btn ghost nav", "data-nav": dir, "aria-label": `${label} message`, title: `${label} message (${key})`,
      onclick: () => this.hooks.onNavigate(dir === "prev" ? -1 : 1),
    }, icon(dir === "prev" ? "up" : "down"));
    const actions = h("div", { class: "reader-actions" },
      h("span", { class: "reader-nav", role: "group", "aria-label": "Previous and next message" }, nav("prev", "Previous", "k"), nav("next", "Next", "j")),
      readButton,
      h("a", { class: "btn ghost", href: urls.download(m.ID), download: `${m.ID}.eml`, title: "Download the .eml file" },
        icon("download"), h("span", { text: "Download" })),
      releaseButton(m),
      h("button", { type: "button", class: "btn ghost danger", "data-action": "delete", "data-needs-server": true, title: "Delete (Delete)", onclick: () => this.hooks.onDelete(m.ID) },
        icon("trash"), h("span", { text: "Delete" })),
    );

    this.checks?.abort(); // the previous message's checks still under way
    this.checks = new MessageChecks(m.ID); // what the Checks tab and the DKIM badge fetched
    this.tagEditor = new TagEditor({
      tags: m.Tags || [],
      onChange: (tags) => this.hooks.onSetTags(m.ID, tags),
      onSearch: (query) => this.hooks.onSearch(query),
    });
    const subject = h("h2", { class: "subject", id: "reader-subject" }, m.Subject || "(no subject)");
    if (!m.Subject) subject.classList.add("is-empty");

    const people = h("dl", { class: "people" });
    const row = (label, value) => {
      if (!value) return;
      people.append(h("dt", { text: label }), h("dd", { text: value }));
    };
    row("From", addressText(m.From));
    row("To", addressList(m.To));
    row("Cc", addressList(m.Cc));
    row("Bcc", addressList(m.Bcc));
    row("Reply-To", addressList(m.ReplyTo));
    const side = h("div", { class: "head-side" },
      h("time", { datetime: m.Date, title: fullTime(m.Date), text: shortDate(m.Date) }),
      h("span", { text: formatSize(m.Size) }),
      this.tagEditor.el);

    const head = h("header", { class: "reader-head" },
      h("div", { class: "head-top" }, back, subject, actions),
      h("div", { class: "head-grid" }, people, side),
      this.envelope(m));

    const tablist = h("div", { class: "tabs", role: "tablist", "aria-label": "Message views" });
    for (const [key, label] of TABS) {
      const count = key === "attachments" ? (m.Attachments || []).length + (m.Inline || []).length : 0;
      const tab = h("button", {
        type: "button", role: "tab", id: `tab-${key}`, class: "tab", "aria-controls": "tabpanel",
        "aria-selected": "false", tabindex: "-1", "data-tab": key, "aria-label": label,
      }, SHORT_LABELS[key] ? [h("span", { class: "tab-long", text: label }), h("span", { class: "tab-short", text: SHORT_LABELS[key] })] : label,
      count ? h("span", { class: "badge", "aria-hidden": "true", text: String(count) }) : null);
      if ((key === "html" && !m.HTML) || (key === "text" && !m.Text) || (key === "attachments" && !count)) {
        tab.classList.add("is-empty");
      }
      tab.addEventListener("click", () => this.selectTab(key, { focus: false }));
      tablist.append(tab);
    }
    tablist.addEventListener("keydown", (event) => this.tabKeys(event));

    this.panel = h("div", { class: "tabpanel", id: "tabpanel", role: "tabpanel", tabindex: "0" });
    this.tablist = tablist;
    this.el.replaceChildren(h("article", { class: "reader", "aria-labelledby": "reader-subject" }, head, tablist, this.panel));
    this.el.scrollTop = 0;
    let tab = this.tab;
    if (tab === "html" && !m.HTML) tab = "text";
    if (tab === "text" && !m.Text && m.HTML) tab = "html";
    this.selectTab(tab, { focus: false, remember: false });
  }

  envelope(m) {
    const env = m.Envelope;
    if (!env) return null;
    const shown = new Set([...(m.To || []), ...(m.Cc || [])].map((a) => (a.Address || "").toLowerCase()));
    const rcpts = h("span", { class: "env-rcpts" });
    (env.To || []).forEach((address, i) => {
      if (i) rcpts.append(", ");
      rcpts.append(h("span", { class: "mono", text: `<${address}>` }));
      if (!shown.has(address.toLowerCase())) rcpts.append(" ", h("span", { class: "chip", title: "In the envelope but in no To or Cc header", text: "bcc" }));
    });
    const item = (label, ...value) => h("div", { class: "env-item" }, h("dt", { text: label }), h("dd", null, ...value));
    const options = (env.MailOptions || []).join(" ");
    return h("section", { class: "envelope", "aria-label": "SMTP envelope" },
      h("dl", null,
        item("MAIL FROM", h("span", { class: "mono", text: `<${env.From || ""}>` }), options ? h("span", { class: "mono muted", text: ` ${options}` }) : null),
        item("RCPT TO", rcpts),
        item("Peer", h("span", { class: "mono", text: env.Peer || "unknown" })),
        item("HELO", h("span", { class: "mono", text: env.Helo || "(none)" })),
        item("TLS", env.TLS ? h("span", { class: "chip ok", text: "yes" }) : h("span", { class: "chip", text: "no" })),
        item("AUTH", env.Username ? h("span", { class: "mono", text: env.Username }) : h("span", { class: "muted", text: "none" })),
        item("DKIM", dkimBadge(this.checks, (section) => this.showCheck(section))),
      ));
  }

  tabKeys(event) {
    const keys = TABS.map(([k]) => k);
    const at = keys.indexOf(this.tab);
    let next = null;
    if (event.key === "ArrowRight") next = keys[(at + 1) % keys.length];
    else if (event.key === "ArrowLeft") next = keys[(at - 1 + keys.length) % keys.length];
    else if (event.key === "Home") next = keys[0];
    else if (event.key === "End") next = keys[keys.length - 1];
    if (next) {
      event.preventDefault();
      event.stopPropagation();
      this.selectTab(next, { focus: true });
    }
  }

  /** Show one view; `remember` keeps the choice for the next message. */
  selectTab(key, { focus = false, remember = true } = {}) {
    if (!this.message) return;
    if (remember) {
      this.tab = key;
      sessionStorage.setItem("mailcatch.tab", key);
    }
    for (const tab of this.tablist.children) {
      const selected = tab.dataset.tab === key;
      tab.setAttribute("aria-selected", String(selected));
      tab.tabIndex = selected ? 0 : -1;
      if (selected && focus) tab.focus();
    }
    this.panel.setAttribute("aria-labelledby", `tab-${key}`);
    this.panel.dataset.view = key;
    const message = this.message;
    const token = this.token;
    const show = (...nodes) => {
      if (this.message === message && this.token === token && this.panel.dataset.view === key) this.panel.replaceChildren(...nodes);
    };
    const views = {
      html: () => this.htmlView(message),
      text: () => this.textView(message),
      headers: () => this.lazy(key, () => api.headers(message.ID), (d) => this.headersView(d)),
      raw: () => this.lazy(key, () => api.raw(message.ID, RAW_LIMIT), (d) => this.rawView(message, d)),
      transcript: () => this.lazy(key, () => api.transcript(message.ID), (d) => this.transcriptView(d)),
      attachments: () => this.attachmentsView(message),
      checks: () => this.checksView(message),
    };
    const result = views[key]();
    if (result instanceof Promise) {
      this.panel.replaceChildren(h("p", { class: "loading", text: "Loading…" }));
      result.then((node) => show(node), (error) => show(h("p", { class: "error", text: `Couldn't load this view: ${error.message}` })));
    } else {
      show(result);
    }
  }

  async lazy(key, load, view) {
    if (!this.cache.has(key)) this.cache.set(key, load());
    try {
      return view(await this.cache.get(key));
    } catch (error) {
      this.cache.delete(key);
      throw error;
    }
  }

  /** The Checks tab with one of its sections in view (from the DKIM badge). */
  showCheck(section) {
    this.selectTab("checks", { focus: false });
    requestAnimationFrame(() => this.cache.get("checks")?.focusSection(section));
  }

  // Views ------------------------------------------------------------------------------
  /** Built once per opened message (its checks run then), kept while the message is open. */
  checksView(m) {
    if (!this.cache.has("checks")) this.cache.set("checks", new ChecksView(this.checks, { html: Boolean(m.HTML && m.HTML.trim()) }));
    return this.cache.get("checks").el;
  }

  htmlView(m) {
    if (!m.HTML) return this.nothing("This message has no HTML part.", m.Text ? "text" : null);
    const allow = this.remote.has(m.ID);
    const built = buildSrcdoc(m.HTML, {
      origin: location.origin,
      partUrl: (partId) => urls.part(m.ID, partId),
      parts: [...(m.Inline || []), ...(m.Attachments || [])],
      allowRemote: allow,
    });
    const frame = h("iframe", {
      class: "html-frame",
      title: "HTML body of the message",
      sandbox: "allow-popups allow-popups-to-escape-sandbox",
      referrerpolicy: "no-referrer",
      srcdoc: built.srcdoc,
    });
    const stage = h("div", { class: "html-stage", "data-width": this.width }, frame);
    const switcher = h("div", { class: "segmented", role: "group", "aria-label": "Preview width" });
    for (const [key, label, px] of WIDTHS) {
      switcher.append(h("button", {
        type: "button", class: "seg", "aria-pressed": String(this.width === key), "data-width": key,
        title: px ? `${label}: ${px} px wide` : "Full width",
        onclick: () => {
          this.width = key;
          sessionStorage.setItem("mailcatch.width", key);
          stage.dataset.width = key;
          for (const b of switcher.children) b.setAttribute("aria-pressed", String(b.dataset.width === key));
        },
      }, label, px ? h("span", { class: "muted", text: ` ${px}` }) : null));
    }
    let notice = null;
    if (built.blocked && !allow) {
      const hosts = built.hosts.slice(0, 3).join(", ") + (built.hosts.length > 3 ? ", …" : "");
      notice = h("div", { class: "notice", role: "note" },
        icon("shield"),
        h("span", { text: `Remote content blocked: ${built.blocked} item${built.blocked === 1 ? "" : "s"}${hosts ? ` from ${hosts}` : ""}.` }),
        h("button", {
          type: "button", class: "btn small", onclick: () => {
            this.remote.add(m.ID);
            this.selectTab("html", { focus: false, remember: false });
          },
        }, "Load remote content"));
    } else if (allow && built.blocked === 0) {
      notice = h("div", { class: "notice subtle", role: "note" }, icon("shield"), h("span", { text: "Remote content loaded." }));
    }
    const shot = h("button", {
      type: "button", class: "btn ghost small", title: "Download a PNG of the HTML at the width shown",
      onclick: async () => {
        shot.disabled = true;
        try {
          const px = WIDTHS.find(([key]) => key === this.width)?.[2] || Math.round(frame.getBoundingClientRect().width) || 800;
          await downloadHtmlPng(built.srcdoc, px, urls.part(m.ID, ""), `${m.ID}.png`);
        } catch (error) {
          toast(`Couldn't save the PNG: ${error.message}`, { kind: "error" });
        } finally {
          shot.disabled = false;
        }
      },
    }, icon("image"), h("span", { text: "Save as PNG" }));
    return h("div", { class: "html-view" },
      h("div", { class: "view-toolbar" }, switcher,
        h("div", { class: "toolbar-spacer" }),
        shot,
        this.viewLink(m)),
      notice,
      stage);
  }

  /** "Open in new tab", shown once the server is known to have GET /view/{ID}.html. */
  viewLink(m) {
    const link = h("a", { class: "btn ghost small", href: urls.view(m.ID) + (this.remote.has(m.ID) ? "?remote=1" : ""), target: "_blank", rel: "noopener", title: "Open the HTML on its own page", hidden: true },
      icon("external"), h("span", { text: "Open in new tab" }));
    const known = viewRoute ?? fetch(urls.view(m.ID), { method: "HEAD" }).then((r) => r.ok, () => false);
    known.then((ok) => {
      link.hidden = !ok;
      if (ok) viewRoute = known;
    });
    return link;
  }

  textView(m) {
    if (!m.Text) return this.nothing("This message has no plain-text part.", m.HTML ? "html" : null);
    if (m.Text.length <= TEXT_LIMIT) return h("pre", { class: "text-body" }, linkify(m.Text));
    const pre = h("pre", { class: "text-body" }, linkify(m.Text.slice(0, TEXT_LIMIT)));
    const rest = h("button", {
      type: "button", class: "btn small", onclick: () => {
        pre.replaceChildren(...linkify(m.Text));
        rest.remove();
      },
    }, `Show the remaining ${formatSize(m.Text.length - TEXT_LIMIT)}`);
    return h("div", null, pre, h("p", { class: "more" }, rest));
  }

  headersView(headers) {
    const body = h("tbody");
    for (const [name, values] of Object.entries(headers)) {
      for (const value of values) body.append(h("tr", null, h("th", { scope: "row", text: name }), h("td", { text: value })));
    }
    return h("table", { class: "headers-table" },
      h("caption", { class: "visually-hidden", text: "Message headers, in order" }),
      h("thead", null, h("tr", null, h("th", { scope: "col", text: "Header" }), h("th", { scope: "col", text: "Value" }))),
      body);
  }

  rawView(m, raw) {
    return h("div", { class: "raw-view" },
      h("div", { class: "view-toolbar" },
        h("span", { class: "muted", text: `${formatSize(raw.size)}${raw.truncated ? `, first ${formatSize(RAW_LIMIT)} shown` : ""}` }),
        h("div", { class: "toolbar-spacer" }),
        h("a", { class: "btn ghost small", href: urls.raw(m.ID), target: "_blank", rel: "noopener" }, icon("external"), h("span", { text: "Open" })),
        h("a", { class: "btn small", href: urls.download(m.ID), download: `${m.ID}.eml` }, icon("download"), h("span", { text: "Download .eml" }))),
      h("pre", { class: "raw-body", text: raw.text }));
  }

  transcriptView(t) {
    const lines = t.Lines || [];
    const tx = t.Transaction || { Start: 0, End: lines.length };
    const started = Date.parse(t.Session?.Started ?? "") || (lines[0] ? Date.parse(lines[0].Time) : 0);
    const session = t.Session || {};
    const info = h("dl", { class: "session" },
      h("div", null, h("dt", { text: "Session" }), h("dd", { class: "mono", text: session.ID || "" })),
      h("div", null, h("dt", { text: "Peer" }), h("dd", { class: "mono", text: session.Peer || "" })),
      h("div", null, h("dt", { text: "HELO" }), h("dd", { class: "mono", text: session.Helo || "(none)" })),
      h("div", null, h("dt", { text: "TLS" }), h("dd", { text: session.TLS ? "yes" : "no" })),
      h("div", null, h("dt", { text: "AUTH" }), h("dd", { class: "mono", text: session.Username || "none" })),
      h("div", null, h("dt", { text: "Started" }), h("dd", { text: fullTime(session.Started) })));
    const list = h("ol", { class: "transcript", "aria-label": "SMTP dialogue" });
    const item = (i) => {
      const line = lines[i];
      const time = Date.parse(line.Time);
      const before = i > 0 ? Date.parse(lines[i - 1].Time) : started;
      const delta = Number.isNaN(time) ? "" : `+${formatMs(time - started)}`;
      const gap = Number.isNaN(time) || Number.isNaN(before) ? 0 : time - before;
      const inTx = i >= tx.Start && i < tx.End;
      const client = line.Dir === "C";
      const li = h("li", {
        class: `line ${client ? "is-client" : "is-server"}${inTx ? " in-tx" : ""}${i === tx.Start ? " tx-start" : ""}${i === tx.End - 1 ? " tx-end" : ""}`,
        title: `${line.Time}${gap >= 1 ? ` (${formatMs(gap)} after the previous line)` : ""}`,
      },
      h("span", { class: "t", text: delta }),
      h("span", { class: "dir", "aria-label": client ? "client" : "server", text: client ? "C:" : "S:" }),
      h("span", { class: "txt", text: line.Text }));
      if (gap >= 250) li.classList.add("is-slow");
      return li;
    };
    // A long session (an app that sends hundreds of messages over one connection) shows its
    // start and this message's transaction, with the lines between a click away.
    const shown = [];
    if (lines.length <= TRANSCRIPT_ALL) {
      shown.push([0, lines.length]);
    } else {
      const head = Math.min(TRANSCRIPT_HEAD, lines.length);
      const from = Math.max(head, tx.Start - TRANSCRIPT_CONTEXT);
      const to = Math.min(lines.length, Math.max(tx.End, from) + TRANSCRIPT_CONTEXT);
      shown.push([0, head]);
      if (from < to) shown.push([from, to]);
    }
    const hidden = (from, to) => {
      const more = h("li", { class: "gap" });
      more.append(h("button", {
        type: "button", class: "btn ghost small",
        onclick: () => {
          const items = [];
          for (let i = from; i < to; i++) items.push(item(i));
          more.replaceWith(...items);
        },
      }, `Show ${to - from} more line${to - from === 1 ? "" : "s"}`));
      return more;
    };
    let at = 0;
    for (const [from, to] of shown) {
      if (from > at) list.append(hidden(at, from));
      for (let i = from; i < to; i++) list.append(item(i));
      at = to;
    }
    if (at < lines.length) list.append(hidden(at, lines.length));
    const legend = h("p", { class: "legend" },
      h("span", { class: "key is-client", text: "C: client" }), " ",
      h("span", { class: "key is-server", text: "S: server" }), " ",
      h("span", { class: "key in-tx", text: "this message's transaction" }),
      tx.Start > 0 || tx.End < lines.length ? h("span", { class: "muted", text: ` (lines ${tx.Start + 1}–${tx.End} of ${lines.length})` }) : null);
    const view = h("div", { class: "transcript-view" }, info, legend, list);
    if (tx.Start > 0) {
      requestAnimationFrame(() => list.querySelector(".tx-start")?.scrollIntoView({ block: "nearest" }));
    }
    return view;
  }

  attachmentsView(m) {
    const parts = [
      ...(m.Attachments || []).map((p) => ({ ...p, kind: "Attachment" })),
      ...(m.Inline || []).map((p) => ({ ...p, kind: "Inline" })),
    ];
    if (!parts.length) return this.nothing("This message has no attachments.");
    return h("ul", { class: "attachments" }, parts.map((p) => {
      const url = urls.part(m.ID, p.PartID);
      const name = p.FileName || `part ${p.PartID}`;
      const textual = isTextual(p.ContentType);
      const pdf = isPdf(p.ContentType);
      const preview = PREVIEWABLE.test(p.ContentType || "")
        ? h("img", { src: url, alt: `Preview of ${name}`, loading: "lazy", decoding: "async" })
        : textual ? textThumbnail(url, p.ContentType) : icon("file", "file-icon");
      return h("li", { class: "attachment" },
        h("div", { class: "att-preview" }, preview),
        h("div", { class: "att-info" },
          h("span", { class: "att-name", title: name, text: name }),
          h("span", { class: "muted", text: [p.ContentType, formatSize(p.Size), p.kind === "Inline" && p.ContentID ? `cid:${p.ContentID}` : p.kind].filter(Boolean).join(" · ") })),
        h("div", { class: "att-actions" },
          textual ? h("button", { type: "button", class: "btn small", "aria-label": `Preview ${name}`, onclick: () => previewText(url, name, p.ContentType) }, "Preview") : null,
          pdf ? h("button", { type: "button", class: "btn small", "aria-label": `Preview ${name}`, onclick: () => previewPdf(url, name, p.ContentType) }, "Preview") : null,
          h("a", { class: "btn small", href: url, download: name, "aria-label": `Download ${name}` }, icon("download"), h("span", { text: "Download" }))));
    }));
  }

  nothing(text, other) {
    return h("div", { class: "nothing" }, h("p", { text }),
      other ? h("button", { type: "button", class: "btn small", onclick: () => this.selectTab(other) }, `Show ${other === "text" ? "Text" : "HTML"}`) : null);
  }
}

const dateFormat = lazyFormat(() => new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" }));
function shortDate(value) {
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? "" : dateFormat(date);
}

function formatMs(ms) {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}
