// The Sessions view: the catcher's log of recent SMTP sessions (GET /api/v1/sessions), refused
// ones too, newest first and live (the websocket's `session` events); one opened shows its
// transcript, with links to the messages it stored. It takes the place of the message list
// and reader while it is open; the rest of the UI (search, live status) stays.
import { ApiError } from "./api.js";
import { h, icon, apiUrl, formatCount, relativeTime, fullTime } from "./dom.js";

const ENDINGS = {
  quit: "QUIT",
  timeout: "timed out",
  dropped: "dropped by a fault rule",
  "server closed": "closed by the server",
  "client closed": "closed by the client",
};
const QUEUED = /^(250 .*queued as )(\S+)$/;

async function getJSON(path) {
  let response;
  try {
    response = await fetch(apiUrl(path), { headers: { Accept: "application/json" }, cache: "no-store" });
  } catch {
    throw new ApiError(0, "the server can't be reached");
  }
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, body && typeof body.Error === "string" ? body.Error : `${response.status} ${response.statusText}`);
  return body;
}

function plural(n, one, many = `${one}s`) {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

export class SessionsView {
  /**
   * @param {{button: HTMLElement, layout: HTMLElement, list: HTMLElement, count: HTMLElement, pane: HTMLElement}} els
   * @param {{onOpenMessage(id: string): void, onChange(active: boolean): void, onError(error: Error): void}} hooks
   */
  constructor(els, hooks) {
    Object.assign(this, els);
    this.hooks = hooks;
    this.placeholder = this.pane.firstElementChild;
    this.sessions = []; // summaries, newest first
    this.loaded = false;
    this.early = [];
    this.active = false;
    this.openId = null;
    this.cursor = -1;
    this.token = 0;
    this.button.addEventListener("click", () => (this.active ? this.close() : this.show()));
  }

  /** Show the view (the log is fetched afresh), with the session `id` open if given. */
  async show(id = null) {
    if (!this.active) {
      this.active = true;
      this.layout.hidden = false;
      document.body.classList.add("is-sessions");
      this.button.setAttribute("aria-pressed", "true");
      delete this.button.dataset.alert;
      this.hooks.onChange(true);
    }
    await this.load();
    if (id) await this.open(id);
    else this.list.focus({ preventScroll: true });
  }

  /** Back to the messages. */
  close() {
    if (!this.active) return;
    this.active = false;
    this.token += 1;
    this.openId = null;
    this.cursor = -1;
    this.pane.replaceChildren(this.placeholder);
    this.layout.hidden = true;
    document.body.classList.remove("is-sessions", "is-session-open");
    this.button.setAttribute("aria-pressed", "false");
    this.hooks.onChange(false);
  }

  async load() {
    this.loaded = false;
    this.early = []; // sessions that end while the log is being fetched
    let listing;
    try {
      listing = await getJSON("api/v1/sessions");
    } catch (error) {
      this.hooks.onError(error);
      return;
    }
    const listed = Array.isArray(listing.Sessions) ? listing.Sessions : [];
    const known = new Set(listed.map((s) => s.ID));
    this.max = listing.Max || 200;
    this.sessions = [...this.early.filter((s) => !known.has(s.ID)).reverse(), ...listed].slice(0, this.max);
    this.loaded = true;
    this.render();
  }

  /** Fetch the log again if it is on screen (after a reconnection: events may have been missed). */
  resync() {
    if (this.active) this.load();
  }

  /** A `session` event: a session just ended. */
  add(summary) {
    if (!summary || typeof summary.ID !== "string") return;
    if (!this.active) {
      if (summary.Refusals > 0) this.button.dataset.alert = "true";
      return;
    }
    if (!this.loaded) {
      if (this.early.length < (this.max || 200)) this.early.push(summary);
      return;
    }
    this.sessions = [summary, ...this.sessions.filter((s) => s.ID !== summary.ID)].slice(0, this.max || 200);
    if (this.cursor >= 0) this.cursor += 1;
    this.render(summary.ID);
  }

  render(fresh = null) {
    const rows = this.sessions.map((s, i) => this.row(s, i, s.ID === fresh));
    if (!rows.length) {
      rows.push(h("li", { class: "list-empty sessions-empty" },
        h("p", { class: "empty-title", text: "No SMTP sessions yet" }),
        h("p", { class: "muted", text: "Each connection to the SMTP server shows up here when it ends, refused ones too." })));
    }
    this.list.replaceChildren(...rows);
    const refused = this.sessions.filter((s) => s.Refusals > 0).length;
    this.count.textContent = this.sessions.length
      ? `${plural(this.sessions.length, "session")}${refused ? ` · ${formatCount(refused)} refused` : ""}`
      : "";
  }

  row(s, index, fresh) {
    const refused = s.Refusals > 0;
    const when = relativeTime(s.Ended);
    const messages = s.MessageCount ? plural(s.MessageCount, "message") : "no mail";
    const classes = ["session-row"];
    if (refused) classes.push("is-refused");
    if (s.ID === this.openId) classes.push("is-open");
    if (index === this.cursor) classes.push("is-cursor");
    if (fresh) classes.push("is-fresh");
    const button = h("button", {
      type: "button", class: classes.join(" "), "aria-current": s.ID === this.openId ? "true" : null,
      dataset: { id: s.ID }, onclick: () => this.open(s.ID),
    },
    h("span", { class: "session-line" },
      h("span", { class: "session-peer mono", text: s.Peer }),
      h("span", { class: "session-helo", text: s.Helo || "no HELO" }),
      h("time", { class: "row-time", datetime: s.Ended, title: fullTime(s.Ended), text: when })),
    h("span", { class: "session-line session-facts" },
      h("span", { class: `session-badge${s.MessageCount ? " has-mail" : ""}`, text: messages }),
      refused ? h("span", { class: "session-badge refused", text: `${formatCount(s.Refusals)} refused` }) : null,
      h("span", { class: "session-end", text: ENDINGS[s.End] || s.End || "" }),
      s.TLS ? h("span", { class: "session-end", text: "TLS" }) : null,
      s.Username ? h("span", { class: "session-end", text: `AUTH ${s.Username}` }) : null),
    refused && s.Refused && s.Refused[0] ? h("span", { class: "session-refusal mono", text: s.Refused[0] }) : null);
    return h("li", null, button);
  }

  /** Open a session: its transcript in the right-hand pane. */
  async open(id) {
    const token = ++this.token;
    this.openId = id;
    this.cursor = this.sessions.findIndex((s) => s.ID === id);
    document.body.classList.add("is-session-open");
    this.mark();
    this.hooks.onChange(true);
    this.pane.setAttribute("aria-busy", "true");
    let session;
    try {
      session = await getJSON(`api/v1/sessions/${encodeURIComponent(id)}`);
    } catch (error) {
      if (token !== this.token) return;
      this.pane.removeAttribute("aria-busy");
      this.pane.replaceChildren(h("div", { class: "reader-empty reader-gone" },
        h("p", { class: "gone-title", text: error.status === 404 ? "This session is no longer in the log." : "Couldn't open this session." }),
        h("p", { class: "muted", text: error.status === 404 ? `The log keeps the ${formatCount(this.max || 200)} most recent sessions; a restart empties it.` : error.message }),
        h("button", { type: "button", class: "btn", onclick: () => this.closeSession(), text: "Back to the sessions" })));
      return;
    }
    if (token !== this.token) return;
    this.pane.removeAttribute("aria-busy");
    this.pane.replaceChildren(this.detail(session));
    this.pane.scrollTop = 0;
  }

  /** Back from a session to the list (on a phone, where one pane shows at a time). */
  closeSession() {
    this.token += 1;
    this.openId = null;
    document.body.classList.remove("is-session-open");
    this.pane.replaceChildren(this.placeholder);
    this.mark();
    this.hooks.onChange(true);
    this.list.focus({ preventScroll: true });
  }

  /** Show which row is open and which has the cursor, without building the rows again. */
  mark() {
    this.list.querySelectorAll(".session-row").forEach((row, i) => {
      const open = row.dataset.id === this.openId;
      row.classList.toggle("is-open", open);
      row.classList.toggle("is-cursor", i === this.cursor);
      if (open) row.setAttribute("aria-current", "true");
      else row.removeAttribute("aria-current");
    });
  }

  detail(s) {
    const messageLink = (id) => h("a", {
      class: "session-message mono", href: `#m=${encodeURIComponent(id)}`, title: "Open this message",
      onclick: (event) => {
        if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
        event.preventDefault();
        this.hooks.onOpenMessage(id);
      },
    }, id);
    const back = h("button", { type: "button", class: "btn ghost back", "aria-label": "Back to the sessions", onclick: () => this.closeSession() },
      icon("back"), h("span", { text: "Back" }));
    const title = h("h2", { class: "subject session-title" }, "Session from ", h("span", { class: "mono", text: s.Peer }));
    const field = (name, value, mono = false) => h("div", null, h("dt", { text: name }), h("dd", { class: mono ? "mono" : null }, value));
    const info = h("dl", { class: "session" },
      field("Session", s.ID, true),
      field("HELO", s.Helo || "(none)", true),
      field("TLS", s.TLS ? "yes" : "no"),
      field("AUTH", s.Username || "none", true),
      field("Started", fullTime(s.Started)),
      field("Ended", fullTime(s.Ended)),
      field("Ended by", ENDINGS[s.End] || s.End));
    const messages = s.Messages || [];
    const stored = h("p", { class: "session-stored" },
      h("span", { class: "session-label", text: "Messages" }),
      messages.length ? messages.map(messageLink) : h("span", { class: "muted", text: "none stored" }),
      s.MessageCount > messages.length ? h("span", { class: "muted", text: `(the last ${messages.length} of ${formatCount(s.MessageCount)})` }) : null);
    const refused = s.Refusals > 0
      ? h("p", { class: "session-refused-note" }, h("strong", { text: plural(s.Refusals, "refusal") }), " (4xx and 5xx replies, in red below)")
      : null;
    const head = h("div", { class: "reader-head session-head" }, h("div", { class: "head-top" }, back, title), info, stored, refused);
    return h("div", { class: "reader session-detail" }, head, this.transcript(s, messageLink));
  }

  transcript(s, messageLink) {
    const lines = s.Lines || [];
    const started = Date.parse(s.Started);
    const known = new Set(s.Messages || []);
    const list = h("ol", { class: "transcript is-session", "aria-label": "SMTP dialogue" });
    if (s.LinesOmitted > 0) {
      list.append(h("li", { class: "gap" }, h("span", { class: "muted", text: `${plural(s.LinesOmitted, "earlier line")} not kept: the log keeps a session's last ${formatCount(lines.length)}` })));
    }
    for (const line of lines) {
      const client = line.Dir === "C";
      const time = Date.parse(line.Time);
      const refusal = !client && /^[45]\d\d/.test(line.Text);
      const queued = !client ? line.Text.match(QUEUED) : null;
      const text = queued && known.has(queued[2]) ? [queued[1], messageLink(queued[2])] : [line.Text];
      list.append(h("li", { class: `line ${client ? "is-client" : "is-server"}${refusal ? " is-refused" : ""}`, title: line.Time },
        h("span", { class: "t", text: Number.isNaN(time) || Number.isNaN(started) ? "" : `+${((time - started) / 1000).toFixed(3)}s` }),
        h("span", { class: "dir", "aria-label": client ? "client" : "server", text: client ? "C:" : "S:" }),
        h("span", { class: "txt" }, ...text)));
    }
    return h("div", { class: "transcript-view" }, list);
  }

  /** A key while the view is open; true if it was the view's. */
  onKey(key) {
    if (key === "Escape") {
      if (this.openId) this.closeSession();
      else this.close();
      return true;
    }
    const n = this.sessions.length;
    if (!n) return false;
    let to = this.cursor;
    if (key === "j" || key === "ArrowDown") to = Math.min(n - 1, this.cursor + 1);
    else if (key === "k" || key === "ArrowUp") to = Math.max(0, this.cursor - 1);
    else if (key === "Home") to = 0;
    else if (key === "End") to = n - 1;
    else if ((key === "Enter" || key === "o") && this.cursor >= 0) {
      this.open(this.sessions[this.cursor].ID);
      return true;
    } else return false;
    this.cursor = to;
    this.open(this.sessions[to].ID).then(() => this.list.querySelector(".is-open")?.scrollIntoView({ block: "nearest" }));
    return true;
  }
}
