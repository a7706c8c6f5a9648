// mailcatch web UI: wires the list, the reader, live updates, search and the keyboard.
import { api } from "./js/api.js";
import { h, formatCount } from "./js/dom.js";
import { MessageList } from "./js/list.js";
import { Live } from "./js/live.js";
import { Reader, TABS } from "./js/reader.js";
import { toast, dismiss } from "./js/toast.js";
import { cleanTag } from "./js/tags_editor.js";
import { Notifier } from "./js/notify.js";
import { SessionsView } from "./js/sessions.js";

const $ = (selector) => document.querySelector(selector);
const listEl = $("#list");
const searchForm = $("#search-form");
const searchInput = $("#search");
const searchClear = $("#search-clear");
const layout = $("#layout");
const conn = $("#conn");
const PHONE = matchMedia("(max-width: 520px)"); // app.css's phone layout

const mailbox = { total: 0, unread: 0 };
let smtpAddress = ""; // from GET /api/v1/webui, where the server says
let pendingNew = [];

// Toasts ----------------------------------------------------------------------------
// A failure is one toast however often it repeats; while the server can't be reached the
// offline banner says so, and requests that fail for that reason add no toast of their own.
function failed(error, what) {
  if (error.status === 0 && isOffline()) return;
  const text = what ? `${what}: ${error.message}` : error.message;
  toast(text, { kind: "error", key: error.status === 0 ? "unreachable" : text });
}

let offline = false; // the server can't be reached (Live's "offline" state)
function isOffline() {
  return offline;
}

/** Refuse a change while offline, with one toast saying why; true if refused. */
function refuseOffline(what) {
  if (!offline) return false;
  toast(`Offline: ${what}. Try again once mailcatch is back.`, { kind: "error", key: "offline-refused" });
  return true;
}

// List and reader ---------------------------------------------------------------------
const list = new MessageList(listEl, {
  load: (query, start, limit, signal) => api.page(query, start, limit, signal),
  onOpen: (msg) => openMessage(msg.ID),
  onCounts: (response) => {
    setServerCounts(response.total, response.unread);
    setPartial(list.query && response.partial ? response.partial_reason || "the search index is behind" : "");
  },
  onError: (error) => failed(error, list.query ? "Search failed" : "Couldn't load messages"),
  onChange: () => updateChrome(),
});

const reader = new Reader($("#reader"), {
  onDelete: (id) => deleteMessages([id]),
  onSetRead: (id, read) => setRead(id, read),
  onSetTags: (id, tags) => setTags(id, tags),
  onNavigate: (delta) => navigate(delta),
  onClose: () => closeMessage(),
  onSearch: (query) => runSearch(query),
  onError: (error) => failed(error, "Couldn't open the message"),
});

// The Sessions view (js/sessions.js) takes the place of the list and reader while it is open.
const sessionsView = new SessionsView({
  button: $("#sessions-btn"),
  layout: $("#sessions-layout"),
  list: $("#sessions-list"),
  count: $("#sessions-count"),
  pane: $("#session-pane"),
}, {
  onOpenMessage: (id) => openMessage(id),
  onChange: (active) => {
    layout.hidden = active;
    writeHash();
    if (!active) listEl.focus({ preventScroll: true });
  },
  onError: (error) => failed(error, "Couldn't load the SMTP sessions"),
});

function setCounts(total, unread) {
  if (typeof total === "number") mailbox.total = total;
  if (typeof unread === "number") mailbox.unread = unread;
  updateChrome();
}

/** Counts as the server has them, less the messages deleted here whose undo hasn't run out. */
function setServerCounts(total, unread) {
  let hiddenUnread = 0;
  for (const entry of list.hidden.values()) if (!entry.read) hiddenUnread += 1;
  setCounts(
    typeof total === "number" ? Math.max(0, total - list.hidden.size) : total,
    typeof unread === "number" ? Math.max(0, unread - hiddenUnread) : unread,
  );
}

// A search answered before the search index caught up (or while it can't be updated, on a
// full disk) says so: its matches may be missing some messages.
function setPartial(reason) {
  const note = $("#search-partial");
  setText(note, reason ? `Search results may be incomplete: ${reason}.` : "");
  note.hidden = !reason;
}

function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

PHONE.addEventListener("change", () => updateChrome());

