// Post cards and post pages: like (heart button or double-tap, with the heart burst), save,
// comment and reply, the carousel, "more" on long captions (the "…" menu is js/actions.js).
import { api } from "./api.js";
import { h, linkified, onHydrate, toast } from "./dom.js";

const viewerMeta = document.querySelector('meta[name="viewer"]');
const viewer = viewerMeta ? viewerMeta.getAttribute("content") : null;

function setLiked(postId, liked, count) {
  for (const button of document.querySelectorAll(`[data-like="${postId}"]`)) {
    button.classList.toggle("is-on", liked);
    button.setAttribute("aria-pressed", String(liked));
    button.setAttribute("aria-label", liked ? "Unlike" : "Like");
  }
  if (count === undefined) return;
  for (const el of document.querySelectorAll(`[data-like-count="${postId}"]`)) {
    el.textContent = count.toLocaleString("en-US");
  }
  for (const el of document.querySelectorAll(`[data-like-word="${postId}"]`)) {
    el.textContent = count === 1 ? "like" : "likes";
  }
}

function currentCount(postId) {
  const el = document.querySelector(`[data-like-count="${postId}"]`);
  return el ? Number(el.textContent.replace(/[^0-9]/g, "")) || 0 : 0;
}

const pending = new Set();

async function like(postId, wanted) {
  if (pending.has(postId)) return;
  pending.add(postId);
  const before = currentCount(postId);
  const wasLiked = !wanted;
  setLiked(postId, wanted, Math.max(0, before + (wanted ? 1 : -1)));
  try {
    const result = await api(wanted ? "POST" : "DELETE", `/posts/${postId}/like`);
    setLiked(postId, result.liked, result.like_count);
  } catch (err) {
    setLiked(postId, wasLiked, before);
    toast(err.message);
  } finally {
    pending.delete(postId);
  }
}

function isLiked(postId) {
  const button = document.querySelector(`[data-like="${postId}"]`);
  return button ? button.getAttribute("aria-pressed") === "true" : false;
}

function burst(media) {
  const holder = media.querySelector(".burst");
  if (!holder) return;
  holder.classList.remove("is-playing");
  void holder.offsetWidth; // restart the animation
  holder.classList.add("is-playing");
}

let lastDoubleTap = 0;

function doubleTapped(media) {
  const now = Date.now();
  if (now - lastDoubleTap < 400) return; // one gesture seen as both touch taps and dblclick
  lastDoubleTap = now;
  const postId = media.dataset.postId;
  if (!viewer) {
    window.location.assign(`/login?next=/p/${postId}`);
    return;
  }
  burst(media);
  const button = document.querySelector(`[data-like="${postId}"]`);
  if (button) {
    button.classList.remove("pop");
    void button.offsetWidth;
    button.classList.add("pop");
  }
  if (!isLiked(postId)) like(postId, true); // a double tap likes; it never unlikes
}

// Mouse: the browser's dblclick. Touch: two taps within 300 ms, close together.
document.addEventListener("dblclick", (event) => {
  const media = event.target.closest("[data-media]");
  if (!media || event.target.closest("button")) return;
  event.preventDefault();
  doubleTapped(media);
});

let lastTap = { time: 0, x: 0, y: 0 };
document.addEventListener("pointerup", (event) => {
  if (event.pointerType !== "touch") return;
  const media = event.target.closest("[data-media]");
  if (!media || event.target.closest("button")) return;
  const close = Math.hypot(event.clientX - lastTap.x, event.clientY - lastTap.y) < 40;
  if (event.timeStamp - lastTap.time < 300 && close) {
    lastTap = { time: 0, x: 0, y: 0 };
    doubleTapped(media);
  } else {
    lastTap = { time: event.timeStamp, x: event.clientX, y: event.clientY };
  }
});

