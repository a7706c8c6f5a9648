// Previews of attachments the browser can show without running anything: text parts
// (text/plain, CSV, JSON, XML, calendars, logs...) are fetched and shown as text through
// textContent, never parsed as HTML. HTML parts are not previewed here (the HTML tab shows a
// message's HTML, sanitized and sandboxed). Images keep their <img> thumbnail (reader.js).
// PDFs are shown by the browser's own viewer in a frame of the part route's `?inline=1`, which
// serves nothing but PDFs inline (starting with %PDF-, as application/pdf, nosniff), to frames of
// the catcher's own pages only. That frame is not sandboxed: Chromium's viewer won't run in one.
import { readCapped } from "./api.js";
import { h, formatSize } from "./dom.js";

const TEXTUAL = /^(text\/(?!html\b)[\w.+-]+|application\/(json|xml|ld\+json|x-yaml|yaml|csv|x-sh|javascript|x-ndjson)|[\w.+-]+\/[\w.+-]+\+(json|xml))$/i;
const FULL_LIMIT = 1024 * 1024;
const THUMB_LIMIT = 2048;
let dialog = null;

/** True when the part is a PDF, which the browser's own viewer shows in a frame. */
export function isPdf(contentType) {
  return (contentType || "").split(";")[0].trim().toLowerCase() === "application/pdf";
}

/** True when the part is text the preview can show. */
export function isTextual(contentType) {
  return TEXTUAL.test((contentType || "").split(";")[0].trim());
}

/** Text in the charset the content type names; without one, UTF-8, else Windows-1252 (which
 * decodes any bytes). The part route's own Content-Type can't tell: Starlette adds
 * "charset=utf-8" to every text/* type that has none. */
function decode(bytes, ...contentTypes) {
  for (const type of contentTypes) {
    const match = /;\s*charset="?([\w.:-]+)"?/i.exec(type || "");
    if (!match) continue;
    try {
      return new TextDecoder(match[1]).decode(bytes);
    } catch {
      // an unknown charset: guess below
    }
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return new TextDecoder("windows-1252").decode(bytes);
  }
}

/** The part's first `limit` bytes as text: {text, truncated, size}. */
async function readText(url, contentType, limit) {
  const response = await fetch(url, { cache: "no-store" });
  if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
  const { bytes, truncated, size } = await readCapped(response, limit);
  return { text: decode(bytes, contentType), truncated, size };
}

/** The first lines of a text part, for its card. */
export function textThumbnail(url, contentType) {
  const pre = h("pre", { class: "att-text-thumb", "aria-hidden": "true" });
  readText(url, contentType, THUMB_LIMIT).then(({ text }) => {
    pre.textContent = text.split("\n").slice(0, 12).join("\n");
  }, () => {});
  return pre;
}

/** Open the preview dialog: the part's name and type, `content`, Download and Close. */
function openDialog(url, name, contentType, kind, ...content) {
  dialog?.remove();
  dialog = h("dialog", { class: `dialog att-dialog ${kind}`, "aria-labelledby": "att-dialog-title" },
    h("form", { method: "dialog" },
      h("div", { class: "att-dialog-head" },
        h("h2", { id: "att-dialog-title", text: name }),
        h("span", { class: "muted", text: contentType })),
      ...content,
      h("div", { class: "dialog-actions" },
        h("a", { class: "btn", href: url, download: name }, "Download"),
        h("button", { class: "btn primary", value: "close", autofocus: true }, "Close"))));
  dialog.addEventListener("close", () => dialog?.remove());
  document.body.append(dialog);
  dialog.showModal();
}

/** Show the whole text part (its first megabyte) in a dialog. */
export async function previewText(url, name, contentType) {
  const body = h("pre", { class: "att-text-full", tabindex: "0", text: "Loading…" });
  const note = h("p", { class: "muted att-text-note" });
  openDialog(url, name, contentType, "is-text", body, note);
  try {
    const { text, truncated, size } = await readText(url, contentType, FULL_LIMIT);
    body.textContent = text;
    note.textContent = truncated ? `The first ${formatSize(FULL_LIMIT)} of ${formatSize(size)}; download it for the rest.` : formatSize(size);
  } catch (error) {
    body.textContent = "";
    note.textContent = `Couldn't load it: ${error.message}`;
    note.classList.add("error");
  }
}

/** Show a PDF part in the browser's viewer, in a dialog. */
export function previewPdf(url, name, contentType) {
  const frame = h("iframe", {
    class: "att-pdf-frame",
    title: `Preview of ${name}`,
    src: `${url}?inline=1`,
    referrerpolicy: "no-referrer",
  });
  openDialog(url, name, contentType, "is-pdf", frame);
}