// Runs after every list render (so on scroll): it only writes what changed.
function updateChrome() {
  const unread = mailbox.unread;
  const title = unread > 0 ? `(${unread}) mailcatch` : "mailcatch";
  if (document.title !== title) document.title = title;
  setText($("#list-title"), list.query ? "Search" : "Inbox");
  const count = list.countText();
  setText($("#list-count"), !list.query && unread > 0 && count ? `${count} · ${formatCount(unread)} unread` : count);
  const empty = $("#list-empty");
  if (!empty.hidden) {
    let title = "No mail yet";
    let text = smtpAddress
      ? `Point your app's SMTP at ${smtpAddress}: messages show up here the moment they arrive.`
      : "Messages sent to mailcatch's SMTP server show up here the moment they arrive.";
    if (list.error) {
      title = list.query ? "Search failed" : "Couldn't load messages";
      text = list.error.message;
    } else if (list.query) {
      title = "No matches";
      text = `Nothing matches “${list.query}”.`;
    } else if (isOffline()) {
      text = "mailcatch can't be reached: new messages show up here once it answers again.";
    }
    if (empty.dataset.title !== title || empty.dataset.text !== text) {
      empty.dataset.title = title;
      empty.dataset.text = text;
      const body = h("p", { class: "muted" });
      if (smtpAddress && text.includes(smtpAddress)) {
        const [before, after] = text.split(smtpAddress);
        body.append(before, h("code", { class: "address", text: smtpAddress }), after);
      } else {
        body.textContent = text;
      }
      empty.replaceChildren(h("p", { class: "empty-title", text: title }), body);
    }
  }
  const pill = $("#new-pill");
  pill.hidden = list.unseen === 0;
  if (list.unseen) setText(pill, `↑ ${formatCount(list.unseen)} new message${list.unseen === 1 ? "" : "s"}`);
  const deleteAll = $("#delete-all");
  setText(deleteAll, list.query ? "Delete matches" : "Delete all");
  deleteAll.title = list.query ? "Delete every message that matches the search" : "Delete every message";
  const offline = isOffline();
  deleteAll.disabled = offline || list.total === 0;
  // During a search both buttons act on its matches, and say so (a phone's top bar has room for "Mark read").
  const markRead = $("#mark-all-read");
  const markLabel = list.query ? "Mark matches read" : "Mark all read";
  setText(markRead, list.query && PHONE.matches ? "Mark read" : markLabel);
  if (markRead.getAttribute("aria-label") !== markLabel) markRead.setAttribute("aria-label", markLabel);
  markRead.title = list.query ? "Mark every message that matches the search read" : "Mark every message read";
  markRead.disabled = offline || mailbox.unread === 0 || (Boolean(list.query) && list.total === 0);
  for (const button of document.querySelectorAll("#reader [data-needs-server], #select-bar [data-needs-server]")) button.disabled = offline;
  const selected = list.selected.size;
  $("#select-bar").hidden = selected === 0;
  listEl.classList.toggle("has-selection", selected > 0);
  const at = list.openId ? list.ids.get(list.openId) : undefined;
  for (const button of document.querySelectorAll("#reader [data-nav]")) {
    const to = at === undefined ? -1 : at + (button.dataset.nav === "prev" ? -1 : 1);
    button.disabled = to < 0 || to >= list.total;
  }
  if (selected) setText($("#select-count"), `${formatCount(selected)} selected`);
}

async function openMessage(id) {
  if (!id) return;
  sessionsView.close();
  list.setOpen(id);
  document.body.classList.add("is-reading");
  writeHash();
  await reader.open(id);
  if (reader.openId !== id) return;
  // Read once the server has given it (which marks it read there), not before.
  if (list.find(id)?.Read === false) setCounts(undefined, Math.max(0, mailbox.unread - 1));
  list.update(id, { Read: true });
  list.setOpen(id);
}

function closeMessage() {
  reader.close();
  list.setOpen(null);
  document.body.classList.remove("is-reading");
  writeHash();
  listEl.focus();
}

// Deleting with undo -----------------------------------------------------------------
// A delete leaves the list at once, but its request waits UNDO_MS while a toast offers Undo;
// Undo puts the rows back and nothing reaches the server. The request goes at once when
// another delete starts, the search changes or the page is being closed (a keepalive fetch).
// A delete the server refuses puts the rows back where they were and says so.
const UNDO_MS = 6000;
let pendingDelete = null; // {ids, entries, openId, timer, note}

