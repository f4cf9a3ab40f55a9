// Direct messages, live: the conversation list (inbox, requests, and beside a thread) and the
// open thread. The server renders both (glint/web/pages_messages.py); this module sends through
// the JSON API and follows the stream: new messages, typing, "Seen", reactions, unsend, photos
// that finish sending. Message bubbles are built with the same markup as the server's macro
// (templates/direct_macros.html); user text only ever goes in as text.
import { ApiError, api, apiHeaders, errorFrom, fetchFragment } from "./api.js";
import { refreshMessageCounts } from "./badges.js";
import { h, hydrate, onHydrate, toast } from "./dom.js";
import * as stream from "./stream.js";

const meMeta = document.querySelector('meta[name="viewer-id"]');
const ME = meMeta ? meMeta.getAttribute("content") : null;
const TYPING_EVERY_MS = 3000;
const TIME_GAP_MS = 60 * 60 * 1000;
const LONG_PRESS_MS = 450;
const FALLBACK_POLL_MS = 5000;
const MAX_PHOTO_BYTES = 10 * 1024 * 1024;
const PHOTO_TYPES = /^image\/(jpeg|png|webp|heic|heif|avif)$/;

const big = (id) => {
  try {
    return BigInt(id);
  } catch (err) {
    return 0n;
  }
};

function clientId() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function avatarNode(url, username, size) {
  const inner = url
    ? h("img", { src: url, alt: "", width: 150, height: 150, loading: "lazy", decoding: "async" })
    : h("span", { class: "avatar-letter", "aria-hidden": "true" }, (username || "?").slice(0, 1).toUpperCase());
  return h("span", { class: `avatar avatar-${size}` }, inner);
}

const SVG = "http://www.w3.org/2000/svg";

/** A line icon as macros/icons.html draws it (the few this module builds itself). */
function icon(cls, ...shapes) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("class", cls);
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  for (const [tag, attrs] of shapes) {
    const shape = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attrs)) shape.setAttribute(name, value);
    svg.append(shape);
  }
  return svg;
}

const smileIcon = () =>
  icon("icon icon-xs", ["circle", { cx: 12, cy: 12, r: 9 }], ["path", { d: "M8.2 14.2a4.6 4.6 0 0 0 7.6 0M9 9.5v.1M15 9.5v.1" }]);
const heartIcon = () =>
  icon("icon msg-heart-icon", [
    "path",
    { d: "M12 20.3s-7.6-4.6-9.3-9.2C1.5 7.9 3.5 4.3 7.1 4.3c2.1 0 3.6 1.2 4.9 3 1.3-1.8 2.8-3 4.9-3 3.6 0 5.6 3.6 4.4 6.8-1.7 4.6-9.3 9.2-9.3 9.2z" },
  ]);

function timeLine(iso) {
  const when = new Date(iso);
  const label = when.toLocaleString(undefined, { day: "numeric", month: "long", year: "numeric", hour: "2-digit", minute: "2-digit" });
  return h("li", { class: "msg-time muted small" }, h("time", { datetime: iso }, label));
}

// ---------------------------------------------------------------- the conversation list

const rowTimers = new Map();

function conversationList() {
  return document.querySelector("[data-conversation-list]");
}

function activeId() {
  const chat = document.querySelector("[data-chat]");
  return chat ? chat.dataset.chat : null;
}

async function refreshRow(conversationId, toTop) {
  const list = conversationList();
  if (!list) return;
  const folder = list.dataset.conversationList;
  const current = list.querySelector(`[data-conversation="${conversationId}"]`);
  const active = conversationId === activeId();
  let fresh;
  try {
    const body = await fetchFragment(`/direct/t/${conversationId}/row${active ? "?active=true" : ""}`);
    fresh = body.querySelector("[data-conversation]");
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) current?.remove(); // left, or blocked
    return;
  }
  if (!fresh) return;
  const belongs = (fresh.dataset.request === "true") === (folder === "requests");
  if (!belongs) {
    current?.remove();
    return;
  }
  if (!current && !toTop) return; // further down the list than it shows: left for paging
  fresh = document.adoptNode(fresh);
  if (toTop) {
    current?.remove();
    list.prepend(fresh); // new activity: first
  } else {
    current.replaceWith(fresh);
  }
  document.querySelector("[data-list-empty]")?.remove();
  hydrate(fresh);
}

