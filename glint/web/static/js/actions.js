// The everyday actions in place: the "…" menus of posts and profiles (block, mute, report, edit
// a caption, delete after a confirmation), comment likes and deletion, and the likers list in a
// dialog. Without JS each one is a link to a page or a form post (glint/web/pages_actions.py,
// pages_report.py); here they run through the JSON API, or the same form route, in a dialog.
import { api, fetchFragment } from "./api.js";
import { h, hydrate, linkified, plural, toast } from "./dom.js";

// --- the "…" menus: one open at a time, closed by Escape or a click elsewhere -------------

function closeMenus(except = null) {
  for (const menu of document.querySelectorAll("details[data-more-menu][open]")) {
    if (menu !== except) menu.open = false;
  }
}

document.addEventListener("toggle", (event) => {
  if (event.target.matches?.("details[data-more-menu]") && event.target.open) closeMenus(event.target);
}, true);

document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  const open = event.target.closest?.("details[data-more-menu][open]");
  if (!open) return;
  open.open = false;
  open.querySelector("summary").focus();
});

// --- one dialog for every action: a title, a body, and the focus given back afterwards -----

let dialog = null;

function openDialog(title, body, opener) {
  if (!dialog) {
    dialog = h("dialog", { class: "action-dialog", "aria-labelledby": "action-dialog-title", "data-action-dialog": "" });
    document.body.append(dialog);
    dialog.addEventListener("click", (event) => {
      if (event.target === dialog || event.target.closest("[data-dialog-close], [data-dialog-cancel]")) {
        event.preventDefault();
        dialog.close();
      }
    });
  }
  const back = opener?.closest("details[data-more-menu]")?.querySelector("summary") || opener;
  dialog.addEventListener("close", () => {
    if (back?.isConnected) back.focus();
  }, { once: true });
  dialog.replaceChildren(
    h(
      "header",
      { class: "action-dialog-head" },
      h("h2", { id: "action-dialog-title" }, title),
      h("button", { type: "button", class: "icon-btn dialog-x", "data-dialog-close": "", "aria-label": "Close" }, "×"),
    ),
    h("div", { class: "action-dialog-body" }, body),
  );
  closeMenus();
  if (!dialog.open) dialog.showModal();
  const first = dialog.querySelector("textarea, input:not([type=hidden]), [data-autofocus]");
  (first || dialog.querySelector("[data-dialog-close]")).focus();
  return dialog;
}

/** Remove post cards; the focus goes to the card after them (or before), never to <body>. */
function removeCards(cards) {
  const gone = new Set(cards);
  const last = cards[cards.length - 1];
  let next = last?.nextElementSibling;
  while (next && (gone.has(next) || !next.matches(".card"))) next = next.nextElementSibling;
  let previous = cards[0]?.previousElementSibling;
  while (previous && (gone.has(previous) || !previous.matches(".card"))) previous = previous.previousElementSibling;
  cards.forEach((card) => card.remove());
  const target = (next || previous)?.querySelector(".card-author") || document.querySelector(".logo");
  target?.focus();
}

function buttons(...children) {
  return h("div", { class: "action-buttons" }, ...children);
}

// --- block, unblock, mute, unmute ---------------------------------------------------------

const OPPOSITE = { block: "unblock", unblock: "block", mute: "unmute", unmute: "mute" };
const DONE = { block: "Blocked", unblock: "Unblocked", mute: "Muted", unmute: "Unmuted" };

function cardsBy(username) {
  return [...document.querySelectorAll(`.card[data-author="${CSS.escape(username)}"]`)];
}