function deleteMessages(ids) {
  ids = ids.filter((id) => list.ids.has(id) || id === list.openId);
  if (!ids.length) return;
  if (refuseOffline("nothing was deleted")) return;
  commitDelete();
  const entries = ids.map((id) => ({ index: list.ids.get(id), msg: list.find(id) })).filter((e) => e.msg);
  const openId = ids.includes(list.openId) ? list.openId : null;
  const openIndex = openId ? list.ids.get(openId) : undefined;
  const unread = entries.filter((e) => e.msg.Read === false).length;
  list.hide(ids);
  setCounts(Math.max(0, mailbox.total - entries.length), Math.max(0, mailbox.unread - unread));
  if (openId) {
    const next = openIndex !== undefined && list.total ? list.rows.get(Math.min(openIndex, list.total - 1))?.msg : null;
    if (next) openMessage(next.ID);
    else closeMessage();
  }
  const batch = { ids, entries, openId, timer: 0, note: null };
  const n = ids.length;
  batch.note = toast(n === 1 ? "Message deleted" : `${formatCount(n)} messages deleted`, {
    key: "delete", ms: UNDO_MS, action: { label: "Undo", run: () => undoDelete(batch) },
  });
  batch.timer = setTimeout(() => sendDelete(batch), UNDO_MS);
  pendingDelete = batch;
}

function undoDelete(batch) {
  if (pendingDelete !== batch) return;
  clearTimeout(batch.timer);
  pendingDelete = null;
  putBack(batch);
  if (batch.openId) openMessage(batch.openId);
}

function putBack(batch) {
  const unread = batch.entries.filter((e) => e.msg.Read === false).length;
  list.unhide(batch.entries);
  setCounts(mailbox.total + batch.entries.length, mailbox.unread + unread);
}

/** Send the waiting delete now (another delete, a new search). */
function commitDelete() {
  const batch = pendingDelete;
  if (!batch) return;
  clearTimeout(batch.timer);
  batch.note.close();
  sendDelete(batch);
}

async function sendDelete(batch) {
  if (pendingDelete === batch) pendingDelete = null;
  try {
    await api.remove(batch.ids);
  } catch (error) {
    putBack(batch);
    const n = batch.ids.length;
    const what = n === 1 ? "the message is back in the list" : `the ${formatCount(n)} messages are back in the list`;
    toast(`Couldn't delete: ${error.message}; ${what}.`, { kind: "error", key: "delete-failed", ms: 8000 });
    return;
  }
  list.forget(batch.ids);
}

window.addEventListener("pagehide", () => {
  const batch = pendingDelete;
  if (!batch) return;
  clearTimeout(batch.timer);
  pendingDelete = null;
  api.removeOnLeave(batch.ids);
});

/** Rejects (and the editor shows the old tags again) when the server refuses or can't be reached. */
async function setTags(id, tags) {
  if (refuseOffline("the tags were not changed")) throw new Error("offline");
  const before = list.find(id)?.Tags;
  list.update(id, { Tags: tags });
  try {
    await api.setTags([id], tags);
  } catch (error) {
    if (before) list.update(id, { Tags: before });
    failed(error, "Couldn't change the tags");
    throw error;
  }
}

async function setRead(id, read) {
  if (refuseOffline("the read state was not changed")) return;
  const before = list.find(id)?.Read ?? (reader.openId === id ? reader.message.Read !== false : !read);
  list.update(id, { Read: read });
  if (reader.openId === id) reader.setRead(read);
  try {
    await api.setRead([id], read);
  } catch (error) {
    list.update(id, { Read: before });
    if (reader.openId === id) reader.setRead(before);
    failed(error, "Couldn't change the read state");
  }
}

// Selection: ticked rows, and what can be done to them all at once ----------------------
const same = (a, b) => a.toLowerCase() === b.toLowerCase();

