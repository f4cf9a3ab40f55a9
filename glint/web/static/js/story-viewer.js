// The story viewer (templates/story_viewer.html): plays every story listed in the page's
// [data-story-reels] in place, one account (or highlight) after another. Each photo shows for
// 5 seconds under its progress bar; a tap on the right or left (or the arrow keys) goes to the
// next or previous story, holding the photo (or space) pauses, a swipe down (or Escape)
// closes. Each live story shown is marked seen through the API; replies, the owner's viewer
// list and deletion go through the API too. Without JS the page still shows its story, with
// links to the ones before and after it.
import { api, apiHeaders } from "./api.js";
import { h, onHydrate, plural } from "./dom.js";

const PHOTO_MS = 5000;
const HOLD_MS = 200; // a press longer than this is a hold (pause), not a tap
const SWIPE_PX = 80; // this far down closes
const CLOSE_WAIT_MS = 1500; // how long closing waits for seen marks still on their way
const VIEWERS_SHOWN = 50;

function avatarNode(url, username, size) {
  const inner = url
    ? h("img", { src: url, alt: "", width: 150, height: 150, decoding: "async" })
    : h("span", { class: "avatar-letter", "aria-hidden": "true" }, (username || "?").slice(0, 1).toUpperCase());
  return h("span", { class: `avatar avatar-${size}` }, inner);
}

function readReels(root) {
  return [...root.querySelectorAll("[data-reel]")].map((reel) => ({
    username: reel.dataset.username,
    avatar: reel.dataset.avatar,
    own: reel.dataset.own === "true",
    start: Number(reel.dataset.start) || 0,
    stories: [...reel.querySelectorAll("[data-slide]")].map((item) => ({ id: item.dataset.slide, ...item.dataset })),
  }));
}