async function graphAction(form) {
  const button = form.querySelector("[data-graph-action]");
  const action = button.dataset.graphAction;
  const username = button.dataset.username;
  const method = action.startsWith("un") ? "DELETE" : "POST";
  const verb = action.replace(/^un/, "");
  try {
    await api(method, `/users/${encodeURIComponent(username)}/${verb}`);
  } catch (err) {
    toast(err.message);
    return;
  }
  const next = form.elements.next.value;
  if (next === location.pathname) {
    location.reload(); // a profile: its buttons, counts and posts all change
    return;
  }
  if (action === "block") {
    const cards = cardsBy(username);
    if (!cards.length) {
      location.assign(next);
      return;
    }
    removeCards(cards);
  }
  // Mute and unmute from a post's menu: the item turns into its opposite.
  const opposite = OPPOSITE[action];
  for (const other of document.querySelectorAll(`[data-graph-action="${action}"][data-username="${CSS.escape(username)}"]`)) {
    other.dataset.graphAction = opposite;
    other.textContent = other.textContent.replace(/^\w+/, (word) => (word === word.toLowerCase() ? opposite : opposite[0].toUpperCase() + opposite.slice(1)));
    other.form.action = `/${username}/${opposite}`;
  }
  const summary = form.closest("details[data-more-menu]")?.querySelector("summary");
  closeMenus();
  if (summary?.isConnected) summary.focus(); // the item pressed is hidden with its menu
  toast(`${DONE[action]} ${username}.`);
}

// --- edit a caption -------------------------------------------------------------------------

async function editCaption(link) {
  const postId = link.dataset.editCaption;
  let post;
  try {
    post = await api("GET", `/posts/${postId}`);
  } catch (err) {
    toast(err.message);
    return;
  }
  const text = h("textarea", { name: "caption", rows: 5, maxlength: 2200, "aria-label": "Caption" });
  text.value = post.caption || "";
  const error = h("p", { class: "form-error", role: "alert", hidden: true });
  const form = h(
    "form",
    { class: "stack action-form", "data-edit-dialog": postId },
    text,
    error,
    buttons(
      h("button", { type: "button", class: "btn btn-secondary", "data-dialog-cancel": "" }, "Cancel"),
      h("button", { type: "submit", class: "btn btn-primary" }, "Save"),
    ),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const saved = await api("PATCH", `/posts/${postId}`, { caption: text.value });
      showCaption(saved);
      dialog.close();
      toast("Caption saved.");
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
    }
  });
  openDialog("Edit caption", form, link);
}

function showCaption(post) {
  if (location.pathname === `/p/${post.id}`) {
    location.reload(); // the post page shows the caption as its first comment, "Edited" too
    return;
  }
  const caption = document.querySelector(`#post-${post.id} [data-caption]`);
  if (!caption) return;
  const author = post.author.username;
  caption.replaceChildren(h("a", { class: "username", href: `/${author}` }, author), " ", linkified(post.caption));
}

// --- delete a post, after a confirmation ------------------------------------------------------

function confirmDelete(link) {
  const postId = link.dataset.confirmDelete;
  const remove = h("button", { type: "button", class: "btn btn-danger", "data-autofocus": "" }, "Delete");
  remove.addEventListener("click", async () => {
    remove.setAttribute("aria-disabled", "true");
    try {
      await api("DELETE", `/posts/${postId}`);
    } catch (err) {
      remove.removeAttribute("aria-disabled");
      toast(err.message);
      return;
    }
    const card = document.querySelector(`.card#post-${postId}`);
    if (card && location.pathname !== `/p/${postId}`) {
      dialog.close();
      removeCards([card]);
      toast("Post deleted.");
      return;
    }
    location.assign(link.dataset.after || "/");
  });
  const body = [
    h("p", {}, "Are you sure you want to delete this post? This can't be undone."),
    buttons(h("button", { type: "button", class: "btn btn-secondary", "data-dialog-cancel": "" }, "Cancel"), remove),
  ];
  openDialog("Delete post?", body, link);
}

// --- report: the page's own form, in the dialog, posted to the same route --------------------

async function report(link) {
  let page;
  try {
    page = await fetchFragment(link.href);
  } catch (err) {
    toast(err.message);
    return;
  }
  const form = page.querySelector("[data-report-form]");
  if (!form) return void location.assign(link.href);
  const title = page.querySelector("h1")?.textContent || "Report";
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    sendReport(form, link);
  });
  openDialog(title, form, link);
}

