// Turns a message's HTML into a document for an <iframe sandbox srcdoc>.
//
// The sandbox (no allow-scripts, no allow-same-origin, no allow-forms) is what keeps a
// hostile message from running anything. This module is a second layer: it drops
// scripts, event handlers, frames, forms' targets, refreshes and non-web links, points
// cid: references at the message's parts, and holds back remote images, styles and
// fonts until the reader asks for them (loopback addresses included: they are remote
// content too). URLs at the catcher itself, other than this message's parts, never load,
// asked or not: an image in one message must not mark another read. A
// Content-Security-Policy written into the document backs that up for anything the
// rewriting misses: it allows the catcher only under this message's parts.

const DROP_ELEMENTS = [
  "script", "iframe", "frame", "frameset", "object", "embed", "applet", "base", "portal",
  "template", "meta", "link", "noembed", "set", "animate", "animateMotion", "animateTransform",
  "discard", "handler", "listener",
].join(",");

// Attributes holding a URL the browser loads by itself.
const RESOURCE_ATTRS = new Set(["src", "background", "poster", "lowsrc", "dynsrc", "data"]);
// Attributes that navigate, submit or ping: removed, except links handled apart.
const DROP_ATTRS = new Set(["action", "formaction", "ping", "manifest", "codebase", "longdesc",
  "profile", "xmlns:xlink", "srcdoc", "http-equiv", "target", "formtarget"]);
