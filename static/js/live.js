// Live updates: the /api/events websocket, reconnection with backoff, and polling
// when the websocket can't get through (a proxy that drops upgrades, say).
//
// States: "connecting" (first attempt), "live" (websocket open), "polling" (the HTTP
// API answers but the websocket doesn't), "offline" (nothing answers). After every
// (re)connection, and whenever polling sees a change, onResync() refetches what is
// on screen, so events missed while away are never missed in the list.
import { api, urls } from "./api.js";

const BACKOFF_MIN = 500;
const BACKOFF_MAX = 10_000;
const POLL_MS = 2000;
const FAILURES_BEFORE_POLLING = 2;

export class Live {
  constructor({ onEvent, onStatus, onResync }) {
    this.onEvent = onEvent;
    this.onStatus = onStatus;
    this.onResync = onResync;
    this.state = "";
    this.ws = null;
    this.failures = 0;
    this.timer = 0;
    this.pollTimer = 0;
    this.signature = "";
    this.everOpened = false;
    window.addEventListener("online", () => this.retryNow());
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden && this.state !== "live") this.retryNow();
    });
  }

  start() {
    this.setState("connecting");
    this.connect();
  }

  setState(state) {
    if (state === this.state) return;
    this.state = state;
    this.onStatus(state);
  }

  connect() {
    clearTimeout(this.timer);
    this.timer = 0;
    let ws;
    try {
      ws = new WebSocket(urls.events());
    } catch {
      this.failed();
      return;
    }
    this.ws = ws;
    let opened = false;
    const giveUp = setTimeout(() => ws.close(), 8000);
    ws.onopen = () => {
      clearTimeout(giveUp);
      opened = true;
      this.everOpened = true;
      this.failures = 0;
      this.stopPolling();
      this.setState("live");
      this.onResync();
    };
    ws.onmessage = (message) => {
      let frame;
      try {
        frame = JSON.parse(message.data);
      } catch {
        return;
      }
      if (frame && typeof frame.Type === "string") this.onEvent(frame.Type, frame.Data);
    };
    ws.onclose = () => {
      clearTimeout(giveUp);
      if (this.ws !== ws) return;
      this.ws = null;
      if (opened) this.failures = 0;
      this.failed();
    };
  }

  /** The websocket closed or never opened: find out whether HTTP still works, retry later. */
  async failed() {
    this.failures += 1;
    const delay = Math.min(BACKOFF_MAX, BACKOFF_MIN * 2 ** (this.failures - 1)) * (0.8 + Math.random() * 0.4);
    this.timer = setTimeout(() => this.connect(), delay);
    let reachable = false;
    try {
      await api.page("", 0, 0);
      reachable = true;
    } catch {
      reachable = false;
    }
    if (this.ws && this.ws.readyState === WebSocket.OPEN) return;
    if (!reachable) {
      this.stopPolling();
      this.setState("offline");
    } else if (this.failures >= FAILURES_BEFORE_POLLING || this.state === "polling") {
      this.startPolling();
    } else {
      this.setState("connecting");
    }
  }

  retryNow() {
    if (this.ws) return;
    clearTimeout(this.timer);
    this.failures = Math.min(this.failures, 1);
    this.connect();
  }

  startPolling() {
    const first = this.state !== "polling";
    this.setState("polling");
    if (first) this.onResync();
    if (this.pollTimer) return;
    const poll = async () => {
      try {
        const page = await api.page("", 0, 1);
        const signature = [page.total, page.unread, page.messages[0]?.ID ?? ""].join("|");
        if (signature !== this.signature) {
          this.signature = signature;
          this.onResync();
        }
        if (this.state === "offline") this.setState("polling");
      } catch {
        this.setState("offline");
      }
      if (this.pollTimer) this.pollTimer = setTimeout(poll, POLL_MS);
    };
    this.pollTimer = setTimeout(poll, POLL_MS);
  }

  stopPolling() {
    clearTimeout(this.pollTimer);
    this.pollTimer = 0;
  }
}