async function setReadMany(ids, read) {
  if (!ids.length || refuseOffline("the read state was not changed")) return;
  const before = new Map(ids.map((id) => [id, list.find(id)?.Read]));
  let delta = 0;
  const apply = (id, value) => {
    list.update(id, { Read: value });
    if (reader.openId === id) reader.setRead(value);
  };
  for (const [id, was] of before) {
    if (was !== undefined && was !== read) delta += read ? -1 : 1;
    apply(id, read);
  }
  setCounts(undefined, Math.max(0, mailbox.unread + delta));
  try {
    await api.setRead(ids, read);
  } catch (error) {
    for (const [id, was] of before) if (was !== undefined) apply(id, was);
    setCounts(undefined, Math.max(0, mailbox.unread - delta));
    failed(error, "Couldn't change the read state");
  }
}

/** Add `tag` to (or remove it from) every selected message: one PUT /api/v1/tags for each
 * set of tags that results, since that route gives all its IDs the same list. */
async function tagMany(ids, tag, add) {
  if (!ids.length || !tag || refuseOffline("the tags were not changed")) return;
  const groups = new Map();
  const before = new Map();
  for (const id of ids) {
    const tags = list.find(id)?.Tags || [];
    if (tags.some((t) => same(t, tag)) === add) continue;
    const next = add ? [...tags, tag] : tags.filter((t) => !same(t, tag));
    const key = next.join("\u0000");
    if (!groups.has(key)) groups.set(key, { tags: next, ids: [] });
    groups.get(key).ids.push(id);
    before.set(id, tags);
  }
  const n = before.size;
  if (!n) {
    toast(add ? `Every selected message is already tagged “${tag}”.` : `No selected message is tagged “${tag}”.`);
    return;
  }
  for (const { tags, ids: group } of groups.values()) {
    for (const id of group) {
      list.update(id, { Tags: tags });
      if (reader.openId === id) reader.setTags(tags);
    }
  }
  try {
    await Promise.all([...groups.values()].map((g) => api.setTags(g.ids, g.tags)));
  } catch (error) {
    for (const [id, tags] of before) {
      list.update(id, { Tags: tags });
      if (reader.openId === id) reader.setTags(tags);
    }
    failed(error, "Couldn't change the tags");
    list.scheduleResync(200);
    return;
  }
  const what = `${formatCount(n)} message${n === 1 ? "" : "s"}`;
  toast(add ? `Tagged ${what} “${tag}”` : `Removed “${tag}” from ${what}`);
}

function selectedIds() {
  return [...list.selected].filter((id) => list.ids.has(id));
}

$("#sel-read").addEventListener("click", () => setReadMany(selectedIds(), true));
$("#sel-unread").addEventListener("click", () => setReadMany(selectedIds(), false));
$("#sel-delete").addEventListener("click", () => deleteMessages(selectedIds()));
$("#sel-clear").addEventListener("click", () => list.clearSelection());
$("#sel-tag").addEventListener("click", () => {
  const dialog = $("#tag-dialog");
  const input = $("#tag-dialog-input");
  const n = list.selected.size;
  $("#tag-dialog-title").textContent = `Tags of ${formatCount(n)} selected message${n === 1 ? "" : "s"}`;
  input.value = "";
  const options = $("#tag-dialog-list");
  options.replaceChildren();
  api.tags().then((tags) => options.replaceChildren(...(tags || []).map((t) => h("option", { value: t }))), () => {});
  dialog.returnValue = "";
  dialog.showModal();
  input.focus();
});
$("#tag-dialog").addEventListener("close", () => {
  const action = $("#tag-dialog").returnValue;
  const tag = cleanTag($("#tag-dialog-input").value);
  if ((action === "add" || action === "remove") && tag) tagMany(selectedIds(), tag, action === "add");
});

// Search ------------------------------------------------------------------------------
function runSearch(query) {
  query = query.trim();
  commitDelete();
  searchInput.value = query;
  searchClear.hidden = !query;
  if (query === list.query) return list.resync();
  setPartial("");
  const shown = list.show(query);
  writeHash();
  return shown;
}

searchForm.addEventListener("submit", (event) => {
  event.preventDefault();
  sessionsView.close();
  runSearch(searchInput.value);
});
searchInput.addEventListener("input", () => {
  searchClear.hidden = !searchInput.value && !list.query;
});
searchInput.addEventListener("keydown", (event) => {
  if (event.key === "Escape") {
    event.preventDefault();
    if (searchInput.value || list.query) runSearch("");
    else listEl.focus();
  } else if (event.key === "ArrowDown") {
    event.preventDefault();
    listEl.focus();
    if (list.cursor < 0) list.setCursor(0);
  }
});
searchClear.addEventListener("click", () => {
  runSearch("");
  searchInput.focus();
});

