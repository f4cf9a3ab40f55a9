// The story a live story reply answers (js/direct.js leaves a placeholder for it): asked of
// the API as the reader may see it now, then drawn as templates/direct_macros.html's
// story_quote draws it, a small photo linking to the viewer, or "Story unavailable".
import { api } from "./api.js";
import { h, onHydrate } from "./dom.js";

async function fill(holder) {
  const storyId = holder.dataset.storyQuotePending;
  holder.removeAttribute("data-story-quote-pending");
  let story = null;
  try {
    story = await api("GET", `/stories/${storyId}`);
  } catch (err) {
    story = null; // gone, expired, or not for this reader
  }
  if (!story || !story.media) {
    holder.replaceWith(h("p", { class: "story-quote is-gone", "data-story-quote": storyId }, "Story unavailable"));
    return;
  }
  const chat = holder.closest("[data-chat]");
  const back = chat ? `?back=${encodeURIComponent(`/direct/t/${chat.dataset.chat}`)}` : "";
  const author = story.author.username;
  holder.replaceWith(
    h(
      "a",
      { class: "story-quote", href: `/stories/${encodeURIComponent(author)}/${story.id}${back}`, "data-story-quote": story.id },
      h("img", {
        class: "story-quote-photo",
        src: story.media.jpeg_urls.small,
        alt: story.media.alt_text || `Story by ${author}`,
        decoding: "async",
      }),
      h("span", { class: "sr-only" }, `${author}'s story`),
    ),
  );
}

onHydrate((root) => {
  const found = root.matches && root.matches("[data-story-quote-pending]") ? [root] : [];
  for (const holder of [...found, ...root.querySelectorAll("[data-story-quote-pending]")]) fill(holder);
});
