// "Suggested for you": the home feed's side column, fetched (server-rendered rows) only when
// the screen is wide enough to show it, and the × that dismisses a suggestion for good.
// Follow buttons in the rows are js/follow.js's.
import { api, fetchFragment } from "./api.js";
import { hold, hydrate, keepFocus, release, toast } from "./dom.js";

const WIDE = window.matchMedia("(min-width: 1100px)");

async function fillAside(aside) {
  if (aside.dataset.loaded) return;
  aside.dataset.loaded = "true";
  const slot = aside.querySelector("[data-suggestions-slot]");
  try {
    const body = await fetchFragment(aside.dataset.suggestionsAside);
    const nodes = [...body.childNodes].map((node) => document.adoptNode(node));
    slot.replaceChildren(...nodes);
    for (const node of nodes) {
      if (node.nodeType === Node.ELEMENT_NODE) hydrate(node);
    }
  } catch (err) {
    delete aside.dataset.loaded; // another go when the screen widens again
  }
}

function watchAside() {
  const aside = document.querySelector("[data-suggestions-aside]");
  if (!aside) return;
  if (WIDE.matches) fillAside(aside);
  WIDE.addEventListener("change", () => {
    if (WIDE.matches) fillAside(aside);
  });
}

async function dismiss(button) {
  const row = button.closest("li");
  const section = button.closest("[data-suggestions]");
  if (!hold(button)) return;
  try {
    await api("POST", `/suggestions/users/${encodeURIComponent(button.dataset.dismissSuggestion)}/dismiss`);
  } catch (err) {
    release(button);
    toast(err.message);
    return;
  }
  const neighbour = row.nextElementSibling || row.previousElementSibling;
  row.remove();
  // The focus was on the ×, gone with its row: the next suggestion's × takes it, or a link.
  keepFocus(neighbour?.querySelector("[data-dismiss-suggestion]") || section?.querySelector("a[href]"));
  if (section && !section.querySelector("[data-suggestion-list] li")) {
    const none = section.querySelector("[data-suggestions-none]");
    if (none) none.hidden = false;
    else section.hidden = true;
  }
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-dismiss-suggestion]");
  if (button) dismiss(button);
});
watchAside();