$("#new-pill").addEventListener("click", () => {
  listEl.scrollTop = 0;
  list.setCursor(0);
  listEl.focus();
});

// Mailbox actions ---------------------------------------------------------------------
function confirmDialog(title, text, ok) {
  const dialog = $("#confirm");
  $("#confirm-title").textContent = title;
  $("#confirm-text").textContent = text;
  $("#confirm-ok").textContent = ok;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
  });
}

$("#delete-all").addEventListener("click", async () => {
  if (refuseOffline("nothing was deleted")) return;
  commitDelete();
  const query = list.query;
  const n = formatCount(list.total);
  const yes = query
    ? await confirmDialog(`Delete ${n} matching message${list.total === 1 ? "" : "s"}?`, `Every message matching “${query}” is deleted. This can't be undone.`, "Delete matches")
    : await confirmDialog("Delete all messages?", `All ${n} message${list.total === 1 ? "" : "s"} in the mailbox will be deleted. This can't be undone.`, "Delete all");
  if (!yes) return;
  try {
    if (query) await api.removeSearch(query);
    else await api.removeAll();
  } catch (error) {
    failed(error, "Couldn't delete");
    return;
  }
  if (!query) {
    list.clearAll();
    setCounts(0, 0);
  } else {
    list.resync();
  }
  if (reader.openId) closeMessage();
  toast(query ? "Matching messages deleted" : "All messages deleted");
});

$("#mark-all-read").addEventListener("click", async () => {
  if (refuseOffline("nothing was marked read")) return;
  const query = list.query;
  try {
    await (query ? api.markSearchRead(query) : api.markAllRead());
  } catch (error) {
    failed(error, "Couldn't mark messages read");
    return;
  }
  for (const row of list.rows.values()) row.msg = { ...row.msg, Read: true }; // during a search, all matches
  if (!query) setCounts(undefined, 0); // else the server's stats event brings the mailbox's new count
  list.schedule();
});

$("#help-btn").addEventListener("click", () => $("#help").showModal());

// Live updates ------------------------------------------------------------------------
const STATES = {
  connecting: ["Connecting", "Connecting to the server…"],
  live: ["Live", "Connected: new mail appears as it arrives"],
  polling: ["Polling", "The live connection is blocked (a proxy?); checking for new mail every few seconds"],
  offline: ["Offline", "The server can't be reached; retrying"],
};

const live = new Live({
  onStatus: (state) => {
    conn.dataset.state = state;
    conn.querySelector(".conn-label").textContent = STATES[state][0];
    conn.title = STATES[state][1];
    setOffline(state === "offline");
  },
  onResync: () => {
    api.page("", 0, 0).then((r) => setServerCounts(r.total, r.unread), () => {});
    list.resync();
    sessionsView.resync();
    if (list.openId) {
      // The open message may have gone while we were away, or never have loaded.
      const id = list.openId;
      api.headers(id).then(() => {
        if (list.openId === id && reader.openId !== id) openMessage(id);
      }, (error) => {
        if (error.status === 404 && list.openId === id) reader.showGone();
      });
    }
  },
  onEvent: (type, data) => handleEvent(type, data),
});

// Offline: a banner says so, changes are refused (buttons disabled, keys answered with one
// toast), and once the server answers again Live's onResync fetches everything afresh.
function setOffline(value) {
  if (offline === value) return;
  offline = value;
  if (value) reader.afterOutage = true;
  $("#offline-banner").hidden = !value;
  document.body.classList.toggle("is-offline", value);
  if (!value) dismiss("offline-refused");
  updateChrome();
}
$("#offline-retry").addEventListener("click", () => live.retryNow());