function rowSoon(conversationId, toTop = false) {
  const pending = rowTimers.get(conversationId);
  if (pending) window.clearTimeout(pending.timer);
  const top = toTop || Boolean(pending && pending.toTop);
  const timer = window.setTimeout(() => {
    rowTimers.delete(conversationId);
    refreshRow(conversationId, top);
  }, 150);
  rowTimers.set(conversationId, { timer, toTop: top });
}

async function reloadList() {
  const list = conversationList();
  if (!list) return;
  try {
    const body = await fetchFragment(`/direct/inbox/page?folder=${encodeURIComponent(list.dataset.conversationList)}`);
    const nodes = [...body.childNodes].map((node) => document.adoptNode(node));
    list.replaceChildren(...nodes);
    for (const node of nodes) if (node.nodeType === Node.ELEMENT_NODE) hydrate(node);
    const active = activeId();
    if (active) rowSoon(active);
  } catch (err) {
    // The list stays as it was; the next event refreshes its rows.
  }
}

if (conversationList()) {
  stream.on("message.created", (m) => rowSoon(String(m.conversation_id), true));
  stream.on("message.deleted", (d) => rowSoon(String(d.conversation_id)));
  stream.on("conversation.read", (d) => {
    if (String(d.user_id) === ME) rowSoon(String(d.conversation_id));
  });
  stream.on("conversation.updated", (c) => rowSoon(String(c.id)));
  stream.on("resync", reloadList);
}

// ---------------------------------------------------------------- the thread

