// The message list: a virtual scroller over the API's pages.
//
// Only the rows in view (plus a few either side) exist in the DOM, and only the pages
// that cover them are fetched, so 100,000 messages cost what 30 do. Rows are cached by
// index; live events shift the cache (a new message pushes everything down one), and a
// page that comes back after the list moved is placed by matching message IDs.
import { h, icon, addressShort, relativeTime, fullTime, formatCount, tagHue } from "./dom.js";

const PAGE = 100; // index.html preloads the first page: keep its URL in step
const OVERSCAN = 8;
const CACHE_LIMIT = 2500;
const MAX_SCROLL_PX = 4_000_000; // browsers cap element heights; scale beyond this
const FRESH_MS = 2500;
const SETTLE_MS = 700;

export class MessageList {
  /**
   * @param {HTMLElement} el the scroll container (role=listbox)
   * @param {object} hooks {load(query, start, limit, signal), onOpen(summary), onCounts(resp), onError(e), onChange()}
   */
  constructor(el, hooks) {
    this.el = el;
    this.hooks = hooks;
    this.spacer = el.querySelector(".list-spacer");
    this.empty = el.querySelector(".list-empty");
    this.query = "";
    this.source = 0; // bumped whenever the list shows something else (a new search)
    this.epoch = 0; // bumped when cached rows may be out of date
    this.inserts = 0;
    this.removals = 0;
    this.total = 0;
    this.loaded = false;
    this.rows = new Map(); // index -> {msg, epoch}
    this.ids = new Map(); // ID -> index
    this.inflight = new Map(); // page -> {source, epoch, inserts, removals, controller}
    this.rendered = new Map(); // key -> element
    this.fresh = new Map(); // ID -> time it arrived
    this.cursor = -1;
    this.cursorId = null;
    this.openId = null;
    this.gone = new Set(); // IDs already removed here, so their delete events change nothing
    this.hidden = new Map(); // ID -> {index, read}: deleted here, not yet on the server (undo)
    this.selected = new Set(); // IDs ticked for the selection's actions
    this.anchor = null; // the last ID ticked, where a shift-click's range starts
    this.changeSeq = 0;
    this.changed = new Map(); // ID -> changeSeq of its last update(), newer than pages asked before it
    this.error = null;
    this.unseen = 0; // new messages that arrived above the view
    this.rowH = 56;
    this.frame = 0;
    this.fetchTimer = 0;
    this.resyncTimer = 0;
    this.settleTimer = 0;
    el.addEventListener("scroll", () => this.schedule(), { passive: true });
    el.addEventListener("click", (event) => this.onClick(event));
    new ResizeObserver(() => {
      this.measure();
      this.schedule();
    }).observe(el);
    this.measure();
  }

  measure() {
    const probe = this.rowElement();
    probe.style.visibility = "hidden";
    this.el.append(probe);
    const height = probe.getBoundingClientRect().height;
    probe.remove();
    if (height > 0) this.rowH = height;
  }

  // Sources ------------------------------------------------------------------
  /** Show the whole mailbox (query "") or a search; resolves once the first page is in. */
  show(query) {
    this.query = query;
    this.source += 1;
    this.epoch += 1;
    this.abortAll();
    this.rows.clear();
    this.ids.clear();
    this.total = 0;
    this.loaded = false;
    this.error = null;
    this.cursor = -1;
    this.cursorId = null;
    this.unseen = 0;
    this.selected.clear();
    this.anchor = null;
    this.el.scrollTop = 0;
    this.clearRendered();
    this.schedule();
    return this.fetchPage(0);
  }

  /** Refetch what is in view, keeping the current rows on screen until the answer comes. */
  resync() {
    clearTimeout(this.resyncTimer);
    this.resyncTimer = 0;
    clearTimeout(this.settleTimer);
    this.epoch += 1;
    this.abortAll();
    const [first] = this.viewRange();
    return this.fetchPage(Math.floor(Math.max(0, first) / PAGE)).then(() => this.schedule());
  }

  scheduleResync(delay = 250) {
    if (this.resyncTimer) return;
    this.resyncTimer = setTimeout(() => this.resync(), delay);
  }

  abortAll() {
    for (const request of this.inflight.values()) request.controller.abort();
    this.inflight.clear();
  }