function handleEvent(type, data) {
  switch (type) {
    case "new":
      if (!data || !data.ID) return;
      pendingNew.push(data);
      if (pendingNew.length === 1) requestAnimationFrame(flushNew);
      break;
    case "stats":
      if (!data) return;
      setServerCounts(data.Total, data.Unread);
      // A count that disagrees with the list means an event was missed: fetch again.
      if (!list.query && list.loaded && !pendingNew.length && typeof data.Total === "number" && data.Total - list.hidden.size !== list.total) {
        list.scheduleResync(300);
      }
      break;
    case "update":
      if (!data || !data.ID) return;
      if (data.ID === "*") {
        // Too many messages changed to name each one: fetch what is shown again.
        list.resync().then(() => {
          const open = reader.openId && list.find(reader.openId);
          if (open) reader.setRead(open.Read);
        });
        return;
      }
      {
        const changes = {};
        if (typeof data.Read === "boolean") changes.Read = data.Read;
        if (Array.isArray(data.Tags)) changes.Tags = data.Tags;
        list.update(data.ID, changes);
        if (reader.openId === data.ID && "Read" in changes) reader.setRead(changes.Read);
        if (reader.openId === data.ID && changes.Tags) reader.setTags(changes.Tags);
      }
      break;
    case "delete":
      if (!data || !data.ID) return;
      list.remove([data.ID]);
      if (reader.openId === data.ID) reader.showGone();
      break;
    case "truncate":
      list.clearAll();
      setCounts(0, 0);
      if (reader.openId) reader.showGone();
      break;
    case "prune":
      list.scheduleResync(400);
      break;
    case "session": // mailcatch's own: an SMTP session ended (the Sessions view)
      sessionsView.add(data);
      break;
    case "error": {
      // Mailpit's shape: {Level, Type, IP, Message}, e.g. an SMTP session that was refused.
      const text = typeof data === "string" ? data : data && typeof data.Message === "string" ? data.Message : "";
      toast(text || "The server reported an error", { kind: data && data.Level && data.Level !== "error" ? "info" : "error", ms: 8000 });
      break;
    }
    default:
      break;
  }
}

const notifier = new Notifier($("#notify-btn"), {
  onOpen: (id) => openMessage(id),
  onMessage: (text, kind) => toast(text, { kind, key: "notify" }),
});

function flushNew() {
  const batch = pendingNew;
  pendingNew = [];
  notifier.announce(batch);
  list.insert(batch);
  mailbox.total += batch.length;
  mailbox.unread += batch.filter((m) => !m.Read).length;
  updateChrome();
}

// Keyboard ----------------------------------------------------------------------------
function typing(target) {
  return target instanceof HTMLElement &&
    (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName)) &&
    !target.classList.contains("row-check");
}

function onList(target) {
  return target === listEl || (target instanceof HTMLElement && target.classList.contains("row-check")) || target === document.body || target === document.documentElement || !target;
}

function pageRows() {
  return Math.max(1, Math.floor(listEl.clientHeight / list.rowH) - 1);
}

document.addEventListener("keydown", (event) => {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
  if (document.querySelector("dialog[open]")) return;
  const target = event.target;
  if (typing(target)) return;
  const key = event.key;
  if (sessionsView.active && key !== "/" && key !== "?") {
    if (sessionsView.onKey(key)) event.preventDefault();
    return;
  }
  const inList = onList(target);
  let handled = true;
  if (key === "/") {
    searchInput.focus();
    searchInput.select();
  } else if (key === "j" || (inList && key === "ArrowDown")) {
    list.move(1);
  } else if (key === "k" || (inList && key === "ArrowUp")) {
    list.move(-1);
  } else if (inList && key === "PageDown") {
    list.move(pageRows());
  } else if (inList && key === "PageUp") {
    list.move(-pageRows());
  } else if (inList && key === "Home") {
    list.setCursor(0);
  } else if (inList && key === "End") {
    list.setCursor(list.total - 1);
  } else if ((inList && key === "Enter") || key === "o") {
    const msg = list.current();
    if (msg) openMessage(msg.ID);
  } else if (key === "x") {
    const msg = list.current();
    if (msg) list.toggleSelected(msg.ID);
  } else if ((key === "Delete" || key === "#") && list.selected.size) {
    deleteMessages(selectedIds());
  } else if (key === "Delete" || key === "#") {
    // The open message, if any: the cursor follows it (see follow() below), so they agree.
    const id = list.openId || list.current()?.ID;
    if (id) deleteMessages([id]);
  } else if (key === "u") {
    const id = list.openId || list.current()?.ID;
    const msg = id ? list.find(id) : null;
    if (id) setRead(id, msg ? !msg.Read : reader.message?.Read === false);
  } else if (key === "t" && reader.openId) {
    reader.addTag();
  } else if (/^[1-9]$/.test(key) && Number(key) <= TABS.length && reader.openId) {
    reader.selectTab(TABS[Number(key) - 1][0]);
  } else if (key === "?") {
    $("#help").showModal();
  } else if (key === "Escape") {
    if (list.selected.size) list.clearSelection();
    else if (document.body.classList.contains("is-reading") || reader.openId) closeMessage();
    else if (list.query) runSearch("");
    else handled = false;
  } else {
    handled = false;
  }
  if (handled) {
    event.preventDefault();
    if (/^(j|k|Arrow|Page|Home|End)/.test(key)) follow();
    if (/^(j|k|Arrow|Page|Home|End)/.test(key)) {
      listEl.classList.add("is-keyboard");
      if (target === document.body) listEl.focus({ preventScroll: true });
    }
  }
});
listEl.addEventListener("pointerdown", () => listEl.classList.remove("is-keyboard"));

