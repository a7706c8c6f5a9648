// Small DOM helpers and formatters. Every piece of message data reaches the page
// through textContent or setAttribute, never through innerHTML.

/** Build an element: h("a", {class: "x", href: url, onclick: fn}, child, "text", ...). */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  if (props) {
    for (const [key, value] of Object.entries(props)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") el.className = value;
      else if (key === "text") el.textContent = value;
      else if (key === "dataset") Object.assign(el.dataset, value);
      else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
      else el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

const SVG_NS = "http://www.w3.org/2000/svg";

// Icon shapes drawn for mailcatch on a 24x24 grid, stroked with currentColor.
const ICONS = {
  clip: ["M8.5 12.5 14 7a2.5 2.5 0 0 1 3.5 3.5l-7 7a4 4 0 0 1-5.6-5.6L12 4.8"],
  trash: ["M4 7h16", "M9 7V4.5h6V7", "M6 7l1 13h10l1-13", "M10 11v5", "M14 11v5"],
  read: ["M3 9.5 12 4l9 5.5V19H3z", "M3 9.5 12 15l9-5.5"],
  unread: ["M3 6.5 12 13l9-6.5", "M3 5h18v14H3z"],
  download: ["M12 4v11", "M7 10.5 12 15.5l5-5", "M5 19.5h14"],
  back: ["M19 12H5", "M11 6l-6 6 6 6"],
  external: ["M14 4h6v6", "M20 4l-9 9", "M18 14v5H5V6h5"],
  image: ["M4 5h16v14H4z", "M4 16l5-5 4 4 3-3 4 4", "M15.5 9.5h.01"],
  file: ["M6 3h8l4 4v14H6z", "M14 3v4h4"],
  shield: ["M12 3 5 6v6c0 4 3 7 7 9 4-2 7-5 7-9V6z"],
  up: ["M6 15l6-6 6 6"],
  down: ["M6 9l6 6 6-6"],
};

/** An inline SVG icon from the set above, hidden from assistive technology. */
export function icon(name, className = "icon") {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", className);
  svg.setAttribute("aria-hidden", "true");
  for (const d of ICONS[name] || []) {
    const path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", d);
    svg.append(path);
  }
  return svg;
}

// Formatting ---------------------------------------------------------------
export function addressText(address) {
  if (!address) return "";
  if (address.Name && address.Address) return `${address.Name} <${address.Address}>`;
  return address.Name || address.Address || "";
}

export function addressShort(address) {
  if (!address) return "";
  return address.Name || address.Address || "";
}

export function addressList(list) {
  return (list || []).map(addressText).join(", ");
}

// Intl formatters are slow to build (tens of ms each on a small machine), so each is built
// the first time it is needed rather than while the page starts.
export function lazyFormat(make) {
  let format = null;
  return (value) => (format ||= make()).format(value);
}

const number = lazyFormat(() => new Intl.NumberFormat());
export function formatCount(n) {
  return number(n);
}

export function formatSize(bytes) {
  if (bytes == null) return "";
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1000 * 1000) return `${(bytes / 1000).toFixed(bytes < 10000 ? 1 : 0)} kB`;
  return `${(bytes / 1000 / 1000).toFixed(1)} MB`;
}

const timeOfDay = lazyFormat(() => new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" }));
const weekday = lazyFormat(() => new Intl.DateTimeFormat(undefined, { weekday: "short" }));
const dayMonth = lazyFormat(() => new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short" }));
const dayMonthYear = lazyFormat(() => new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", year: "numeric" }));
const fullDate = lazyFormat(() => new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "medium" }));

/** "just now", "5 min", "3 h", "Yesterday", "Mon", "4 Mar", "4 Mar 2023". */
export function relativeTime(value, now = Date.now()) {
  const date = value instanceof Date ? value : new Date(value);
  const t = date.getTime();
  if (Number.isNaN(t)) return "";
  const seconds = Math.round((now - t) / 1000);
  if (seconds < 45) return "just now";
  if (seconds < 3600) return `${Math.max(1, Math.round(seconds / 60))} min`;
  if (seconds < 6 * 3600) return `${Math.round(seconds / 3600)} h`;
  const today = new Date(now);
  today.setHours(0, 0, 0, 0);
  if (t >= today.getTime()) return timeOfDay(date);
  if (t >= today.getTime() - 86400000) return "Yesterday";
  if (t >= today.getTime() - 6 * 86400000) return weekday(date);
  if (date.getFullYear() === today.getFullYear()) return dayMonth(date);
  return dayMonthYear(date);
}

export function fullTime(value) {
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value || "") : fullDate(date);
}

// Links in plain text --------------------------------------------------------
const URL_PATTERN = /\b(?:https?:\/\/|www\.)[^\s<>"'`]+|\bmailto:[^\s<>"'`]+/gi;
const TRAILING = /[).,;:!?\]}>'"]+$/;

/** Plain text as nodes, with http(s) and mailto links made clickable (nothing else). */
export function linkify(text) {
  const nodes = [];
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    let url = match[0];
    const trailing = url.match(TRAILING);
    if (trailing) {
      // Keep a closing bracket that belongs to the URL, drop trailing punctuation.
      let cut = trailing[0];
      if (cut.startsWith(")") && url.includes("(")) cut = cut.slice(1);
      url = url.slice(0, url.length - cut.length);
    }
    if (!url) continue;
    const href = url.toLowerCase().startsWith("www.") ? `http://${url}` : url;
    if (!safeLink(href)) continue;
    if (match.index > last) nodes.push(text.slice(last, match.index));
    nodes.push(h("a", { href, target: "_blank", rel: "noopener noreferrer" }, url));
    last = match.index + url.length;
  }
  if (last < text.length) nodes.push(text.slice(last));
  return nodes;
}

/** True for the only link schemes the UI ever makes clickable. */
export function safeLink(href) {
  try {
    const url = new URL(href);
    return ["http:", "https:", "mailto:"].includes(url.protocol);
  } catch {
    return false;
  }
}

/** An API URL that also works when mailcatch is served under a path prefix. */
export function apiUrl(path) {
  return new URL(path.replace(/^\//, ""), document.baseURI).href;
}

/** Stable hue for a tag name, for its pill colour. */
export function tagHue(tag) {
  let hash = 0;
  for (const ch of tag) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
  return hash % 360;
}