  // Live changes ---------------------------------------------------------------
  /** New messages, oldest first, for the top of an unfiltered list. */
  insert(messages) {
    if (this.query) {
      this.scheduleResync(300);
      return;
    }
    const added = messages.filter((m) => !this.ids.has(m.ID)).reverse();
    if (!added.length) return;
    const k = added.length;
    this.shift(0, k);
    added.forEach((msg, i) => this.put(i, msg, this.epoch));
    const now = Date.now();
    for (const msg of added) this.fresh.set(msg.ID, now);
    this.total += k;
    this.inserts += k;
    for (const entry of this.hidden.values()) entry.index += k;
    if (this.cursor >= 0) this.cursor += k;
    // Keep what the reader is looking at still, unless they are at the top.
    const scrolled = this.el.scrollTop > 0;
    if (scrolled) {
      this.spacer.style.height = `${this.geometry().spacerH}px`; // room to scroll into first
      if (!this.scaled()) this.el.scrollTop += k * this.rowH;
      this.unseen += k;
    }
    this.loaded = true;
    this.settle();
    // The scroll position just moved down k rows, so the rows must be placed for it before
    // the next paint. New mail comes here from a frame callback (app.js batches it per
    // frame), where a scheduled render would only run in the frame after: the frame between
    // would paint every row in view k rows higher, and then jump back.
    if (scrolled) this.flush();
    else this.schedule();
  }