const LINK_SCHEMES = new Set(["http:", "https:", "mailto:", "tel:"]);
const CSS_URL = /url\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([^)"'\s]*))\s*\)/gi;
const CSS_IMPORT = /@import\s+(?:url\([^)]*\)|"[^"]*"|'[^']*')[^;]*;?/gi;
const CSS_IMAGE_SET = /(image-set\([^)]*?)(["'])((?:https?:)?\/\/[^"']*)\2/gi;

/**
 * Build the srcdoc for one message.
 * @param {string} html the message's HTML body
 * @param {object} options {origin, partUrl(partId), parts: [{PartID, ContentID}], allowRemote}
 * @returns {{srcdoc: string, blocked: number, hosts: string[]}}
 */
export function buildSrcdoc(html, { origin, partUrl, parts = [], allowRemote = false }) {
  // The parts' common prefix (partUrl of an empty ID): the only URLs at the catcher the frame may load.
  const partsPrefix = partUrl("");
  const state = { blocked: 0, hosts: new Set(), origin, partsPrefix, partUrl, allowRemote, cids: cidMap(parts), sheets: [] };
  // Clean, serialize and parse again until nothing changes, so the frame parses exactly
  // the markup that was checked (markup that re-parses differently, "mutation XSS",
  // gets another round of cleaning instead of slipping through).
  let doc = null;
  let markup = html;
  for (let round = 0; round < 5; round++) {
    doc = new DOMParser().parseFromString(markup, "text/html");
    clean(doc, state);
    const again = "<!doctype html>\n" + doc.documentElement.outerHTML;
    if (again === markup) break;
    markup = again;
    if (round === 4) {
      // Never settled: show the source as text rather than guess.
      doc = new DOMParser().parseFromString("<!doctype html><pre></pre>", "text/html");
      doc.querySelector("pre").textContent = html;
    }
  }

  const head = doc.head;
  const first = head.firstChild;
  const add = (el) => head.insertBefore(el, first);
  add(meta({ charset: "utf-8" }));
  add(meta({ "http-equiv": "Content-Security-Policy", content: policy(partsPrefix, allowRemote) }));
  add(meta({ name: "referrer", content: "no-referrer" }));
  add(meta({ "http-equiv": "x-dns-prefetch-control", content: "off" }));
  const base = doc.createElement("style");
  base.textContent = "html{color-scheme:light}"; // the frame itself is white; the message paints the rest
  add(base);
  for (const href of state.sheets) {
    const sheet = doc.createElement("link");
    sheet.setAttribute("rel", "stylesheet");
    sheet.setAttribute("href", href);
    head.append(sheet);
  }
  return {
    srcdoc: "<!doctype html>\n" + doc.documentElement.outerHTML,
    blocked: state.blocked,
    hosts: [...state.hosts],
  };

  function meta(attrs) {
    const el = doc.createElement("meta");
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    return el;
  }
}

/** Clean a parsed message in place; `state` gathers what was blocked. */
function clean(doc, state) {
  // Remote stylesheets come back as <link>s after cleaning, if remote content is allowed.
  for (const link of doc.querySelectorAll("link")) {
    const rel = (link.getAttribute("rel") || "").toLowerCase().split(/\s+/);
    const href = (link.getAttribute("href") || "").trim();
    if (rel.includes("stylesheet") && isRemote(href)) {
      if (state.allowRemote && !isLocal(href, state)) {
        if (!state.sheets.includes(absoluteRemote(href))) state.sheets.push(absoluteRemote(href));
      } else {
        block(state, href);
      }
    }
  }
  for (const el of doc.querySelectorAll(DROP_ELEMENTS)) el.remove();
  for (const el of doc.querySelectorAll("*")) {
    for (const attr of [...el.attributes]) cleanAttribute(el, attr, state);
    if (el.localName === "style") el.textContent = cleanCss(el.textContent, state);
    const href = el.getAttribute("href") ?? el.getAttribute("xlink:href");
    if ((el.localName === "a" || el.localName === "area") && href && !href.trim().startsWith("#")) {
      el.setAttribute("target", "_blank"); // a link opens a new tab, never inside the frame
      el.setAttribute("rel", "noopener noreferrer");
    }
  }
}

function policy(partsPrefix, allowRemote) {
  const remote = allowRemote ? " http: https:" : "";
  // A source with a path ending in "/" allows what is under it: this message's parts, not the
  // catcher's API. (CSP can't take the catcher back out of http: when remote content is allowed;
  // resourceUrl drops such URLs.)
  const parts = partsPrefix.replace(/[;,\s]/g, encodeURIComponent);
  return [
    "default-src 'none'",
    `img-src ${parts} data: blob:${remote}`,
    `style-src ${parts} 'unsafe-inline'${remote}`,
    `font-src ${parts} data:${remote}`,
    `media-src ${parts} data:${remote}`,
    "form-action 'none'",
    "base-uri 'none'",
  ].join("; ");
}

function cidMap(parts) {
  const map = new Map();
  for (const part of parts) {
    const cid = (part.ContentID || "").trim().replace(/^<|>$/g, "").toLowerCase();
    if (cid && !map.has(cid)) map.set(cid, part.PartID);
  }
  return map;
}

function isRemote(url) {
  return /^(?:https?:)?\/\//i.test(url.trim());
}

function absoluteRemote(url) {
  const trimmed = url.trim();
  return trimmed.startsWith("//") ? `https:${trimmed}` : trimmed;
}

/** Whether a remote URL points at the catcher itself: its origin, or its port on its host or on loopback. */
function isLocal(url, state) {
  let parsed, own;
  try {
    parsed = new URL(absoluteRemote(url));
    own = new URL(state.origin);
  } catch {
    return false;
  }
  if (parsed.origin === own.origin) return true;
  const port = (u) => u.port || (u.protocol === "https:" ? "443" : "80");
  if (port(parsed) !== port(own)) return false;
  const bare = (u) => u.hostname.toLowerCase().replace(/\.$/, "").replace(/^\[|\]$/g, "");
  const host = bare(parsed);
  return host === bare(own) || host === "localhost" || host.endsWith(".localhost") || host === "0.0.0.0"
    || host === "::" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host) || /^::ffff:(?:127\.|7f[0-9a-f]{2}:)/.test(host);
}

function block(state, url) {
  state.blocked += 1;
  try {
    state.hosts.add(new URL(absoluteRemote(url)).host);
  } catch {
    // an unparsable URL: counted, no host to name
  }
}

/** What a resource URL becomes: a part URL, itself, or null to drop it. */
function resourceUrl(raw, state) {
  const url = raw.trim().replace(/[\u0000-\u001f]/g, "");
  if (/^cid:/i.test(url)) {
    let cid = url.slice(4);
    try {
      cid = decodeURIComponent(cid);
    } catch {
      // keep it as written
    }
    const partId = state.cids.get(cid.replace(/^<|>$/g, "").toLowerCase());
    return partId ? state.partUrl(partId) : null;
  }
  if (url.startsWith(state.partsPrefix) && !/(?:^|\/)\.\.?(?:\/|$)|%2e|[?#\\]/i.test(url.slice(state.partsPrefix.length))) {
    return url; // a part of this message, rewritten before
  }
  if (/^data:(?:image\/(?:png|gif|jpe?g|webp|avif|bmp|svg\+xml)|font\/|application\/font)/i.test(url)) return url;
  if (isRemote(url)) {
    if (isLocal(url, state)) {
      block(state, url); // the catcher itself: never, asked or not
      return null;
    }
    if (state.allowRemote) return absoluteRemote(url);
    block(state, url);
    return null;
  }
  return null; // relative, javascript:, file: and the like mean nothing in a message
}

function cleanAttribute(el, attr, state) {
  const name = attr.name.toLowerCase();
  const local = name.includes(":") ? name.split(":").pop() : name;
  if (name.startsWith("on")) {
    el.removeAttribute(attr.name);
    return;
  }
  if (DROP_ATTRS.has(name)) {
    el.removeAttribute(attr.name);
    return;
  }
  if (name === "style") {
    el.setAttribute("style", cleanCss(attr.value, state));
    return;
  }
  if (local === "href") {
    const isLink = el.localName === "a" || el.localName === "area";
    if (isLink) {
      const href = attr.value.trim();
      if (href.startsWith("#") && !href.includes(":")) return;
      let ok = false;
      try {
        ok = LINK_SCHEMES.has(new URL(href).protocol);
      } catch {
        ok = false;
      }
      if (!ok) el.removeAttribute(attr.name);
      return;
    }
    // SVG <image>, <use>, <feImage> and friends load what href points at.
    const url = resourceUrl(attr.value, state);
    if (url === null) el.removeAttribute(attr.name);
    else el.setAttribute(attr.name, url);
    return;
  }
  if (RESOURCE_ATTRS.has(name)) {
    const url = resourceUrl(attr.value, state);
    if (url === null) el.removeAttribute(attr.name);
    else if (url !== attr.value) el.setAttribute(attr.name, url);
    return;
  }
  if (name === "srcset" || name === "imagesrcset") {
    const candidates = attr.value.split(",").map((c) => c.trim()).filter(Boolean);
    const kept = [];
    for (const candidate of candidates) {
      const [url, ...descriptor] = candidate.split(/\s+/);
      const clean = resourceUrl(url, state);
      if (clean !== null) kept.push([clean, ...descriptor].join(" "));
    }
    if (kept.length) el.setAttribute(attr.name, kept.join(", "));
    else el.removeAttribute(attr.name);
  }
}

/** CSS with cid: pointed at parts and remote url(), @import and image-set() held back. */
export function cleanCss(css, state) {
  let out = css.replace(CSS_IMPORT, (rule) => {
    const target = rule.match(/@import\s+(?:url\(\s*["']?([^"')]*)|["']([^"']*))/i);
    const url = target ? target[1] || target[2] || "" : "";
    if (isRemote(url) && state.allowRemote && !isLocal(url, state)) return rule;
    if (isRemote(url)) block(state, url);
    return "";
  });
  out = out.replace(CSS_URL, (whole, dq, sq, bare) => {
    const url = (dq ?? sq ?? bare ?? "").replace(/\\(.)/g, "$1");
    const clean = resourceUrl(url, state);
    return clean === null ? "none" : `url("${clean.replace(/["\\\n]/g, encodeURIComponent)}")`;
  });
  out = out.replace(CSS_IMAGE_SET, (whole, prefix, quote, url) => {
    const clean = resourceUrl(url, state);
    return clean === null ? `${prefix}${quote}${quote}` : `${prefix}${quote}${clean}${quote}`;
  });
  return out;
}
