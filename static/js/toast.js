// Toasts: short notes at the bottom of the page, at most three at once. A toast with the key
// of one already shown replaces it (the same failure repeated is one toast, not a stack), and
// a toast may carry one action, such as Undo.
import { h } from "./dom.js";

const MAX = 3;

/**
 * Show a toast; returns {close()}.
 * @param {string} text
 * @param {{kind?: string, ms?: number, key?: string, action?: {label: string, run: () => void}}} options
 */
export function toast(text, { kind = "info", ms = 4000, key = text, action = null } = {}) {
  const box = document.getElementById("toasts");
  for (const old of [...box.children]) if (old.dataset.key === key) old.remove();
  while (box.children.length >= MAX) box.firstElementChild.remove();
  const el = h("div", { class: `toast ${kind}`, dataset: { key } }, h("span", { class: "toast-text", text }));
  let timer = 0;
  const close = () => {
    clearTimeout(timer);
    if (!el.isConnected || el.classList.contains("is-leaving")) return;
    el.classList.add("is-leaving");
    setTimeout(() => el.remove(), 400);
  };
  if (action) {
    el.append(h("button", {
      type: "button", class: "toast-action", text: action.label,
      onclick: () => {
        close();
        action.run();
      },
    }));
  }
  box.append(el);
  timer = setTimeout(close, ms);
  return { close, el };
}

/** Remove the toast with this key at once, if it is shown. */
export function dismiss(key) {
  for (const old of [...document.getElementById("toasts").children]) if (old.dataset.key === key) old.remove();
}
