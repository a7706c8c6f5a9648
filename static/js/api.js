// The HTTP API, as the UI uses it. Every call rejects with an ApiError on failure.
import { apiUrl } from "./dom.js";

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function request(method, path, { json, signal } = {}) {
  let response;
  try {
    response = await fetch(apiUrl(path), {
      method,
      signal,
      headers: json === undefined ? { Accept: "application/json" } : { "Content-Type": "application/json" },
      body: json === undefined ? undefined : JSON.stringify(json),
      cache: "no-store",
    });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, "the server can't be reached");
  }
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try {
      const body = await response.json();
      if (body && typeof body.Error === "string") message = body.Error;
    } catch {
      // not JSON: keep the status line
    }
    throw new ApiError(response.status, message);
  }
  return response;
}

async function getJSON(path, options) {
  return (await request("GET", path, options)).json();
}

const q = encodeURIComponent;

/** A response's first `maxBytes` bytes, reading no further: `{bytes, truncated, size}` (size: the whole body's, as the server says, else as far as read). */
export async function readCapped(response, maxBytes) {
  const reader = response.body.getReader();
  const chunks = [];
  let size = 0;
  let truncated = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.length;
    if (size > maxBytes) {
      truncated = true;
      await reader.cancel();
      break;
    }
  }
  const bytes = new Uint8Array(Math.min(size, maxBytes));
  let offset = 0;
  for (const chunk of chunks) {
    const take = Math.min(chunk.length, bytes.length - offset);
    bytes.set(chunk.subarray(0, take), offset);
    offset += take;
    if (offset >= bytes.length) break;
  }
  return { bytes, truncated, size: Number(response.headers.get("content-length")) || size };
}

export const api = {
  /** A page of summaries: the whole mailbox, or the matches of a search when `query` is set. */
  page(query, start, limit, signal) {
    const path = query
      ? `api/v1/search?query=${q(query)}&start=${start}&limit=${limit}`
      : `api/v1/messages?start=${start}&limit=${limit}`;
    return getJSON(path, { signal });
  },
  /** The message (this marks it read on the server). */
  message: (id, signal) => getJSON(`api/v1/message/${q(id)}`, { signal }),
  headers: (id, signal) => getJSON(`api/v1/message/${q(id)}/headers`, { signal }),
  transcript: (id, signal) => getJSON(`api/v1/message/${q(id)}/transcript`, { signal }),
  /** The raw source as text, cut at `maxBytes`; `{text, truncated, size}`. */
  async raw(id, maxBytes, signal) {
    const response = await request("GET", `api/v1/message/${q(id)}/raw`, { signal });
    const { bytes, truncated, size } = await readCapped(response, maxBytes);
    return { text: new TextDecoder().decode(bytes), truncated, size };
  },
  webui: () => getJSON("api/v1/webui"),
  setRead: (ids, read) => request("PUT", "api/v1/messages", { json: { IDs: ids, Read: read } }),
  markAllRead: () => request("PUT", "api/v1/messages", { json: { Read: true } }),
  markSearchRead: (query) => request("PUT", "api/v1/messages", { json: { Read: true, Search: query } }),
  remove: (ids) => request("DELETE", "api/v1/messages", { json: { IDs: ids } }),
  removeAll: () => request("DELETE", "api/v1/messages", { json: {} }),
  removeSearch: (query) => request("DELETE", `api/v1/search?query=${q(query)}`),
  /** The delete of a page being closed: a keepalive request outlives the page. */
  removeOnLeave(ids) {
    fetch(apiUrl("api/v1/messages"), {
      method: "DELETE", keepalive: true, cache: "no-store",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify({ IDs: ids }),
    }).catch(() => {});
  },
  setTags: (ids, tags) => request("PUT", "api/v1/tags", { json: { IDs: ids, Tags: tags } }),
  tags: () => getJSON("api/v1/tags"),
};

export const urls = {
  raw: (id) => apiUrl(`api/v1/message/${q(id)}/raw`),
  download: (id) => apiUrl(`api/v1/message/${q(id)}/raw?dl=1`),
  part: (id, partId) => apiUrl(`api/v1/message/${q(id)}/part/${q(partId)}`),
  view: (id) => apiUrl(`view/${q(id)}.html`),
  events: () => {
    const url = new URL(apiUrl("api/events"));
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    return url.href;
  },
};
