// Release: sending the open message on through the relay server (POST api/v1/message/{ID}/release).
// The button shows only when /api/v1/webui says relaying is configured; its dialog shows the
// relay server, the allowed and blocked recipient patterns, and the server's answer.
import { h, apiUrl, addressList } from "./dom.js";

const SVG_NS = "http://www.w3.org/2000/svg";
let relayInfo = null; // resolves to /api/v1/webui's MessageRelay (Enabled false when it can't be read)
let dialog = null;

function relay() {
  relayInfo ??= fetch(apiUrl("api/v1/webui"), { headers: { Accept: "application/json" }, cache: "no-store" })
    .then((response) => (response.ok ? response.json() : {}))
    .then((info) => info.MessageRelay || { Enabled: false })
    .catch(() => ({ Enabled: false }));
  return relayInfo;
}

function sendIcon() {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", "icon");
  svg.setAttribute("aria-hidden", "true");
  for (const d of ["M4 12 20 4l-5 16-3.5-6.5z", "M11.5 13.5 20 4"]) {
    const path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", d);
    svg.append(path);
  }
  return svg;
}

/** The reader's Release button for `message`: hidden until the server says relaying is on. */
export function releaseButton(message) {
  const button = h("button", {
    type: "button", class: "btn ghost", "data-action": "release", hidden: true,
    title: "Send this message on through the relay server",
    onclick: () => openDialog(message),
  }, sendIcon(), h("span", { text: "Release" }));
  relay().then((info) => {
    button.dataset.relay = info.Enabled ? "on" : "off";
    button.hidden = !info.Enabled;
  });
  return button;
}

/** The addresses typed in the To field: split at commas and semicolons, blanks dropped. */
function recipients(text) {
  return text.split(/[,;\n]/).map((part) => part.trim()).filter(Boolean);
}

async function release(id, to) {
  let response;
  try {
    response = await fetch(apiUrl(`api/v1/message/${encodeURIComponent(id)}/release`), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ To: to }),
      cache: "no-store",
    });
  } catch {
    throw new Error("the server can't be reached");
  }
  if (response.ok) return;
  let message = `${response.status} ${response.statusText}`;
  try {
    const body = await response.json();
    if (body && typeof body.Error === "string") message = body.Error;
  } catch {
    // not JSON: keep the status line
  }
  throw new Error(message);
}

function pattern(label, value) {
  return value ? h("p", { class: "release-rule" }, h("span", { text: label }), h("code", { text: value })) : null;
}

async function openDialog(message) {
  const info = await relay();
  dialog?.remove();
  const defaultTo = info.DefaultReleaseTo || addressList((message.To || []).map((a) => ({ Address: a.Address })));
  const input = h("input", {
    id: "release-to", type: "text", class: "release-to", value: defaultTo, autocomplete: "off", spellcheck: "false",
    placeholder: "user@example.com, other@example.com", "aria-describedby": "release-rules",
  });
  const result = h("div", { class: "release-result", role: "status", "aria-live": "polite" });
  const submit = h("button", { type: "submit", class: "btn primary", value: "release" }, sendIcon(), h("span", { text: "Release" }));
  const cancel = h("button", { type: "button", class: "btn", text: "Cancel", onclick: () => dialog.close() });
  const form = h("form", { method: "dialog" },
    h("h2", { id: "release-title", text: "Release message" }),
    h("p", { class: "release-what" },
      "Send “", h("strong", { text: message.Subject || "(no subject)" }), "” through ",
      h("code", { text: info.SMTPServer || "the relay server" }), "."),
    h("label", { for: "release-to", class: "release-label", text: "To" }),
    input,
    h("div", { id: "release-rules", class: "release-rules" },
      pattern("Allowed recipients", info.AllowedRecipients),
      pattern("Blocked recipients", info.BlockedRecipients),
      pattern("Return-Path", info.ReturnPath),
      pattern("From address", info.OverrideFrom),
      h("p", {
        class: "release-note muted",
        text: `Sent with a new Date${info.PreserveMessageIDs ? "" : " and Message-ID"} and without its Bcc header; the captured message stays as it is.`,
      })),
    result,
    h("div", { class: "dialog-actions" }, cancel, submit));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const to = recipients(input.value);
    result.className = "release-result";
    result.setAttribute("role", "status");
    if (!to.length) {
      result.classList.add("is-error");
      result.textContent = "Enter at least one address.";
      input.focus();
      return;
    }
    submit.disabled = true;
    result.textContent = "Sending…";
    try {
      await release(message.ID, to);
      result.classList.add("is-ok");
      result.textContent = `Released to ${to.join(", ")}.`;
      cancel.textContent = "Close";
    } catch (error) {
      result.classList.add("is-error");
      result.setAttribute("role", "alert");
      result.textContent = error.message;
    } finally {
      submit.disabled = false;
    }
  });
  dialog = h("dialog", { class: "dialog release-dialog", "aria-labelledby": "release-title" }, form);
  document.body.append(dialog);
  dialog.showModal();
  input.focus();
  input.select();
}