/** The reader's Previous and Next: the message above or below the open one in the list. */
function navigate(delta) {
  const at = list.openId ? list.ids.get(list.openId) : undefined;
  if (at === undefined) return;
  list.setCursor(at + delta);
  follow();
}

// With a message open, moving through the list opens the message moved to, as Gmail does:
// the reader, the cursor and every key (Delete, u) stay on one message.
function follow() {
  if (!list.openId) return;
  const msg = list.current();
  if (!msg || msg.ID === list.openId) return;
  openMessage(msg.ID);
}

// Resizable split ---------------------------------------------------------------------
const splitter = $("#splitter");
function setListWidth(px) {
  const clamped = Math.max(280, Math.min(px, window.innerWidth - 360));
  layout.style.setProperty("--list-w", `${clamped}px`);
  localStorage.setItem("mailcatch.listWidth", String(clamped));
  splitter.setAttribute("aria-valuenow", String(Math.round(clamped)));
}
const savedWidth = Number(localStorage.getItem("mailcatch.listWidth"));
if (savedWidth) {
  layout.style.setProperty("--list-w", `${savedWidth}px`);
  splitter.setAttribute("aria-valuenow", String(savedWidth));
}
splitter.addEventListener("pointerdown", (event) => {
  splitter.setPointerCapture(event.pointerId);
  const move = (e) => setListWidth(e.clientX - layout.getBoundingClientRect().left);
  const up = () => {
    splitter.removeEventListener("pointermove", move);
    splitter.removeEventListener("pointerup", up);
  };
  splitter.addEventListener("pointermove", move);
  splitter.addEventListener("pointerup", up);
});
splitter.addEventListener("keydown", (event) => {
  const width = $(".list-pane").getBoundingClientRect().width;
  if (event.key === "ArrowLeft") setListWidth(width - 32);
  else if (event.key === "ArrowRight") setListWidth(width + 32);
  else return;
  event.preventDefault();
  event.stopPropagation();
});

// Location: #q=<search>&m=<message ID> survives a reload ----------------------------------
function writeHash() {
  const params = new URLSearchParams();
  if (list.query) params.set("q", list.query);
  if (reader.openId || list.openId) params.set("m", list.openId || reader.openId);
  if (sessionsView.active) params.set("sessions", sessionsView.openId || "");
  const hash = params.toString();
  history.replaceState(null, "", hash ? `#${hash}` : location.pathname + location.search);
}

function readHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  return { query: params.get("q") || "", id: params.get("m") || "", session: params.get("sessions") };
}

// Start ---------------------------------------------------------------------------------
async function start() {
  const { query, id, session } = readHash();
  searchInput.value = query;
  searchClear.hidden = !query;
  api.webui().then((ui) => {
    if (ui && ui.SMTP && typeof ui.SMTP.Address === "string") {
      smtpAddress = ui.SMTP.Address;
      delete $("#list-empty").dataset.text;
      updateChrome();
    }
  }, () => {});
  const first = list.show(query);
  // index.html preloads the inbox's first page. A link to a search doesn't show it, but takes
  // the mailbox's counts from it (and the browser doesn't warn of a preload left unused).
  if (query) api.page("", 0, 100).then((r) => setCounts(r.total, r.unread), () => {});
  if (id) openMessage(id);
  if (session !== null) sessionsView.show(session || null);
  await first;
  live.start();
  setInterval(() => list.schedule(), 30_000); // relative times
  document.documentElement.dataset.ready = "true";
}

start();