async function toggleSave(button) {
  const postId = button.dataset.save;
  const wanted = button.getAttribute("aria-pressed") !== "true";
  const show = (saved) => {
    button.classList.toggle("is-on", saved);
    button.setAttribute("aria-pressed", String(saved));
    button.setAttribute("aria-label", saved ? "Remove from saved" : "Save");
  };
  show(wanted);
  try {
    const result = await api(wanted ? "POST" : "DELETE", `/posts/${postId}/save`);
    show(result.saved);
    toast(result.saved ? "Saved." : "Removed from saved.");
  } catch (err) {
    show(!wanted);
    toast(err.message);
  }
}

function avatarNode(user) {
  const face = user.avatar_url
    ? h("img", { src: user.avatar_url, alt: "", width: 150, height: 150, decoding: "async" })
    : h("span", { class: "avatar-letter", "aria-hidden": "true" }, user.username.slice(0, 1).toUpperCase());
  return h("span", { class: "avatar avatar-sm" }, face);
}

// A comment just posted, as the comments macro draws it: avatar, text, time, likes, Reply,
// Delete (it is the viewer's own), and the heart.
function commentNode(comment, isReply) {
  const author = comment.author.username;
  const csrf = document.querySelector('meta[name="csrf-token"]')?.getAttribute("content") || "";
  const token = () => h("input", { type: "hidden", name: "csrf_token", value: csrf });
  return h(
    "li",
    { class: `comment is-new${isReply ? " is-reply" : ""}`, id: `c-${comment.id}`, "data-comment": comment.id },
    h("a", { href: `/${author}`, class: "comment-avatar", "aria-label": author }, avatarNode(comment.author)),
    h(
      "div",
      { class: "comment-main" },
      h("p", { class: "comment-text" }, h("a", { class: "username", href: `/${author}` }, author), " ", linkified(comment.text)),
      h(
        "div",
        { class: "comment-meta muted" },
        h("time", { datetime: comment.created_at, "data-rel": "" }, "just now"),
        h("span", { "data-comment-likes": comment.id, hidden: true }, "0 likes"),
        h("button", { type: "button", class: "link-btn muted", "data-reply-to": comment.parent_id || comment.id, "data-reply-name": author }, "Reply"),
        h(
          "form",
          { method: "post", action: `/c/${comment.id}/delete`, class: "inline-form" },
          token(),
          h("button", { type: "submit", class: "link-btn muted", "data-delete-comment": comment.id }, "Delete"),
        ),
      ),
    ),
    h(
      "form",
      { method: "post", action: `/c/${comment.id}/like`, class: "inline-form" },
      token(),
      h(
        "button",
        { type: "submit", class: "comment-like", "data-comment-like": comment.id, "aria-pressed": "false", "aria-label": "Like comment" },
        heartIcon(),
      ),
    ),
  );
}

// The heart of the page's own like button (the server drew it from macros/icons.html).
function heartIcon() {
  const heart = document.querySelector("[data-like] svg")?.cloneNode(true);
  heart?.setAttribute("class", "icon icon-xs");
  return heart || "♥";
}

function placeComment(form, comment) {
  const postId = form.dataset.commentForm;
  const replies = comment.parent_id && document.querySelector(`[data-replies="${comment.parent_id}"]`);
  const list = document.querySelector(`[data-comment-list="${postId}"]`);
  const recent = document.querySelector(`[data-new-comments="${postId}"]`);
  const node = commentNode(comment, Boolean(comment.parent_id));
  if (replies) replies.append(node);
  else if (list) {
    list.append(
      h("li", { class: "thread", "data-thread": comment.id }, h("ul", { class: "thread-head" }, node), h("ul", { class: "replies", "data-replies": comment.id })),
    );
  }
  else if (recent) recent.append(node);
  document.querySelector("[data-no-comments]")?.remove();
}

function setReply(form, parentId, name) {
  form.elements.parent_id.value = parentId || "";
  const banner = document.querySelector("[data-replying]");
  if (banner) {
    banner.hidden = !parentId;
    const label = banner.querySelector("[data-replying-name]");
    if (label) label.textContent = name || "";
  }
}