  /** Once live changes stop for a moment, fetch what is in view once more: rows built from
   * events (which concurrent senders may deliver in another order than the store keeps)
   * then match the server exactly. */
  settle() {
    clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => this.resync(), SETTLE_MS);
  }

  /** Messages deleted elsewhere (or here): drop them and close the gaps. */
  remove(ids) {
    let unknown = false;
    for (const id of ids) {
      if (this.gone.has(id)) continue;
      if (this.gone.size > 5000) this.gone.clear();
      this.gone.add(id);
      this.selected.delete(id);
      const index = this.ids.get(id);
      this.fresh.delete(id);
      if (index === undefined) {
        unknown = true;
        continue;
      }
      this.rows.delete(index);
      this.ids.delete(id);
      this.shift(index + 1, -1);
      if (this.cursor > index) this.cursor -= 1;
      this.total = Math.max(0, this.total - 1);
      this.removals += 1;
    }
    if (unknown) this.scheduleResync(200);
    else if (ids.length) this.settle();
    if (this.cursor >= this.total) this.cursor = this.total - 1;
    this.cursorId = this.rows.get(this.cursor)?.msg.ID ?? null;
    this.schedule();
  }

  /** Remove messages that the server still has (a delete waiting for its undo to run out):
   * pages fetched meanwhile leave them out, and the count doesn't include them. */
  hide(ids) {
    for (const id of ids) {
      const index = this.ids.get(id);
      if (index !== undefined) this.hidden.set(id, { index, read: this.rows.get(index).msg.Read !== false });
    }
    this.remove(ids);
  }

  /** Put rows taken out by hide() back where they were (undo, or a delete the server refused).
   * `entries` are {index, msg} as they were before hide(). */
  unhide(entries) {
    for (const { msg } of entries) {
      this.hidden.delete(msg.ID);
      this.gone.delete(msg.ID);
    }
    for (const { index, msg } of [...entries].sort((a, b) => a.index - b.index)) {
      if (this.ids.has(msg.ID)) continue;
      const at = Math.max(0, Math.min(index, this.total));
      this.shift(at, 1);
      this.put(at, msg, this.epoch);
      this.total += 1;
      this.inserts += 1;
      if (this.cursor >= at && this.cursorId !== msg.ID) this.cursor += 1;
    }
    this.settle();
    this.schedule();
  }

  /** The server deleted these: nothing to leave out of pages any more. */
  forget(ids) {
    for (const id of ids) this.hidden.delete(id);
  }

  /** The summary of a loaded message, or undefined. */
  find(id) {
    const index = this.ids.get(id);
    return index === undefined ? undefined : this.rows.get(index).msg;
  }

  update(id, changes) {
    this.changeSeq += 1;
    if (this.changed.size > 5000) this.changed.clear();
    this.changed.set(id, this.changeSeq);
    const index = this.ids.get(id);
    if (index === undefined) return;
    const row = this.rows.get(index);
    row.msg = { ...row.msg, ...changes };
    this.schedule();
  }

  clearAll() {
    this.selected.clear();
    this.rows.clear();
    this.ids.clear();
    this.total = 0;
    this.cursor = -1;
    this.cursorId = null;
    this.epoch += 1;
    this.abortAll();
    this.schedule();
  }

  /** Move rows at index >= from by `by` places. */
  shift(from, by) {
    const rows = new Map();
    for (const [index, row] of this.rows) {
      const to = index >= from ? index + by : index;
      if (to >= 0) rows.set(to, row);
    }
    this.rows = rows;
    this.ids.clear();
    for (const [index, row] of rows) this.ids.set(row.msg.ID, index);
  }

  put(index, msg, epoch) {
    const old = this.rows.get(index);
    if (old && old.msg.ID !== msg.ID) this.ids.delete(old.msg.ID);
    const elsewhere = this.ids.get(msg.ID);
    if (elsewhere !== undefined && elsewhere !== index) this.rows.delete(elsewhere);
    this.rows.set(index, { msg, epoch });
    this.ids.set(msg.ID, index);
  }

  // Loading --------------------------------------------------------------------
  async fetchPage(page) {
    const existing = this.inflight.get(page);
    if (existing && existing.epoch === this.epoch) return existing.promise;
    const request = {
      source: this.source, epoch: this.epoch, inserts: this.inserts, removals: this.removals,
      changeSeq: this.changeSeq, controller: new AbortController(),
    };
    this.inflight.set(page, request);
    request.promise = (async () => {
      let response;
      try {
        response = await this.hooks.load(this.query, page * PAGE, PAGE, request.controller.signal);
      } catch (error) {
        if (this.inflight.get(page) === request) this.inflight.delete(page);
        if (error.name === "AbortError" || request.source !== this.source) return;
        if (!this.loaded) {
          this.error = error;
          this.loaded = true;
          this.schedule();
        }
        this.hooks.onError(error);
        return;
      }
      if (this.inflight.get(page) === request) this.inflight.delete(page);
      if (request.source !== this.source) return;
      this.error = null;
      this.applyPage(page * PAGE, response, request);
    })();
    return request.promise;
  }

  applyPage(start, response, request) {
    let items = response.messages || [];
    let matched = response.messages_count ?? response.total ?? items.length;
    if (this.hidden.size) {
      // Deleted here, still on the server until the undo runs out: not shown, not counted.
      let before = 0;
      for (const entry of this.hidden.values()) if (entry.index < start) before += 1;
      items = items.filter((m) => !this.hidden.has(m.ID));
      matched = Math.max(0, matched - this.hidden.size);
      start = Math.max(0, start - before);
    }
    const settled = request.inserts === this.inserts && request.removals === this.removals;
    // A page asked for and answered with no live change in between is the truth. One that
    // crossed live changes is placed where the rows we already hold say it belongs.
    let shift = 0;
    if (!settled) {
      shift = this.inserts - request.inserts;
      const votes = new Map();
      items.forEach((msg, i) => {
        const index = this.ids.get(msg.ID);
        if (index !== undefined) votes.set(index - start - i, (votes.get(index - start - i) || 0) + 1);
      });
      if (votes.size) shift = [...votes].sort((a, b) => b[1] - a[1])[0][0];
    }
    if (settled) {
      this.total = matched;
      // Rows past the end are gone (pruned or deleted elsewhere).
      for (const index of [...this.rows.keys()]) {
        if (index >= matched) {
          this.ids.delete(this.rows.get(index).msg.ID);
          this.rows.delete(index);
        }
      }
    } else {
      this.total = Math.max(this.total, start + shift + items.length);
    }
    items.forEach((msg, i) => {
      // A change made (or told by an event) after the page was asked for is newer than the page.
      if ((this.changed.get(msg.ID) ?? 0) > request.changeSeq) {
        const known = this.find(msg.ID);
        if (known) msg = { ...msg, Read: known.Read, Tags: known.Tags };
      }
      if (start + shift + i >= 0) this.put(start + shift + i, msg, request.epoch);
    });
    this.loaded = true;
    this.trimCache();
    this.hooks.onCounts(response);
    this.schedule();
  }

  trimCache() {
    if (this.rows.size <= CACHE_LIMIT) return;
    const [first, last] = this.viewRange();
    const middle = (first + last) / 2;
    const far = [...this.rows.keys()].sort((a, b) => Math.abs(b - middle) - Math.abs(a - middle));
    for (const index of far.slice(0, this.rows.size - CACHE_LIMIT / 2)) {
      this.ids.delete(this.rows.get(index).msg.ID);
      this.rows.delete(index);
    }
  }

  /** Fetch the pages the view needs: at once if only refreshing, after a pause while scrolling. */
  ensurePages(first, last) {
    const lo = Math.max(0, first - OVERSCAN);
    const hi = Math.min(this.total - 1, last + OVERSCAN);
    let missing = false;
    const wanted = new Set();
    for (let p = Math.floor(lo / PAGE); p <= Math.floor(hi / PAGE); p++) {
      for (let i = Math.max(lo, p * PAGE); i <= Math.min(hi, p * PAGE + PAGE - 1); i++) {
        const row = this.rows.get(i);
        if (!row || row.epoch !== this.epoch) {
          wanted.add(p);
          if (!row) missing = true;
          break;
        }
      }
    }
    for (const [page, request] of this.inflight) {
      if (!wanted.has(page) && request.epoch === this.epoch && Math.abs(page * PAGE - lo) > PAGE * 2) {
        request.controller.abort();
        this.inflight.delete(page);
      }
    }
    if (!wanted.size) return;
    clearTimeout(this.fetchTimer);
    const go = () => wanted.forEach((p) => this.fetchPage(p));
    if (missing) this.fetchTimer = setTimeout(go, 80);
    else go();
  }

  // Geometry ---------------------------------------------------------------------
  scaled() {
    return this.total * this.rowH > MAX_SCROLL_PX;
  }

  geometry() {
    const viewH = this.el.clientHeight;
    const contentH = this.total * this.rowH;
    const spacerH = Math.min(contentH, MAX_SCROLL_PX);
    const maxScroll = Math.max(0, spacerH - viewH);
    const contentMax = Math.max(0, contentH - viewH);
    const scrollTop = Math.min(this.el.scrollTop, maxScroll);
    const virtualTop = maxScroll > 0 ? (scrollTop * contentMax) / maxScroll : 0;
    return { viewH, spacerH, maxScroll, contentMax, scrollTop, virtualTop };
  }

  viewRange() {
    const { viewH, virtualTop } = this.geometry();
    const first = Math.floor(virtualTop / this.rowH);
    const last = Math.min(this.total - 1, Math.ceil((virtualTop + viewH) / this.rowH) - 1);
    return [first, last];
  }

  /** Scroll so row `index` is fully in view. */
  reveal(index) {
    const g = this.geometry();
    const top = index * this.rowH;
    let virtualTop = g.virtualTop;
    if (top < virtualTop) virtualTop = top;
    else if (top + this.rowH > virtualTop + g.viewH) virtualTop = top + this.rowH - g.viewH;
    else return;
    this.el.scrollTop = g.contentMax > 0 ? (virtualTop * g.maxScroll) / g.contentMax : 0;
  }

  // Rendering ------------------------------------------------------------------------
  schedule() {
    if (!this.frame) this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  /** Render synchronously (tests and key handlers want the DOM current). */
  flush() {
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.render();
  }

  render() {
    const g = this.geometry();
    this.spacer.style.height = `${g.spacerH}px`;
    const [first, last] = this.viewRange();
    const lo = Math.max(0, first - OVERSCAN);
    const hi = Math.min(this.total - 1, last + OVERSCAN);
    if (this.cursorId && this.ids.has(this.cursorId)) this.cursor = this.ids.get(this.cursorId);
    else if (this.cursor >= 0) this.cursorId = this.rows.get(this.cursor)?.msg.ID ?? null;
    const now = Date.now();
    const keep = new Set();
    let active = null;
    let previous = this.empty; // rows follow the spacer and the empty note, in index order
    for (let i = lo; i <= hi; i++) {
      const row = this.rows.get(i);
      const key = row ? row.msg.ID : `placeholder:${i}`;
      keep.add(key);
      let el = this.rendered.get(key);
      if (!el) {
        el = this.rowElement();
        this.rendered.set(key, el);
      }
      if (previous.nextSibling !== el) previous.after(el);
      previous = el;
      if (row) this.fill(el, row.msg, i, now);
      else this.placeholder(el, i);
      el.style.transform = `translateY(${Math.round(g.scrollTop + i * this.rowH - g.virtualTop)}px)`;
      if (i === this.cursor) active = el;
    }
    for (const [key, el] of this.rendered) {
      if (!keep.has(key)) {
        el.remove();
        this.rendered.delete(key);
      }
    }
    for (const [id, time] of this.fresh) if (now - time > FRESH_MS) this.fresh.delete(id);
    if (active) this.el.setAttribute("aria-activedescendant", active.id);
    else this.el.removeAttribute("aria-activedescendant");
    if (g.scrollTop < this.rowH / 2) this.unseen = 0;
    this.empty.hidden = !(this.loaded && this.total === 0);
    this.el.classList.toggle("is-loading", !this.loaded);
    if (this.total > 0) this.ensurePages(first, last);
    this.hooks.onChange();
  }

  clearRendered() {
    for (const el of this.rendered.values()) el.remove();
    this.rendered.clear();
  }

  rowElement() {
    const el = h("div", { class: "row", role: "option", "aria-selected": "false" },
      h("input", { type: "checkbox", class: "row-check", tabindex: "-1", title: "Select (x); shift-click selects a range" }),
      h("span", { class: "row-dot", "aria-hidden": "true" }),
      h("span", { class: "row-line" },
        h("span", { class: "row-from" }),
        h("span", { class: "row-to" }),
        h("time", { class: "row-time" })),
      h("span", { class: "row-line" },
        h("span", { class: "row-text" }, h("span", { class: "row-subject" }), h("span", { class: "row-snippet" })),
        h("span", { class: "row-meta" })));
    return el;
  }

  placeholder(el, index) {
    if (el.dataset.index === String(index) && el.classList.contains("is-placeholder")) return;
    el.className = "row is-placeholder";
    el.id = `row-${index}`;
    el.dataset.index = String(index);
    el.removeAttribute("data-id");
    el.setAttribute("aria-posinset", String(index + 1));
    el.setAttribute("aria-setsize", String(this.total));
    el.setAttribute("aria-selected", String(index === this.cursor));
    el.setAttribute("aria-label", "Loading");
    for (const part of el.querySelectorAll(".row-from, .row-to, .row-time, .row-subject, .row-snippet, .row-meta")) part.textContent = "";
    el.querySelector(".row-check").checked = false;
  }

  fill(el, msg, index, now) {
    const isCursor = index === this.cursor;
    const time = relativeTime(msg.Created, now);
    const isSelected = this.selected.has(msg.ID);
    const signature = [msg.ID, msg.Read, time, isCursor, isSelected, this.openId === msg.ID, this.total, index,
      this.fresh.has(msg.ID), (msg.Tags || []).join("\u0000")].join("|");
    if (el.dataset.sig === signature) return;
    el.dataset.sig = signature;
    el.dataset.index = String(index);
    el.dataset.id = msg.ID;
    el.id = `msg-${msg.ID}`;
    el.className = "row";
    el.classList.toggle("is-unread", !msg.Read);
    el.classList.toggle("is-open", this.openId === msg.ID);
    el.classList.toggle("is-cursor", isCursor);
    el.classList.toggle("is-fresh", this.fresh.has(msg.ID));
    el.classList.toggle("is-selected", isSelected);
    el.setAttribute("aria-selected", String(isCursor));
    if (this.openId === msg.ID) el.setAttribute("aria-current", "true");
    else el.removeAttribute("aria-current");
    el.setAttribute("aria-posinset", String(index + 1));
    el.setAttribute("aria-setsize", String(this.total));

    const [check, dot, line1, line2] = el.children;
    check.checked = isSelected;
    check.setAttribute("aria-label", `Select “${msg.Subject || "(no subject)"}”`);
    const [from, to, when] = line1.children;
    const [text, meta] = line2.children;
    const [subject, snippet] = text.children;
    dot.title = msg.Read ? "" : "Unread";
    from.textContent = addressShort(msg.From) || "(no sender)";
    from.title = msg.From ? msg.From.Address || "" : "";
    const recipients = [...(msg.To || []), ...(msg.Cc || []), ...(msg.Bcc || [])];
    to.textContent = recipients.length
      ? `to ${recipients.slice(0, 2).map((a) => a.Address || a.Name).join(", ")}${recipients.length > 2 ? ` +${recipients.length - 2}` : ""}`
      : "";
    to.title = recipients.map((a) => a.Address || a.Name).join(", ");
    when.textContent = time;
    when.dateTime = msg.Created;
    when.title = fullTime(msg.Created);
    subject.textContent = msg.Subject || "(no subject)";
    subject.classList.toggle("is-empty", !msg.Subject);
    snippet.textContent = msg.Snippet || "";
    meta.replaceChildren();
    for (const tag of msg.Tags || []) {
      const pill = h("span", { class: "tag", text: tag });
      pill.style.setProperty("--hue", tagHue(tag));
      meta.append(pill);
    }
    if (msg.Attachments) {
      meta.append(h("span", { class: "row-attach", title: `${msg.Attachments} attachment${msg.Attachments === 1 ? "" : "s"}` }, icon("clip")));
    }
    const parts = [
      msg.Read ? "" : "Unread.",
      `From ${addressShort(msg.From) || "no sender"}.`,
      `${msg.Subject || "No subject"}.`,
      time,
      msg.Attachments ? `, ${msg.Attachments} attachment${msg.Attachments === 1 ? "" : "s"}` : "",
    ];
    el.setAttribute("aria-label", parts.join(" ").trim());
  }

  // Cursor ---------------------------------------------------------------------------
  setCursor(index, { reveal = true } = {}) {
    if (this.total === 0) {
      this.cursor = -1;
      this.cursorId = null;
      this.schedule();
      return;
    }
    this.cursor = Math.max(0, Math.min(this.total - 1, index));
    this.cursorId = this.rows.get(this.cursor)?.msg.ID ?? null;
    if (reveal) this.reveal(this.cursor);
    this.flush();
  }

  move(delta) {
    if (this.cursor < 0) {
      const open = this.openId !== null ? this.ids.get(this.openId) : undefined;
      this.setCursor(open !== undefined ? open + (delta > 0 ? 1 : -1) : 0);
      return;
    }
    this.setCursor(this.cursor + delta);
  }

  /** The summary under the cursor, if it is loaded. */
  current() {
    return this.rows.get(this.cursor)?.msg ?? null;
  }

  setOpen(id) {
    this.openId = id;
    const index = id === null ? undefined : this.ids.get(id);
    if (index !== undefined) {
      this.cursor = index;
      this.cursorId = id;
    }
    this.schedule();
  }

  onClick(event) {
    const row = event.target.closest(".row");
    if (!row || !row.dataset.id) return;
    const index = Number(row.dataset.index);
    if (event.target.classList.contains("row-check")) {
      if (event.shiftKey && this.anchor && this.ids.has(this.anchor)) this.selectRange(this.ids.get(this.anchor), index, event.target.checked);
      else this.toggleSelected(row.dataset.id, event.target.checked);
      return;
    }
    this.setCursor(index, { reveal: false });
    const msg = this.rows.get(index)?.msg;
    if (msg) this.hooks.onOpen(msg);
  }

  // Selection ---------------------------------------------------------------------------
  /** Tick or untick one message (`on` undefined: the other way round). */
  toggleSelected(id, on) {
    on ??= !this.selected.has(id);
    if (on) this.selected.add(id);
    else this.selected.delete(id);
    this.anchor = id;
    this.schedule();
    this.hooks.onSelect?.();
  }

  /** Tick (or untick) every loaded message from index a to index b. */
  selectRange(a, b, on = true) {
    for (let i = Math.min(a, b); i <= Math.max(a, b); i++) {
      const id = this.rows.get(i)?.msg.ID;
      if (!id) continue;
      if (on) this.selected.add(id);
      else this.selected.delete(id);
    }
    this.anchor = this.rows.get(b)?.msg.ID ?? this.anchor;
    this.schedule();
    this.hooks.onSelect?.();
  }

  clearSelection() {
    if (!this.selected.size) return;
    this.selected.clear();
    this.anchor = null;
    this.schedule();
    this.hooks.onSelect?.();
  }

  countText() {
    if (!this.loaded) return "";
    const n = formatCount(this.total);
    if (this.query) return `${n} result${this.total === 1 ? "" : "s"}`;
    return `${n} message${this.total === 1 ? "" : "s"}`;
  }
}