function setup(root) {
  const mode = root.dataset.mode;
  const signedIn = root.dataset.signedIn === "true";
  const closeUrl = root.dataset.close || "/";
  const afterUrl = root.dataset.after || "";
  const reels = readReels(root);
  const $ = (selector) => root.querySelector(selector);
  const el = {
    bars: $("[data-story-bars]"),
    author: $("[data-story-author]"),
    time: $("[data-story-time]"),
    cf: $("[data-story-cf]"),
    pause: $("[data-story-pause]"),
    close: $("[data-story-close]"),
    media: $("[data-story-media]"),
    photo: $("[data-story-photo]"),
    pending: $("[data-story-pending]"),
    prev: $("[data-story-prev]"),
    next: $("[data-story-next]"),
    caption: $("[data-story-caption]"),
    reply: $("[data-story-reply]"),
    replyText: $("[data-story-reply-text]"),
    sent: $("[data-story-sent]"),
    owner: $("[data-story-owner]"),
    seenBy: $("[data-story-seen-by]"),
    views: $("[data-story-views]"),
    viewers: $("[data-story-viewers]"),
    viewersEmpty: $("[data-story-viewers-empty]"),
    highlight: $("[data-story-highlight]"),
    deleteBox: $("[data-story-delete-box]"),
    deleteForm: $("[data-story-delete]"),
    error: $("[data-story-error]"),
  };
  let reelIndex = Number(root.dataset.reelIndex) || 0;
  let storyIndex = Number(root.dataset.storyIndex) || 0;
  let shownReel = reelIndex; // the reel the bars and the author are drawn for
  let animation = null;
  let loaded = false;
  let closing = false;
  const pauses = new Set(); // why it is paused: "hold", "key", "typing", "panel", "hidden"
  const marks = new Set(); // seen marks on their way

  const reel = () => reels[reelIndex];
  const story = () => reel().stories[storyIndex];

  function showError(message) {
    el.error.textContent = message || "";
    el.error.hidden = !message;
  }

  // ---------------------------------------------------------------- timing

  function fills() {
    return [...el.bars.querySelectorAll(".story-bar-fill")];
  }

  function drawBars() {
    el.bars.replaceChildren(
      ...reel().stories.map(() => h("span", { class: "story-bar" }, h("span", { class: "story-bar-fill" }))),
    );
  }

  function startTimer() {
    if (animation) animation.cancel();
    const bars = [...el.bars.children];
    bars.forEach((bar, index) => {
      bar.classList.toggle("is-done", index < storyIndex);
      bar.classList.toggle("is-current", index === storyIndex);
    });
    const fill = fills()[storyIndex];
    if (!fill || typeof fill.animate !== "function") return;
    animation = fill.animate([{ transform: "scaleX(0)" }, { transform: "scaleX(1)" }], {
      duration: PHOTO_MS,
      easing: "linear",
      fill: "forwards",
    });
    animation.pause();
    animation.addEventListener("finish", () => next());
    resume(null);
  }

  function pause(reason) {
    pauses.add(reason);
    if (animation && animation.playState === "running") animation.pause();
    root.classList.add("is-paused");
    syncPauseButton();
  }

  function resume(reason) {
    if (reason) pauses.delete(reason);
    if (pauses.size || !loaded || closing) return;
    if (animation && animation.playState === "paused") animation.play();
    root.classList.remove("is-paused");
    syncPauseButton();
  }

  function syncPauseButton() {
    const paused = pauses.has("key");
    el.pause.setAttribute("aria-pressed", String(paused));
    el.pause.setAttribute("aria-label", paused ? "Play" : "Pause");
  }

  // ---------------------------------------------------------------- showing a story

  function markSeen(item) {
    if (mode !== "stories" || !signedIn || reel().own || item.live !== "true" || item.seen === "true") return;
    item.seen = "true";
    const sent = fetch(`/api/v1/stories/${item.id}/view`, {
      method: "POST",
      headers: apiHeaders(),
      credentials: "same-origin",
      keepalive: true,
    }).catch(() => {
      item.seen = "false"; // try again when it shows next time
    });
    marks.add(sent);
    sent.finally(() => marks.delete(sent));
  }

  function preload(item) {
    if (item && item.src) {
      const image = new Image();
      image.srcset = item.srcset || "";
      image.src = item.src;
    }
  }

  function drawAuthor() {
    const r = reel();
    el.author.href = `/${r.username}`;
    el.author.replaceChildren(avatarNode(r.avatar, r.username, "sm"), h("span", { class: "username", "data-story-username": "" }, r.username));
    if (el.replyText) {
      el.replyText.placeholder = `Reply to ${r.username}…`;
      el.replyText.setAttribute("aria-label", `Reply to ${r.username}`);
    }
  }

  function neighbourUrls() {
    const r = reel();
    let prev = story().url;
    if (storyIndex > 0) prev = r.stories[storyIndex - 1].url;
    else if (reelIndex > 0) prev = reels[reelIndex - 1].stories[0].url;
    let after = afterUrl || closeUrl;
    if (storyIndex + 1 < r.stories.length) after = r.stories[storyIndex + 1].url;
    else if (reelIndex + 1 < reels.length) {
      const following = reels[reelIndex + 1];
      after = following.stories[following.start].url;
    }
    el.prev.href = prev;
    el.next.href = after;
  }

  let first = true;

  function show(newReel, newStory) {
    reelIndex = newReel;
    storyIndex = newStory;
    const r = reel();
    const item = story();
    if (shownReel !== reelIndex) {
      shownReel = reelIndex;
      drawBars();
      drawAuthor();
    }
    showError("");
    // The photo: the timer starts once it is on screen.
    loaded = false;
    const token = `${reelIndex}:${storyIndex}`;
    el.photo.dataset.token = token;
    if (item.src) {
      el.pending.hidden = true;
      el.photo.hidden = false;
      el.photo.removeAttribute("srcset");
      el.photo.src = item.src;
      el.photo.srcset = item.srcset || "";
      el.photo.width = Number(item.width) || 0;
      el.photo.height = Number(item.height) || 0;
      el.photo.alt = item.alt || `Story by ${r.username}`;
      if (el.photo.complete && el.photo.naturalWidth) ready(token);
    } else {
      el.photo.hidden = true;
      el.photo.removeAttribute("src");
      el.photo.removeAttribute("srcset");
      el.pending.hidden = false;
      el.pending.textContent =
        item.status === "failed"
          ? `This story could not be processed${item.failure ? `: ${item.failure}` : ""}.`
          : "Processing…";
      ready(token);
    }
    el.caption.textContent = item.caption || "";
    el.caption.hidden = !item.caption;
    el.time.dateTime = item.time;
    el.time.title = item.timeTitle;
    el.time.textContent = item.timeLabel;
    el.cf.hidden = item.audience !== "close_friends";
    // Replying is for someone else's live story; the owner sees views and can delete.
    el.reply.hidden = !signedIn || r.own || item.live !== "true";
    el.reply.action = item.replyUrl;
    if (!first) el.sent.hidden = true;
    first = false;
    if (el.owner) {
      el.owner.hidden = !r.own;
      el.seenBy.open = false;
      el.deleteBox.open = false;
      el.views.textContent = plural(Number(item.views) || 0, "view");
      el.viewers.replaceChildren();
      el.viewersEmpty.hidden = true;
      el.highlight.href = `/accounts/highlights/new?story=${item.id}`;
      el.deleteForm.action = item.deleteUrl;
    }
    pauses.delete("panel");
    neighbourUrls();
    if (location.pathname !== item.url) history.replaceState(null, "", item.url);
    startTimer();
    markSeen(item);
    const following = r.stories[storyIndex + 1] || (reels[reelIndex + 1] || { stories: [] }).stories[0];
    preload(following);
  }

  function ready(token) {
    if (el.photo.dataset.token !== token || loaded) return;
    loaded = true;
    resume(null);
  }

  el.photo.addEventListener("load", () => ready(el.photo.dataset.token));
  el.photo.addEventListener("error", () => ready(el.photo.dataset.token)); // move on regardless

  // ---------------------------------------------------------------- moving

  function next() {
    if (closing) return;
    if (storyIndex + 1 < reel().stories.length) return show(reelIndex, storyIndex + 1);
    if (reelIndex + 1 < reels.length) return show(reelIndex + 1, reels[reelIndex + 1].start);
    if (afterUrl) return leave(afterUrl);
    return close();
  }

  function prev() {
    if (closing) return;
    if (storyIndex > 0) return show(reelIndex, storyIndex - 1);
    if (reelIndex > 0) return show(reelIndex - 1, 0);
    return show(reelIndex, 0); // the very first: from its start again
  }

  async function leave(url) {
    if (closing) return;
    closing = true;
    pause("closing");
    // Seen marks go first, so the page we go to already knows them.
    const wait = new Promise((resolve) => window.setTimeout(resolve, CLOSE_WAIT_MS));
    await Promise.race([Promise.allSettled([...marks]), wait]);
    window.location.assign(url);
  }

  function close() {
    leave(closeUrl);
  }

  // ---------------------------------------------------------------- taps, holds, swipes, keys

  let press = null; // {x, y, timer, held}

  el.media.addEventListener("pointerdown", (event) => {
    if (!event.isPrimary || event.button !== 0 || event.target.closest("[data-story-caption]")) return;
    const state = { x: event.clientX, y: event.clientY, held: false, timer: 0 };
    state.timer = window.setTimeout(() => {
      state.held = true;
      pause("hold");
    }, HOLD_MS);
    press = state;
  });

  const release = (event) => {
    if (!press || !event.isPrimary) return;
    const state = press;
    press = null;
    window.clearTimeout(state.timer);
    if (state.held) resume("hold"); // a hold was a pause, not a tap
    if (event.type !== "pointerup") return;
    const down = event.clientY - state.y;
    const across = event.clientX - state.x;
    if (down > SWIPE_PX && Math.abs(across) < down) return close();
    if (state.held || Math.abs(down) > 12 || Math.abs(across) > 12) return;
    // A tap: the left third goes back, the rest goes on (as the links below say).
    const box = el.media.getBoundingClientRect();
    if (event.clientX < box.left + box.width * 0.3) prev();
    else next();
  };
  el.media.addEventListener("pointerup", release);
  el.media.addEventListener("pointercancel", release);

  // The links are for pages without JS and for the keyboard: pointer taps are handled above.
  el.media.addEventListener("click", (event) => {
    const link = event.target.closest("[data-story-prev], [data-story-next]");
    if (!link) return;
    event.preventDefault();
    if (event.detail !== 0) return;
    if (link.matches("[data-story-next]")) next();
    else prev();
  });

  el.close.addEventListener("click", (event) => {
    event.preventDefault();
    close();
  });

  el.pause.hidden = false;
  el.pause.addEventListener("click", () => {
    if (pauses.has("key")) resume("key");
    else pause("key");
  });

  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
    const target = event.target instanceof Element ? event.target : document.body;
    const typing = target.closest("input, textarea, select, [contenteditable]");
    if (event.key === "Escape") {
      event.preventDefault();
      if (typing) target.blur();
      else close();
      return;
    }
    if (typing) return;
    if (event.key === "ArrowRight") {
      event.preventDefault();
      next();
    } else if (event.key === "ArrowLeft") {
      event.preventDefault();
      prev();
    } else if (event.key === " " && !target.closest("button, summary")) {
      event.preventDefault();
      if (pauses.has("key")) resume("key");
      else pause("key");
    }
  });

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") pause("hidden");
    else resume("hidden");
  });

  // ---------------------------------------------------------------- replying

  el.replyText.addEventListener("focus", () => pause("typing"));
  el.replyText.addEventListener("blur", () => resume("typing"));
  el.reply.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = el.replyText.value.trim();
    if (!text) return;
    const button = el.reply.querySelector("button[type=submit]");
    button.disabled = true;
    showError("");
    try {
      await api("POST", `/stories/${story().id}/reply`, { text });
      el.replyText.value = "";
      el.sent.hidden = false;
      el.replyText.blur();
    } catch (err) {
      showError(err.message);
    } finally {
      button.disabled = false;
    }
  });
  el.replyText.addEventListener("input", () => {
    el.sent.hidden = true;
  });

  // ---------------------------------------------------------------- the owner's tools

  async function loadViewers(item) {
    let page;
    try {
      page = await api("GET", `/stories/${item.id}/viewers?limit=${VIEWERS_SHOWN}`);
    } catch (err) {
      showError(err.message);
      return;
    }
    if (story() !== item) return;
    el.viewers.replaceChildren(
      ...page.items.map((row) =>
        h(
          "li",
          { class: "story-viewer-row" },
          h("a", { class: "user-row-link", href: `/${row.user.username}` }, avatarNode(row.user.avatar_url, row.user.username, "sm"), h("span", { class: "username" }, row.user.username)),
        ),
      ),
    );
    el.viewersEmpty.hidden = page.items.length > 0;
    if (page.items.length > (Number(item.views) || 0)) {
      item.views = String(page.items.length);
      el.views.textContent = plural(page.items.length, "view");
    }
  }

  if (el.owner) {
    const panels = [el.seenBy, el.deleteBox];
    for (const panel of panels) {
      panel.addEventListener("toggle", () => {
        if (panels.some((p) => p.open)) pause("panel");
        else resume("panel");
        if (panel === el.seenBy && panel.open) loadViewers(story());
      });
    }
    el.deleteForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const item = story();
      const button = el.deleteForm.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        await api("DELETE", `/stories/${item.id}`);
      } catch (err) {
        button.disabled = false;
        showError(err.message);
        return;
      }
      button.disabled = false;
      const r = reel();
      r.stories.splice(storyIndex, 1);
      if (!r.stories.length) {
        close();
        return;
      }
      shownReel = -1; // one bar fewer
      show(reelIndex, Math.min(storyIndex, r.stories.length - 1));
    });
  }

  // Start: the server drew this story already; from here the script keeps it.
  root.classList.add("is-live");
  shownReel = -1;
  show(reelIndex, storyIndex);
}

onHydrate((root) => {
  const viewer = root.querySelector("[data-story-viewer]");
  if (viewer && !viewer.dataset.ready && viewer.querySelector("[data-reel]")) {
    viewer.dataset.ready = "1";
    setup(viewer);
  }
});
