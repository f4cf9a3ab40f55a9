// The navigation badges on every page: unread conversations (messages) and unread
// notifications, kept current from the stream. The server renders both; when something that
// may change them arrives, the counts are asked again (a few events in a row make one request).
import { api } from "./api.js";
import * as stream from "./stream.js";

const DEBOUNCE_MS = 300;
const timers = {};

function show(selector, count) {
  for (const badge of document.querySelectorAll(selector)) {
    const text = count > 99 ? "99+" : String(count);
    const first = badge.firstChild;
    if (first && first.nodeType === Node.TEXT_NODE) first.nodeValue = text;
    else badge.prepend(text);
    badge.hidden = !count;
  }
}

async function refreshMessages() {
  const counts = await api("GET", "/conversations/counts");
  show("[data-messages-badge]", counts.unread_conversations);
  for (const el of document.querySelectorAll("[data-requests-count]")) {
    el.textContent = counts.requests ? ` (${counts.requests})` : "";
  }
}

async function refreshNotifications() {
  const page = await api("GET", "/notifications?limit=1");
  show("[data-unread-badge]", page.unread_count);
}

function soon(name, fn) {
  window.clearTimeout(timers[name]);
  timers[name] = window.setTimeout(() => {
    fn().catch(() => {}); // a badge left as it was is better than an error on every page
  }, DEBOUNCE_MS);
}

const messages = () => soon("messages", refreshMessages);
const notifications = () => soon("notifications", refreshNotifications);

if (document.querySelector("[data-messages-badge]")) {
  for (const type of [
    "message.created",
    "message.deleted",
    "conversation.read",
    "conversation.updated",
  ]) {
    stream.on(type, messages);
  }
  stream.on("notification.created", notifications);
  stream.on("resync", () => {
    messages();
    notifications();
  });
}

/** Ask for the message counts again now (after accepting a request, say). */
export function refreshMessageCounts() {
  messages();
}
