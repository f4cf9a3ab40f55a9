// Infinite scroll: a sentinel at the end of a feed or grid names the next page's fragment URL;
// when it nears the viewport, the fragment (cards or tiles from the same server-side macros)
// replaces it, ending with the next sentinel. "Load more" buttons (comments) work alike.
import { fetchFragment } from "./api.js";
import { hydrate, onHydrate, toast } from "./dom.js";

async function replaceWithFragment(placeholder, url) {
  const body = await fetchFragment(url);
  const parent = placeholder.parentNode;
  const nodes = [...body.childNodes].map((node) => document.adoptNode(node));
  placeholder.replaceWith(...nodes);
  for (const node of nodes) {
    if (node.nodeType === Node.ELEMENT_NODE) hydrate(node);
  }
  return parent;
}

async function loadSentinel(sentinel, observer) {
  if (sentinel.classList.contains("is-loading")) return;
  sentinel.classList.add("is-loading");
  observer.unobserve(sentinel);
  try {
    await replaceWithFragment(sentinel, sentinel.dataset.next);
  } catch (err) {
    sentinel.classList.remove("is-loading");
    toast(err.message); // the "Load more" link stays for another go
  }
}

const observer =
  "IntersectionObserver" in window
    ? new IntersectionObserver(
        (entries) => {
          for (const entry of entries) {
            if (entry.isIntersecting) loadSentinel(entry.target, observer);
          }
        },
        { rootMargin: "0px 0px 1200px 0px" },
      )
    : null;

onHydrate((root) => {
  if (!observer) return; // old browsers: the sentinel's "Load more" link opens the next page
  const sentinels = root.matches?.(".sentinel[data-next]")
    ? [root]
    : root.querySelectorAll(".sentinel[data-next]");
  for (const sentinel of sentinels) observer.observe(sentinel);
});

document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-load-more]");
  if (!button) return;
  event.preventDefault();
  button.disabled = true;
  const holder = button.closest("li") || button;
  try {
    await replaceWithFragment(holder, button.dataset.loadMore);
  } catch (err) {
    button.disabled = false;
    toast(err.message);
  }
});
