// The notifications page marks what it shows as read, and the unread badge goes away.
import { api } from "./api.js";
import { onHydrate } from "./dom.js";

async function markRead(panel) {
  if (panel.dataset.marked || Number(panel.dataset.unread) === 0 || !panel.dataset.newest) return;
  panel.dataset.marked = "1";
  try {
    await api("POST", "/notifications/read", { up_to_id: panel.dataset.newest });
    for (const badge of document.querySelectorAll("[data-unread-badge]")) badge.hidden = true;
  } catch (err) {
    delete panel.dataset.marked; // left unread; the next visit tries again
  }
}

onHydrate((root) => {
  const panel = root.querySelector("[data-notifications]");
  if (panel) markRead(panel);
});
