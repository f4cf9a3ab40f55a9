// "Send to…" on post cards: a small dialog to send the post to someone by username, or into
// one of the viewer's recent conversations, as a post_share message.
import { api } from "./api.js";
import { h, hold, release, toast } from "./dom.js";

const dialog = document.querySelector("[data-share-dialog]");
const meMeta = document.querySelector('meta[name="viewer-id"]');
const RECENT = 8;
let postId = null;

function clientId() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function showError(message) {
  const box = dialog.querySelector("[data-share-error]");
  box.textContent = message || "";
  box.hidden = !message;
}

function titleOf(conversation) {
  if (conversation.title) return conversation.title;
  const me = meMeta ? meMeta.getAttribute("content") : "";
  const others = conversation.participants.filter((person) => String(person.id) !== me);
  return others.map((person) => person.username).join(", ") || "Just you";
}

function face(conversation) {
  const me = meMeta ? meMeta.getAttribute("content") : "";
  const other = conversation.participants.find((person) => String(person.id) !== me);
  const name = other ? other.username : titleOf(conversation);
  const inner = other && other.avatar_url
    ? h("img", { src: other.avatar_url, alt: "", width: 150, height: 150, loading: "lazy", decoding: "async" })
    : h("span", { class: "avatar-letter", "aria-hidden": "true" }, name.slice(0, 1).toUpperCase());
  return h("span", { class: "avatar avatar-md" }, inner);
}

async function loadRecent() {
  const list = dialog.querySelector("[data-share-list]");
  const heading = dialog.querySelector("[data-share-recent-title]");
  list.replaceChildren();
  heading.hidden = true;
  let page;
  try {
    page = await api("GET", `/conversations?folder=inbox&limit=${RECENT}`);
  } catch (err) {
    return; // the username field still works
  }
  for (const conversation of page.items) {
    const title = titleOf(conversation);
    list.append(
      h(
        "li",
        { class: "share-row" },
        face(conversation),
        h("span", { class: "share-name username" }, title),
        h("button", { type: "button", class: "btn btn-primary btn-sm", "data-share-conversation": conversation.id, "aria-label": `Send to ${title}` }, "Send"),
      ),
    );
  }
  heading.hidden = !page.items.length;
}

async function sendInto(conversationId) {
  await api("POST", `/conversations/${conversationId}/messages`, {
    kind: "post_share",
    post_id: postId,
    client_id: clientId(),
  });
  dialog.close();
  toast("Sent.");
}

function open(id) {
  postId = id;
  showError("");
  const form = dialog.querySelector("[data-share-to]");
  form.reset();
  dialog.showModal();
  form.elements.username.focus();
  loadRecent();
}

if (dialog) {
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-share-post]");
    if (button) open(button.dataset.sharePost);
  });
  dialog.addEventListener("click", async (event) => {
    if (event.target.closest("[data-share-close]")) {
      dialog.close();
      return;
    }
    if (event.target === dialog) {
      const box = dialog.getBoundingClientRect();
      const inside =
        event.clientX >= box.left && event.clientX <= box.right && event.clientY >= box.top && event.clientY <= box.bottom;
      if (!inside) dialog.close(); // a click on the backdrop
      return;
    }
    const target = event.target.closest("[data-share-conversation]");
    if (!target || !hold(target)) return;
    try {
      await sendInto(target.dataset.shareConversation);
    } catch (err) {
      showError(err.message);
    } finally {
      release(target);
    }
  });
  dialog.querySelector("[data-share-to]").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const username = form.elements.username.value.trim().replace(/^@/, "");
    if (!username) return;
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    showError("");
    try {
      const conversation = await api("POST", "/conversations", { usernames: [username] });
      await sendInto(conversation.id);
    } catch (err) {
      showError(err.status === 404 ? `There is no @${username}.` : err.message);
    } finally {
      button.disabled = false;
    }
  });
}
