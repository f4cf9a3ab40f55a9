// The live stream (WebSocket GET /api/v1/stream), one per page, shared by every module that
// wants events: `on(type, fn)` hands each event's data to fn. The socket is authenticated by
// the session cookie (same origin). Every frame is {"id", "type", "data"}; the client keeps
// the last id and reconnects with ?since=<it>, with a growing, jittered delay, so the server
// replays what was missed; when it cannot, it sends "resync" and each listener refetches.
// The first connection starts from <meta name="stream-since">, taken by the server before it
// read the page, so nothing that happened while the page loaded is lost either.
// The server pings now and then and drops a client that does not answer; the client answers
// each ping with a pong, and gives up on a socket that has said nothing for too long (a
// connection that died without a close) to open a new one.

const viewer = document.querySelector('meta[name="viewer"]');
const start = document.querySelector('meta[name="stream-since"]');

const PING_MS = 25_000; // our own ping, so a silent server is noticed
const SILENCE_MS = 75_000; // nothing heard for this long: the socket is dead
const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 30_000;
const STABLE_MS = 10_000; // a socket that stayed up this long starts the delays over
// Close codes after which trying again cannot help: signed out (or the session ended), or a
// cookie without a same-origin Origin. Every other close is retried, later and later.
const FINAL_CLOSES = new Set([4401, 4403]);

const listeners = new Map(); // type -> Set of functions
const statusListeners = new Set();
let socket = null;
let since = start ? start.getAttribute("content") : null;
let attempt = 0;
let retryTimer = 0;
let pingTimer = 0;
let connected = false;
let heardAt = 0;
let stopped = !viewer || !("WebSocket" in window);

/** Call fn(data, frame) for every event of this type; returns a function that stops it. */
export function on(type, fn) {
  if (!listeners.has(type)) listeners.set(type, new Set());
  listeners.get(type).add(fn);
  return () => listeners.get(type)?.delete(fn);
}

/** Call fn(isOpen) whenever the socket opens or closes; returns a function that stops it. */
export function onStatus(fn) {
  statusListeners.add(fn);
  return () => statusListeners.delete(fn);
}

/** Whether events are arriving right now (else callers fall back to asking). */
export function isOpen() {
  return connected;
}

function emit(type, data, frame) {
  for (const fn of [...(listeners.get(type) || [])]) {
    try {
      fn(data, frame);
    } catch (err) {
      console.warn(`stream listener for ${type} failed`, err); // one listener never stops the rest
    }
  }
}

function setStatus(open) {
  if (connected === open) return;
  connected = open;
  document.documentElement.toggleAttribute("data-stream-open", open);
  for (const fn of [...statusListeners]) {
    try {
      fn(open);
    } catch (err) {
      console.warn("stream status listener failed", err);
    }
  }
}

function address() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const query = since ? `?since=${encodeURIComponent(since)}` : "";
  return `${scheme}//${location.host}/api/v1/stream${query}`;
}

function schedule() {
  if (stopped || retryTimer) return;
  const ceiling = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** attempt);
  attempt += 1;
  const delay = ceiling / 2 + Math.random() * (ceiling / 2);
  retryTimer = window.setTimeout(() => {
    retryTimer = 0;
    connect();
  }, delay);
}

function send(ws, frame) {
  if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(frame));
}

function receive(ws, event) {
  heardAt = Date.now();
  let frame;
  try {
    frame = JSON.parse(event.data);
  } catch (err) {
    return;
  }
  if (!frame || typeof frame.type !== "string") return;
  if (frame.id !== undefined && frame.id !== null && frame.id !== "") since = String(frame.id);
  if (frame.type === "ping") return send(ws, { type: "pong" });
  if (frame.type === "pong") return;
  emit(frame.type, frame.data || {}, frame);
}

function connect() {
  if (stopped || socket) return;
  if (navigator.onLine === false) return; // the "online" event brings us back
  let ws;
  try {
    ws = new WebSocket(address());
  } catch (err) {
    schedule();
    return;
  }
  socket = ws;
  let openedAt = 0;
  let gone = false;
  // The socket is over (closed, or given up on): once, whichever comes first.
  const over = (code) => {
    if (gone) return;
    gone = true;
    window.clearInterval(pingTimer);
    if (socket === ws) socket = null;
    setStatus(false);
    if (openedAt && Date.now() - openedAt > STABLE_MS) attempt = 0;
    if (FINAL_CLOSES.has(code)) {
      stopped = true; // signed out elsewhere: the next page load goes to the sign-in page
      return;
    }
    schedule();
  };
  ws.addEventListener("open", () => {
    openedAt = heardAt = Date.now();
    setStatus(true);
    pingTimer = window.setInterval(() => {
      if (Date.now() - heardAt <= SILENCE_MS) return send(ws, { type: "ping" });
      ws.close(4000, "silent"); // a dead connection may never say it closed: do not wait
      over(4000);
    }, PING_MS);
  });
  ws.addEventListener("message", (event) => {
    if (!gone) receive(ws, event);
  });
  ws.addEventListener("close", (event) => over(event.code));
}

function reconnectNow() {
  if (stopped || socket) return;
  window.clearTimeout(retryTimer);
  retryTimer = 0;
  connect();
}

if (!stopped) {
  window.addEventListener("online", reconnectNow);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") reconnectNow();
  });
  // Leaving the page: close cleanly rather than leave the server a dead socket.
  window.addEventListener("pagehide", () => {
    if (socket) socket.close(1000, "page closed");
  });
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) reconnectNow(); // back from the back/forward cache
  });
  connect();
}
