// Browser notifications of new mail, opt-in: the bell in the top bar asks the browser for
// permission and remembers the choice (localStorage). New mail is announced only while the
// page is hidden or another window has the focus; a burst is one notification.
import { addressShort } from "./dom.js";

const KEY = "mailcatch.notify";
const BURST = 3;

export class Notifier {
  /** @param {HTMLButtonElement} button; {onOpen(id), onMessage(text, kind)} */
  constructor(button, { onOpen, onMessage }) {
    this.button = button;
    this.onOpen = onOpen;
    this.onMessage = onMessage;
    this.focused = document.hasFocus();
    window.addEventListener("focus", () => { this.focused = true; });
    window.addEventListener("blur", () => { this.focused = false; });
    if (!("Notification" in window)) {
      button.hidden = true;
      return;
    }
    button.hidden = false;
    button.addEventListener("click", () => this.toggle());
    this.render();
  }

  get enabled() {
    return "Notification" in window && Notification.permission === "granted" && localStorage.getItem(KEY) === "on";
  }

  render() {
    const on = this.enabled;
    this.button.setAttribute("aria-pressed", String(on));
    this.button.title = on ? "Notifications of new mail are on (click to turn off)" : "Notify me of new mail";
  }

  async toggle() {
    if (this.enabled) {
      localStorage.setItem(KEY, "off");
      this.render();
      this.onMessage("Notifications of new mail are off.", "info");
      return;
    }
    let permission = Notification.permission;
    if (permission === "default") permission = await Notification.requestPermission();
    if (permission === "granted") {
      localStorage.setItem(KEY, "on");
      this.onMessage("You'll be notified of new mail while this page is in the background.", "info");
    } else {
      this.onMessage("This browser blocks notifications from this page: allow them in the site's settings.", "error");
    }
    this.render();
  }

  /** New summaries, oldest first. */
  announce(messages) {
    if (!messages.length || !this.enabled || (this.focused && !document.hidden)) return;
    const show = (title, body, id) => {
      const note = new Notification(title, { body, tag: id ? `mailcatch-${id}` : "mailcatch-burst" });
      note.addEventListener("click", () => {
        window.focus();
        if (id) this.onOpen(id);
        note.close();
      });
    };
    if (messages.length > BURST) {
      const n = messages.length;
      show(`${n} new messages`, messages.slice(-BURST).reverse().map((m) => m.Subject || "(no subject)").join("\n"), null);
      return;
    }
    for (const m of messages) show(addressShort(m.From) || "New message", m.Subject || "(no subject)", m.ID);
  }
}