async function submitComment(form) {
  const input = form.elements.text;
  const text = input.value.trim();
  if (!text) return;
  const button = form.querySelector('button[type="submit"]');
  button.disabled = true;
  const body = { text };
  if (form.elements.parent_id.value) body.parent_id = form.elements.parent_id.value;
  try {
    const comment = await api("POST", `/posts/${form.dataset.commentForm}/comments`, body);
    placeComment(form, comment);
    input.value = "";
    setReply(form, null);
  } catch (err) {
    toast(err.message);
  } finally {
    button.disabled = !input.value.trim();
  }
}

document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-comment-form]");
  if (!form) return;
  event.preventDefault();
  submitComment(form);
});

document.addEventListener("input", (event) => {
  const form = event.target.closest("form[data-comment-form]");
  if (!form || event.target.name !== "text") return;
  form.querySelector('button[type="submit"]').disabled = !event.target.value.trim();
});

function scrollCarousel(button) {
  const track = button.closest("[data-media]").querySelector(".media-track");
  track.scrollBy({ left: Number(button.dataset.carousel) * track.clientWidth });
}

function syncCarousel(media) {
  const track = media.querySelector(".media-track");
  const slides = track.children.length;
  const index = Math.round(track.scrollLeft / Math.max(1, track.clientWidth));
  media.querySelectorAll(".dot").forEach((dot, i) => dot.classList.toggle("is-active", i === index));
  const prev = media.querySelector(".carousel-btn.prev");
  const next = media.querySelector(".carousel-btn.next");
  const focused = document.activeElement;
  prev.hidden = index <= 0;
  next.hidden = index >= slides - 1;
  // At the first or last photo the arrow just pressed goes away: the focus moves to the other.
  if (focused === next && next.hidden) prev.focus();
  else if (focused === prev && prev.hidden) next.focus();
}

document.addEventListener("click", (event) => {
  const target = event.target;
  const likeButton = target.closest("[data-like]");
  if (likeButton) {
    const postId = likeButton.dataset.like;
    const wanted = !isLiked(postId);
    if (wanted) {
      likeButton.classList.remove("pop");
      void likeButton.offsetWidth;
      likeButton.classList.add("pop");
    }
    like(postId, wanted);
    return;
  }
  const saveButton = target.closest("[data-save]");
  if (saveButton) return void toggleSave(saveButton);
  const arrow = target.closest("[data-carousel]");
  if (arrow) return void scrollCarousel(arrow);
  const reply = target.closest("[data-reply-to]");
  if (reply) {
    const form = document.querySelector("form[data-comment-form]");
    if (!form) return;
    setReply(form, reply.dataset.replyTo, reply.dataset.replyName);
    const input = form.elements.text;
    if (!input.value.startsWith(`@${reply.dataset.replyName}`)) {
      input.value = `@${reply.dataset.replyName} ${input.value}`;
    }
    input.focus();
    form.querySelector('button[type="submit"]').disabled = false;
    return;
  }
  if (target.closest("[data-cancel-reply]")) {
    const form = document.querySelector("form[data-comment-form]");
    if (form) setReply(form, null);
    return;
  }
  const more = target.closest("[data-caption-more]");
  if (more) {
    more.previousElementSibling?.classList.remove("is-clamped");
    more.remove();
  }
});

onHydrate((root) => {
  for (const media of root.querySelectorAll(".is-carousel[data-media]")) {
    const track = media.querySelector(".media-track");
    let frame = 0;
    track.addEventListener("scroll", () => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => syncCarousel(media));
    });
  }
  for (const caption of root.querySelectorAll(".caption.is-clamped")) {
    if (caption.scrollHeight > caption.clientHeight + 1) {
      caption.after(h("button", { type: "button", class: "link-btn muted caption-more", "data-caption-more": "" }, "more"));
    } else {
      caption.classList.remove("is-clamped");
    }
  }
  for (const form of root.querySelectorAll("form[data-comment-form]")) {
    form.querySelector('button[type="submit"]').disabled = !form.elements.text.value.trim();
  }
});
