// Follow buttons (follow, follow back, requested, following, blocked) and follow requests.
import { api } from "./api.js";
import { h, hold, onHydrate, release, toast } from "./dom.js";

const LABELS = { following: "Following", requested: "Requested", blocked: "Unblock" };

function show(button, state) {
  button.dataset.state = state;
  const label = LABELS[state] || (button.dataset.followBack === "true" ? "Follow back" : "Follow");
  button.textContent = label;
  button.classList.toggle("btn-primary", state === "none");
  button.classList.toggle("btn-secondary", state !== "none");
  button.setAttribute("aria-pressed", String(state === "following" || state === "requested"));
}

function shiftFollowerCount(delta) {
  const el = document.querySelector("[data-follower-count]");
  if (!el) return;
  const count = Math.max(0, Number(el.dataset.followerCount) + delta);
  el.dataset.followerCount = String(count);
  el.textContent = count.toLocaleString("en-US");
  const word = document.querySelector("[data-follower-word]");
  if (word) word.textContent = count === 1 ? "follower" : "followers";
}

async function press(button) {
  const username = button.dataset.follow;
  const state = button.dataset.state;
  if (!hold(button)) return;
  try {
    if (state === "none") {
      const result = await api("POST", `/users/${encodeURIComponent(username)}/follow`);
      show(button, result.status);
      if (result.status === "following") {
        shiftFollowerCount(1);
        // A private profile's posts are visible now: show them.
        if (document.querySelector("[data-private-notice]")) window.location.reload();
      }
    } else if (state === "blocked") {
      await api("DELETE", `/users/${encodeURIComponent(username)}/block`);
      show(button, "none");
    } else {
      if (state === "following" && button.dataset.private === "true") {
        const sure = window.confirm(`Unfollow @${username}? You'll have to ask again to see their photos.`);
        if (!sure) return;
      }
      await api("DELETE", `/users/${encodeURIComponent(username)}/follow`);
      if (state === "following") shiftFollowerCount(-1);
      show(button, "none");
    }
  } catch (err) {
    toast(err.message);
  } finally {
    release(button);
  }
}

async function answerRequest(button) {
  const row = button.closest("[data-request]");
  const username = button.dataset.username;
  const action = button.dataset.requestAction;
  for (const b of row.querySelectorAll("button")) b.disabled = true;
  try {
    await api("POST", `/follow-requests/${encodeURIComponent(username)}/${action}`);
    const holder = row.matches(".request-buttons") ? row : row.querySelector(".request-buttons");
    const notification = row.closest("[data-notification]");
    if (notification && action === "approve") {
      // Approved from the notification: it now says so, and offers to follow back.
      const text = notification.querySelector("[data-follow-text]");
      if (text) text.textContent = "started following you.";
      const back = h(
        "button",
        { type: "button", class: "btn follow-btn btn-sm btn-primary", "data-follow": username, "data-state": "none", "data-private": "false", "data-follow-back": "true" },
        "Follow back",
      );
      holder.replaceWith(back);
      back.focus();
      return;
    }
    holder.replaceChildren(action === "approve" ? "Approved" : "Removed");
    holder.classList.add("muted");
  } catch (err) {
    for (const b of row.querySelectorAll("button")) b.disabled = false;
    toast(err.message);
  }
}

// A hashtag's Follow / Following button (its posts join the home feed).
async function pressHashtag(button) {
  const tag = encodeURIComponent(button.dataset.hashtagFollow);
  const following = button.dataset.state === "following";
  if (!hold(button)) return;
  try {
    await api(following ? "DELETE" : "POST", `/hashtags/${tag}/follow`);
    const state = following ? "none" : "following";
    button.dataset.state = state;
    button.textContent = following ? "Follow" : "Following";
    button.classList.toggle("btn-primary", following);
    button.classList.toggle("btn-secondary", !following);
    button.setAttribute("aria-pressed", String(!following));
  } catch (err) {
    toast(err.message);
  } finally {
    release(button);
  }
}

document.addEventListener("click", (event) => {
  const follow = event.target.closest("[data-follow]");
  if (follow) return void press(follow);
  const hashtag = event.target.closest("[data-hashtag-follow]");
  if (hashtag) return void pressHashtag(hashtag);
  const request = event.target.closest("[data-request-action]");
  if (request) answerRequest(request);
});

onHydrate((root) => {
  for (const button of root.querySelectorAll("[data-follow]")) {
    button.setAttribute("aria-pressed", String(["following", "requested"].includes(button.dataset.state)));
  }
});
