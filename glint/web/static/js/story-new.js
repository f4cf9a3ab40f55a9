// The new-story page (templates/story_new.html): preview the chosen photo as the story will
// look (letter-boxed on black when it is wider than a phone), then upload it to
// POST /api/v1/stories with progress and wait until the server has processed it: the stream
// says so (story.published / story.failed); while the stream is down the page asks now and
// then. Published, it goes home, where the story waits in the tray. Refusals are put in words.
import { keepFocus, onHydrate } from "./dom.js";
import { upload, waitUntilProcessed } from "./processing.js";

const ACCEPTED = /^image\/(jpeg|png|webp|heic|heif|avif)$/;
const MAX_BYTES = 10 * 1024 * 1024;
const HOME_DELAY_MS = 800; // long enough to read "Your story is live."

/** A refused upload in words (the API's message when it is about the fields). */
export function uploadProblem(err, retryAfter) {
  switch (err.status) {
    case 413:
      return "That photo is too large: a story photo may be at most 10 MB.";
    case 415:
      return "That file isn't a photo we can use. Choose a JPEG, PNG, WebP, HEIC or AVIF photo.";
    case 429: {
      const seconds = Number(retryAfter) || 0;
      const wait = seconds > 90 ? `in about ${Math.ceil(seconds / 60)} minutes` : seconds > 0 ? `in ${seconds} seconds` : "in a little while";
      return `You've shared a lot of stories lately. Try again ${wait}.`;
    }
    case 0:
      return "The upload failed. Check your connection and try again.";
    default:
      return err.message;
  }
}

function setup(section) {
  const form = section.querySelector("[data-story-form]");
  const input = form.querySelector("[data-story-file]");
  const fileLabel = form.querySelector("[data-story-file-label]");
  const photo = form.querySelector("[data-story-preview-photo]");
  const empty = form.querySelector("[data-story-preview-empty]");
  const captionPreview = form.querySelector("[data-story-preview-caption]");
  const caption = form.querySelector("[data-story-caption]");
  const edit = form.querySelector("[data-story-edit]");
  const status = form.querySelector("[data-story-status]");
  const statusLine = form.querySelector("[data-story-status-line]");
  const errorBox = form.querySelector("[data-story-error]");
  const share = form.querySelector("[data-story-share]");
  let file = null;
  let previewUrl = "";
  form.noValidate = true; // our own messages, in words, rather than the browser's bubbles

  const showError = (message) => {
    errorBox.textContent = message || "";
    errorBox.hidden = !message;
  };

  function choose(chosen) {
    showError("");
    if (!chosen) return;
    if (!ACCEPTED.test(chosen.type) && !/\.(heic|heif|avif)$/i.test(chosen.name)) {
      showError("That file isn't a photo we can use. Choose a JPEG, PNG, WebP, HEIC or AVIF photo.");
      return;
    }
    if (chosen.size > MAX_BYTES) {
      showError("That photo is too large: a story photo may be at most 10 MB.");
      return;
    }
    file = chosen;
    if (previewUrl) URL.revokeObjectURL(previewUrl);
    previewUrl = URL.createObjectURL(chosen);
    photo.src = previewUrl;
    photo.alt = "Preview of your story";
    photo.hidden = false;
    empty.hidden = true;
    fileLabel.textContent = "Choose another photo";
  }

  input.addEventListener("change", () => choose(input.files && input.files[0]));
  photo.addEventListener("error", () => {
    if (!photo.getAttribute("src")) return;
    photo.hidden = true; // e.g. HEIC, which Chromium cannot show; the server can read it
    empty.hidden = false;
    empty.querySelector("p").textContent = "No preview for this format in your browser; the photo is still fine to share.";
  });
  const syncCaption = () => {
    captionPreview.textContent = caption.value;
    captionPreview.hidden = !caption.value.trim();
  };
  caption.addEventListener("input", syncCaption);
  syncCaption();

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!file) {
      showError("Choose a photo first.");
      return;
    }
    const data = new FormData(form);
    data.delete("csrf_token"); // the API takes the token from the header
    data.set("media", file, file.name);
    showError("");
    share.disabled = true;
    edit.hidden = true;
    status.hidden = false;
    keepFocus(statusLine, share);
    status.classList.remove("is-done");
    statusLine.textContent = "Uploading…";
    let story;
    try {
      story = await upload("story", data, (percent) => {
        statusLine.textContent = `Uploading… ${percent}%`;
      });
    } catch (err) {
      share.disabled = false;
      edit.hidden = false;
      status.hidden = true;
      keepFocus(share, statusLine);
      showError(uploadProblem(err, err.retryAfter));
      return;
    }
    statusLine.textContent = "Processing…";
    section.dataset.storyId = story.id;
    try {
      story = await waitUntilProcessed("story", story.id);
    } catch (err) {
      statusLine.textContent = "Processing… (we lost touch with the server; your story will show in the tray when it's ready)";
      return;
    }
    status.classList.add("is-done");
    if (story.status === "failed") {
      statusLine.textContent = `Your story could not be processed: ${story.failure_reason || "unknown reason"}.`;
      share.disabled = false;
      edit.hidden = false;
      return;
    }
    statusLine.textContent = story.status === "published" ? "Your story is live." : "Still processing. It will show in the tray when it's ready.";
    window.setTimeout(() => window.location.assign("/"), HOME_DELAY_MS);
  });
}

onHydrate((root) => {
  const section = root.querySelector("[data-story-upload]");
  if (section && !section.dataset.ready) {
    section.dataset.ready = "1";
    setup(section);
  }
});