async function sendReport(form, link) {
  const submit = form.querySelector('button[type="submit"]');
  submit.setAttribute("aria-disabled", "true");
  let response;
  try {
    response = await fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin" });
  } catch (err) {
    submit.removeAttribute("aria-disabled");
    toast("You seem to be offline. Try again.");
    return;
  }
  const doc = new DOMParser().parseFromString(await response.text(), "text/html");
  const done = doc.querySelector("[data-report-done]");
  if (response.ok && done) {
    const close = h("button", { type: "button", class: "btn btn-primary", "data-dialog-close": "", "data-autofocus": "" }, "Done");
    openDialog("Thanks for reporting", [h("p", {}, done.querySelector("p").textContent), buttons(close)], link);
    return;
  }
  submit.removeAttribute("aria-disabled");
  const error = form.querySelector(".form-error");
  error.textContent = doc.querySelector(".form-error:not([hidden])")?.textContent || doc.querySelector("main p")?.textContent || "Couldn't send the report.";
  error.hidden = false;
}

// --- comments: like and delete ---------------------------------------------------------------

async function likeComment(button) {
  const id = button.dataset.commentLike;
  const wanted = button.getAttribute("aria-pressed") !== "true";
  try {
    const result = await api(wanted ? "POST" : "DELETE", `/comments/${id}/like`);
    button.setAttribute("aria-pressed", String(result.liked));
    button.setAttribute("aria-label", result.liked ? "Unlike comment" : "Like comment");
    button.classList.toggle("is-on", result.liked);
    if (button.form) button.form.action = `/c/${id}/${result.liked ? "unlike" : "like"}`;
    const count = document.querySelector(`[data-comment-likes="${id}"]`);
    if (count) {
      count.textContent = plural(result.like_count, "like");
      count.hidden = result.like_count === 0;
    }
  } catch (err) {
    toast(err.message);
  }
}

async function deleteComment(button) {
  const id = button.dataset.deleteComment;
  try {
    await api("DELETE", `/comments/${id}`);
  } catch (err) {
    toast(err.message);
    return;
  }
  const item = document.getElementById(`c-${id}`);
  const thread = item?.closest(".thread");
  const gone = thread && thread.dataset.thread === id ? thread : item;
  const focusNext = document.querySelector("form[data-comment-form] input[name=text]");
  gone?.remove();
  focusNext?.focus();
  toast("Comment deleted.");
}

// --- the people who liked a post ---------------------------------------------------------------

async function likers(link) {
  let page;
  try {
    page = await fetchFragment(link.href);
  } catch (err) {
    toast(err.message);
    return;
  }
  const list = page.querySelector("[data-likers-list]");
  if (!list) return void location.assign(link.href);
  hydrate(list);
  openDialog("Likes", list, link);
}

// --- wiring ----------------------------------------------------------------------------------

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.matches("form[data-graph-form]")) {
    event.preventDefault();
    graphAction(form);
    return;
  }
  const like = form.querySelector("[data-comment-like]");
  if (like) {
    event.preventDefault();
    likeComment(like);
    return;
  }
  const remove = form.querySelector("[data-delete-comment]");
  if (remove) {
    event.preventDefault();
    deleteComment(remove);
  }
});

document.addEventListener("click", (event) => {
  if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
  const target = event.target;
  if (!target.closest("details[data-more-menu]")) closeMenus();
  const handlers = [
    ["[data-edit-caption]", editCaption],
    ["[data-confirm-delete]", confirmDelete],
    ["a[data-report]", report],
    ["a[data-likers]", likers],
  ];
  for (const [selector, handler] of handlers) {
    const hit = target.closest(selector);
    if (hit) {
      event.preventDefault();
      handler(hit);
      return;
    }
  }
});