function setupThread(chat) {
  const cid = chat.dataset.chat;
  const isGroup = chat.dataset.group === "true";
  const thread = chat.querySelector("[data-thread]");
  const seen = chat.querySelector("[data-seen]");
  const typingLine = chat.querySelector("[data-typing]");
  const typingText = chat.querySelector("[data-typing-text]");
  const composer = chat.querySelector("[data-composer]");
  const input = composer.querySelector("[data-composer-text]");
  const sendButton = composer.querySelector("[data-send]");
  const heartButton = composer.querySelector("[data-send-heart]");
  const photoInput = composer.querySelector("[data-photo-input]");
  const menu = document.querySelector("[data-reaction-menu]");
  const readMarks = new Map();
  const names = new Map();
  const typers = new Map();
  let pinned = true;
  let lastTypingSent = 0;
  let readTimer = 0;
  let pollTimer = 0;
  let menuFor = null;
  let swallowClick = false;

  for (const member of chat.querySelectorAll("[data-member]")) {
    names.set(member.dataset.member, member.dataset.username);
    if (member.dataset.read) readMarks.set(member.dataset.member, big(member.dataset.read));
  }
  for (const el of composer.querySelectorAll("[data-js-only]")) el.hidden = false;

  // -- placing bubbles

  const nearBottom = () => thread.scrollHeight - thread.scrollTop - thread.clientHeight < 120;
  const toBottom = () => {
    thread.scrollTop = thread.scrollHeight;
    pinned = true;
  };
  const messageNodes = () => thread.querySelectorAll(".msg[data-message]:not([data-message=''])");
  const lastMessage = () => {
    const all = messageNodes();
    return all.length ? all[all.length - 1] : null;
  };

  function content(m, mine) {
    if (m.kind === "heart") return [h("span", { class: "msg-heart", role: "img", "aria-label": "Heart" }, heartIcon())];
    if (m.kind === "image") {
      if (m.media) {
        const photo = h("img", {
          class: "msg-photo photo",
          src: m.media.jpeg_urls.small,
          srcset: `${m.media.jpeg_urls.small} ${Math.min(320, m.media.width)}w, ${m.media.jpeg_urls.medium} ${Math.min(640, m.media.width)}w`,
          sizes: "240px",
          width: m.media.width,
          height: m.media.height,
          alt: `Photo from ${m.sender.username}`,
          decoding: "async",
          "data-blurhash": m.media.blurhash,
        });
        return [h("a", { class: "msg-photo-link", href: m.media.jpeg_urls.large, target: "_blank", rel: "noopener" }, photo)];
      }
      if (m.status === "failed") return [h("p", { class: "msg-pending is-failed" }, "This photo couldn't be sent.")];
      const parts = [];
      if (m.preview) parts.push(h("img", { class: "msg-photo photo is-local", src: m.preview, alt: "" }));
      parts.push(h("p", { class: "msg-pending", "data-sending": "" }, "Sending…"));
      return parts;
    }
    if (m.kind === "post_share") {
      const p = m.post;
      if (!p) {
        return [h("p", { class: "shared-post is-gone" }, "Post unavailable", h("span", { class: "muted small" }, "This post was removed or you can't see it."))];
      }
      const caption = p.caption && p.caption.length > 90 ? `${p.caption.slice(0, 87)}...` : p.caption;
      return [
        h(
          "a",
          { class: "shared-post", href: `/p/${p.id}` },
          h("span", { class: "shared-post-head" }, avatarNode(p.author.avatar_url, p.author.username, "xs"), h("span", { class: "username" }, p.author.username)),
          p.media && p.media.length
            ? h("img", { class: "shared-post-photo", src: p.media[0].jpeg_urls.small, width: p.media[0].width, height: p.media[0].height, alt: p.media[0].alt_text || `Photo by ${p.author.username}`, decoding: "async" })
            : null,
          caption ? h("span", { class: "shared-post-caption" }, h("span", { class: "username" }, p.author.username), " ", caption) : null,
        ),
      ];
    }
    const text = h("p", { class: "msg-text" }, m.text || "");
    if (m.kind === "story_reply") {
      // The quoted story is filled in by js/story-quote.js (as the reader may see it).
      const quote = m.story_id
        ? h("p", { class: "story-quote is-loading", "data-story-quote-pending": m.story_id }, "Story")
        : h("p", { class: "story-quote is-gone" }, "Story unavailable");
      return [h("p", { class: "msg-note muted small" }, mine ? "You replied to their story" : "Replied to your story"), quote, text];
    }
    return [text];
  }

  function reactionsNode(reactions) {
    const list = h("ul", { class: "reactions", "data-reactions": "" });
    for (const r of reactions || []) {
      list.append(
        h(
          "li",
          { class: `reaction${r.me ? " is-mine" : ""}`, "data-emoji": r.emoji, title: r.me ? "Tap to remove" : null },
          r.emoji,
          r.count > 1 ? h("span", { class: "reaction-count" }, String(r.count)) : null,
        ),
      );
    }
    list.hidden = !list.childElementCount;
    return list;
  }

  function bubbleNode(m, runStart) {
    const mine = String(m.sender.id) === ME;
    const node = h("li", {
      class: `msg kind-${m.kind}${mine ? " is-mine" : ""}${runStart ? " run-start" : ""}${m.id ? "" : " is-pending"}`,
      id: m.id ? `m-${m.id}` : null,
      "data-message": m.id || "",
      "data-sender": m.sender.id,
      "data-status": m.status,
      "data-created": m.created_at,
      "data-client-id": m.client_id || null,
    });
    if (!mine) {
      const holder = h("span", { class: "msg-avatar" });
      if (runStart) {
        holder.append(h("a", { href: `/${m.sender.username}`, "aria-label": m.sender.username }, avatarNode(m.sender.avatar_url, m.sender.username, "xs")));
      }
      node.append(holder);
    }
    const body = h("div", { class: "msg-body" });
    if (isGroup && !mine && runStart) body.append(h("span", { class: "msg-sender muted small" }, m.sender.username));
    body.append(h("div", { class: "bubble", "data-bubble": "", tabindex: 0, title: new Date(m.created_at).toLocaleString() }, ...content(m, mine)));
    body.append(reactionsNode(m.reactions));
    node.append(body);
    node.append(
      h(
        "button",
        { type: "button", class: "msg-more", "data-msg-menu": "", "aria-label": mine ? "React or unsend" : "React" },
        smileIcon(),
      ),
    );
    return node;
  }

  /** Where a message goes: after every message with a smaller ID, before pending ones. */
  function insertionPoint(m) {
    if (!m.id) return null; // still pending: last
    const id = big(m.id);
    for (const node of thread.querySelectorAll(".msg")) {
      if (!node.dataset.message || big(node.dataset.message) > id) return node;
    }
    return null;
  }

  function previousMessage(before) {
    let node = before ? before.previousElementSibling : thread.lastElementChild;
    while (node && !node.classList.contains("msg")) node = node.previousElementSibling;
    return node;
  }

  function place(m, pendingNode) {
    const before = pendingNode ? pendingNode.nextElementSibling : insertionPoint(m);
    const previous = previousMessage(pendingNode || before);
    const gap = !previous || new Date(m.created_at) - new Date(previous.dataset.created) >= TIME_GAP_MS;
    const runStart = gap || previous.dataset.sender !== String(m.sender.id);
    const node = bubbleNode(m, runStart);
    const stick = pinned || nearBottom();
    if (pendingNode) pendingNode.replaceWith(node);
    else {
      if (gap && m.id) thread.insertBefore(timeLine(m.created_at), before);
      thread.insertBefore(node, before);
    }
    chat.querySelector("[data-thread-start]")?.remove();
    hydrate(node);
    if (stick) toBottom();
    return node;
  }

  function findNode(m) {
    if (m.id) {
      const byId = thread.querySelector(`.msg[data-message="${m.id}"]`);
      if (byId) return byId;
    }
    if (m.client_id) return thread.querySelector(`.msg[data-client-id="${CSS.escape(m.client_id)}"]`);
    return null;
  }

  /** Show a message as the server has it now: new, or in place of its pending copy. */
  function upsert(m) {
    if (String(m.conversation_id) !== cid) return;
    const existing = findNode(m);
    if (existing) {
      const same = existing.dataset.status === m.status && existing.dataset.message === String(m.id);
      // A late answer of the send request never turns a sent photo back into "Sending…".
      const older = existing.dataset.status === "published" && m.status === "processing";
      const keep = same || older;
      if (keep) setReactions(existing, m.reactions);
      else {
        const wasLocal = existing.querySelector("img.is-local");
        if (m.status === "processing" && wasLocal) {
          existing.dataset.message = m.id; // still sending: keep the local preview
          existing.id = `m-${m.id}`;
          existing.classList.remove("is-pending");
        } else {
          if (wasLocal) URL.revokeObjectURL(wasLocal.src);
          place(m, existing);
        }
      }
    } else {
      place(m, null);
    }
    updateSeen();
    watchPending();
  }

  function setReactions(node, reactions) {
    node.querySelector("[data-reactions]").replaceWith(reactionsNode(reactions));
  }

  // -- "Seen"

  function updateSeen() {
    const last = lastMessage();
    if (!last || last.dataset.sender !== ME) {
      seen.hidden = true;
      return;
    }
    const id = big(last.dataset.message);
    const readers = [...readMarks].filter(([user, mark]) => user !== ME && mark >= id).map(([user]) => names.get(user) || "someone");
    seen.hidden = !readers.length;
    seen.textContent = isGroup && readers.length ? `Seen by ${readers.join(", ")}` : "Seen";
  }

  // -- reading

  function markRead() {
    window.clearTimeout(readTimer);
    readTimer = window.setTimeout(async () => {
      if (chat.dataset.request === "true" || document.visibilityState !== "visible" || !nearBottom()) return;
      const last = lastMessage();
      if (!last) return;
      const id = big(last.dataset.message);
      if (id <= (readMarks.get(ME) || 0n)) return;
      readMarks.set(ME, id);
      try {
        await api("POST", `/conversations/${cid}/read`, { message_id: last.dataset.message });
      } catch (err) {
        readMarks.delete(ME); // tried again on the next look
      }
    }, 250);
  }

  // -- typing

  function showTyping() {
    const now = Date.now();
    for (const [user, entry] of typers) if (entry.until <= now) typers.delete(user);
    const who = [...typers.values()].map((entry) => entry.username);
    typingLine.hidden = !who.length;
    if (!who.length) return;
    if (!isGroup) typingText.textContent = "typing…";
    else if (who.length === 1) typingText.textContent = `${who[0]} is typing…`;
    else typingText.textContent = `${who.slice(0, -1).join(", ")} and ${who[who.length - 1]} are typing…`;
    const next = Math.min(...[...typers.values()].map((entry) => entry.until)) - now;
    window.setTimeout(showTyping, Math.max(50, next + 20));
  }

  function typed() {
    const now = Date.now();
    if (!input.value.trim() || now - lastTypingSent < TYPING_EVERY_MS) return;
    lastTypingSent = now;
    api("POST", `/conversations/${cid}/typing`).catch(() => {});
  }

  // -- sending

  function pendingMessage(kind, fields) {
    return {
      id: "",
      conversation_id: cid,
      sender: { id: ME, username: "", avatar_url: null },
      kind,
      text: null,
      media: null,
      post: null,
      status: "pending",
      reactions: [],
      created_at: new Date().toISOString(),
      ...fields,
    };
  }

  function accepted() {
    if (chat.dataset.request !== "true") return;
    chat.dataset.request = "false";
    chat.querySelector("[data-request-banner]")?.remove();
    refreshMessageCounts();
  }

  function failed(node, retry, message) {
    node.classList.add("is-failed");
    const bubble = node.querySelector(".msg-body");
    bubble.querySelector(".msg-retry")?.remove();
    const again = h("button", { type: "button", class: "link-btn muted msg-retry" }, `${message} Tap to retry.`);
    again.addEventListener("click", () => {
      again.remove();
      node.classList.remove("is-failed");
      retry();
    });
    bubble.append(again);
  }

  async function post(node, body) {
    try {
      const m = await api("POST", `/conversations/${cid}/messages`, body);
      accepted();
      upsert(m);
    } catch (err) {
      failed(node, () => post(node, body), err.status === 0 ? "Not sent." : `Not sent: ${err.message}`);
    }
  }

  function sendKind(kind, text) {
    lastTypingSent = 0; // a message ends the typing; the next keystroke says so again
    const id = clientId();
    const node = place(pendingMessage(kind, { text, client_id: id }), null);
    toBottom();
    const body = { kind, client_id: id };
    if (text) body.text = text;
    post(node, body);
  }

  function uploadPhoto(node, file, id) {
    const data = new FormData();
    data.append("image", file, file.name || "photo");
    data.append("client_id", id);
    const headers = apiHeaders();
    const attempt = async () => {
      let response;
      try {
        response = await fetch(`/api/v1/conversations/${cid}/messages`, { method: "POST", headers, body: data, credentials: "same-origin" });
      } catch (err) {
        failed(node, attempt, "Not sent.");
        return;
      }
      let body = null;
      try {
        body = await response.json();
      } catch (err) {
        body = null;
      }
      if (!response.ok) {
        failed(node, attempt, `Not sent: ${errorFrom(response.status, body).message}`);
        return;
      }
      accepted();
      upsert(body);
    };
    attempt();
  }

  function sendPhoto(file) {
    if (!PHOTO_TYPES.test(file.type) && !/\.(heic|heif|avif)$/i.test(file.name)) {
      toast("Only photos can be sent.");
      return;
    }
    if (file.size > MAX_PHOTO_BYTES) {
      toast("That photo is over 10 MB.");
      return;
    }
    const id = clientId();
    const node = place(pendingMessage("image", { client_id: id, status: "processing", preview: URL.createObjectURL(file) }), null);
    toBottom();
    uploadPhoto(node, file, id);
  }

  function syncComposer() {
    const empty = !input.value.trim();
    sendButton.hidden = empty;
    heartButton.hidden = !empty;
  }

  composer.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    syncComposer();
    sendKind("text", text);
  });
  input.addEventListener("input", () => {
    syncComposer();
    typed();
  });
  heartButton.addEventListener("click", () => sendKind("heart", null));
  photoInput.addEventListener("change", () => {
    for (const file of photoInput.files) sendPhoto(file);
    photoInput.value = "";
  });
  syncComposer();

  // -- photos still sending: the stream says when they are done; without it, ask now and then

  async function reconcile() {
    try {
      const page = await api("GET", `/conversations/${cid}/messages?limit=30`);
      for (const m of [...page.items].reverse()) {
        const node = findNode(m);
        if (!node && big(m.id) < big(lastMessage()?.dataset.message || "0")) continue;
        upsert(m);
      }
      for (const node of messageNodes()) {
        const id = big(node.dataset.message);
        const oldest = page.items.length ? big(page.items[page.items.length - 1].id) : 0n;
        if (id >= oldest && !page.items.some((m) => m.id === node.dataset.message)) node.remove(); // unsent
      }
      updateSeen();
    } catch (err) {
      // Left as shown; the next event or poll tries again.
    }
  }

  function watchPending() {
    window.clearTimeout(pollTimer);
    pollTimer = 0;
    const sending = thread.querySelector('.msg[data-status="processing"][data-message]:not([data-message=""])');
    if (!sending || stream.isOpen()) return;
    pollTimer = window.setTimeout(async () => {
      await reconcile();
      watchPending();
    }, FALLBACK_POLL_MS);
  }

  // -- reactions and unsend

  async function react(messageId, emoji) {
    const node = thread.querySelector(`.msg[data-message="${messageId}"]`);
    if (!node || !messageId) return;
    const mineNow = node.querySelector(".reaction.is-mine");
    const removing = mineNow && mineNow.dataset.emoji === emoji && emoji !== null;
    try {
      const m =
        emoji === null || removing
          ? await api("DELETE", `/messages/${messageId}/reactions`)
          : await api("POST", `/messages/${messageId}/reactions`, { emoji });
      setReactions(node, m.reactions);
    } catch (err) {
      toast(err.message);
    }
  }

  async function unsend(messageId) {
    try {
      await api("DELETE", `/messages/${messageId}`);
      removeMessage(messageId);
    } catch (err) {
      toast(err.message);
    }
  }

  function removeMessage(messageId) {
    const node = thread.querySelector(`.msg[data-message="${messageId}"]`);
    if (!node) return;
    const previous = node.previousElementSibling;
    const next = node.nextElementSibling;
    node.remove();
    // A time line left with nothing under it goes too.
    if (previous && previous.classList.contains("msg-time") && (!next || next.classList.contains("msg-time"))) previous.remove();
    updateSeen();
  }

  function openMenu(node) {
    if (!node.dataset.message) return;
    menuFor = node.dataset.message;
    menu.querySelector("[data-unsend]").hidden = node.dataset.sender !== ME;
    const mine = node.querySelector(".reaction.is-mine");
    for (const button of menu.querySelectorAll("[data-react]")) {
      button.setAttribute("aria-pressed", String(Boolean(mine && mine.dataset.emoji === button.dataset.react)));
    }
    menu.hidden = false;
    const box = node.querySelector("[data-bubble]").getBoundingClientRect();
    const width = menu.offsetWidth;
    const left = Math.max(8, Math.min(window.innerWidth - width - 8, node.dataset.sender === ME ? box.right - width : box.left));
    const top = box.top - menu.offsetHeight - 8 > 8 ? box.top - menu.offsetHeight - 8 : box.bottom + 8;
    menu.style.left = `${left}px`;
    menu.style.top = `${top}px`;
    menu.querySelector("[data-react]").focus({ preventScroll: true });
  }

  function closeMenu() {
    menu.hidden = true;
    menuFor = null;
  }

  menu.addEventListener("click", (event) => {
    const pick = event.target.closest("[data-react]");
    const id = menuFor;
    if (pick && id) {
      closeMenu();
      react(id, pick.dataset.react);
      return;
    }
    if (event.target.closest("[data-unsend]") && id) {
      closeMenu();
      unsend(id);
    }
  });
  document.addEventListener("click", (event) => {
    if (swallowClick) {
      swallowClick = false; // the click that ends a long press does not close its menu
      return;
    }
    if (!menu.hidden && !event.target.closest("[data-reaction-menu]") && !event.target.closest("[data-msg-menu]")) closeMenu();
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !menu.hidden) closeMenu();
  });

  thread.addEventListener("click", (event) => {
    const more = event.target.closest("[data-msg-menu]");
    if (more) {
      const node = more.closest(".msg");
      if (menuFor === node.dataset.message && !menu.hidden) closeMenu();
      else openMenu(node);
      return;
    }
    const chip = event.target.closest(".reaction.is-mine");
    if (chip) react(chip.closest(".msg").dataset.message, null);
  });

  let lastHeart = 0;
  function doubleTapped(node) {
    const now = Date.now();
    if (now - lastHeart < 400 || !node.dataset.message) return;
    lastHeart = now;
    node.querySelector("[data-bubble]").classList.remove("pop");
    void node.offsetWidth;
    node.querySelector("[data-bubble]").classList.add("pop");
    const mine = node.querySelector(".reaction.is-mine");
    if (!mine || mine.dataset.emoji !== "❤️") react(node.dataset.message, "❤️"); // a double tap never takes it back
  }

  thread.addEventListener("dblclick", (event) => {
    const bubble = event.target.closest("[data-bubble]");
    if (!bubble || event.target.closest("a")) return;
    event.preventDefault();
    window.getSelection()?.removeAllRanges();
    doubleTapped(bubble.closest(".msg"));
  });

  let press = null;
  let lastTap = { time: 0, x: 0, y: 0 };
  thread.addEventListener("pointerdown", (event) => {
    const bubble = event.target.closest("[data-bubble]");
    if (!bubble || event.button > 0) return;
    const node = bubble.closest(".msg");
    press = {
      x: event.clientX,
      y: event.clientY,
      fired: false,
      timer: window.setTimeout(() => {
        if (!press) return;
        press.fired = true;
        openMenu(node);
      }, LONG_PRESS_MS),
    };
  });
  const cancelPress = () => {
    if (press) window.clearTimeout(press.timer);
  };
  thread.addEventListener("pointermove", (event) => {
    if (press && Math.hypot(event.clientX - press.x, event.clientY - press.y) > 10) cancelPress();
  });
  thread.addEventListener("pointercancel", cancelPress);
  thread.addEventListener("pointerup", (event) => {
    cancelPress();
    const fired = press && press.fired;
    press = null;
    if (fired) {
      swallowClick = true;
      window.setTimeout(() => {
        swallowClick = false;
      }, 400);
      return;
    }
    if (event.pointerType !== "touch") return;
    const bubble = event.target.closest("[data-bubble]");
    if (!bubble) return;
    const close = Math.hypot(event.clientX - lastTap.x, event.clientY - lastTap.y) < 40;
    if (event.timeStamp - lastTap.time < 300 && close) {
      lastTap = { time: 0, x: 0, y: 0 };
      doubleTapped(bubble.closest(".msg"));
    } else {
      lastTap = { time: event.timeStamp, x: event.clientX, y: event.clientY };
    }
  });
  thread.addEventListener("contextmenu", (event) => {
    const bubble = event.target.closest("[data-bubble]");
    if (!bubble || event.target.closest("a")) return;
    event.preventDefault(); // a long press on a phone: our menu, not the browser's
    openMenu(bubble.closest(".msg"));
  });

  // -- older messages, scrolling up

  async function loadOlder(marker) {
    if (marker.dataset.loading) return;
    marker.dataset.loading = "1";
    try {
      const body = await fetchFragment(marker.dataset.older);
      const height = thread.scrollHeight;
      const top = thread.scrollTop;
      const nodes = [...body.childNodes].map((node) => document.adoptNode(node));
      marker.replaceWith(...nodes);
      for (const node of nodes) if (node.nodeType === Node.ELEMENT_NODE) hydrate(node);
      thread.scrollTop = top + (thread.scrollHeight - height);
      const next = thread.querySelector("[data-older]");
      if (next && olderObserver) olderObserver.observe(next);
    } catch (err) {
      delete marker.dataset.loading;
      toast(err.message);
    }
  }

  const olderObserver =
    "IntersectionObserver" in window
      ? new IntersectionObserver(
          (entries) => {
            for (const entry of entries) {
              if (entry.isIntersecting) {
                olderObserver.unobserve(entry.target);
                loadOlder(entry.target);
              }
            }
          },
          { root: thread, rootMargin: "200px 0px 0px 0px" },
        )
      : null;

  thread.addEventListener("click", (event) => {
    const button = event.target.closest("[data-load-older]");
    if (button) loadOlder(button.closest("[data-older]"));
  });

  // -- the request banner and the details panel

  const acceptForm = chat.querySelector("[data-accept]");
  acceptForm?.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api("POST", `/conversations/${cid}/accept`);
      accepted();
      markRead();
    } catch (err) {
      toast(err.message);
    }
  });

  const info = chat.querySelector("[data-chat-info]");
  const infoToggle = chat.querySelector("[data-chat-info-toggle]");
  infoToggle.addEventListener("click", () => {
    info.hidden = !info.hidden;
    infoToggle.setAttribute("aria-expanded", String(!info.hidden));
  });
  chat.querySelector("[data-chat-mute]").addEventListener("change", async (event) => {
    const box = event.target;
    try {
      const c = await api("PATCH", `/conversations/${cid}`, { muted: box.checked });
      chat.querySelector("[data-chat-muted]").hidden = !c.muted;
      toast(c.muted ? "Muted. You won't be notified of new messages." : "Unmuted.");
      rowSoon(cid);
      refreshMessageCounts();
    } catch (err) {
      box.checked = !box.checked;
      toast(err.message);
    }
  });
  const usernamesIn = (text) => text.split(/[\s,;]+/).map((name) => name.replace(/^@/, "")).filter(Boolean);
  chat.querySelector("[data-chat-rename]")?.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api("PATCH", `/conversations/${cid}`, { title: event.target.elements.title.value.trim() });
      window.location.reload();
    } catch (err) {
      toast(err.message);
    }
  });
  chat.querySelector("[data-chat-add]")?.addEventListener("submit", async (event) => {
    event.preventDefault();
    const usernames = usernamesIn(event.target.elements.usernames.value);
    if (!usernames.length) return;
    try {
      await api("POST", `/conversations/${cid}/participants`, { usernames });
      window.location.reload();
    } catch (err) {
      toast(err.message);
    }
  });
  chat.querySelector("[data-chat-leave]")?.addEventListener("click", async () => {
    try {
      await api("POST", `/conversations/${cid}/leave`);
      window.location.assign("/direct/inbox");
    } catch (err) {
      toast(err.message);
    }
  });

  // -- the stream

  stream.on("message.created", (m) => {
    if (String(m.conversation_id) !== cid) return;
    typers.delete(String(m.sender.id));
    showTyping();
    upsert(m);
    markRead();
  });
  stream.on("message.failed", (m) => upsert(m));
  stream.on("message.reaction", (m) => {
    if (String(m.conversation_id) !== cid) return;
    const node = thread.querySelector(`.msg[data-message="${m.id}"]`);
    if (node) setReactions(node, m.reactions);
  });
  stream.on("message.deleted", (d) => {
    if (String(d.conversation_id) === cid) removeMessage(String(d.message_id));
  });
  stream.on("conversation.read", (d) => {
    if (String(d.conversation_id) !== cid) return;
    const user = String(d.user_id);
    const mark = big(d.message_id);
    if (mark > (readMarks.get(user) || 0n)) readMarks.set(user, mark);
    updateSeen();
  });
  stream.on("typing", (d) => {
    if (String(d.conversation_id) !== cid || !d.user || String(d.user.id) === ME) return;
    const seconds = Number(d.expires_in) || 5;
    typers.set(String(d.user.id), { username: d.user.username, until: Date.now() + seconds * 1000 });
    showTyping();
  });
  stream.on("conversation.updated", (c) => {
    if (String(c.id) !== cid) return;
    const title = chat.querySelector("[data-chat-title]");
    if (title && c.is_group && c.title) title.textContent = c.title;
  });
  stream.on("resync", reconcile);
  let wasOpen = stream.isOpen();
  stream.onStatus((open) => {
    // Back after a break: the replay (or a resync) covers it, and one look makes sure.
    if (open && wasOpen) reconcile();
    wasOpen = wasOpen || open;
    watchPending();
  });

  thread.addEventListener("scroll", () => {
    pinned = nearBottom();
    if (pinned) markRead();
    if (!menu.hidden) closeMenu();
  });
  thread.addEventListener(
    "load",
    (event) => {
      if (event.target.tagName === "IMG" && pinned) toBottom();
    },
    true,
  );
  document.addEventListener("visibilitychange", markRead);

  toBottom();
  updateSeen();
  markRead();
  watchPending();
  const marker = thread.querySelector("[data-older]");
  if (marker && olderObserver) olderObserver.observe(marker);
}

onHydrate((root) => {
  const chat = root.querySelector?.("[data-chat]");
  if (chat && !chat.dataset.ready && ME) {
    chat.dataset.ready = "1";
    setupThread(chat);
  }
});
