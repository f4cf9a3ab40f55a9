// The new-post page: pick 1-10 photos, preview them with each filter (SVG filters that follow
// the server's, see glint/web/filter_preview.py), write a caption, alt texts and a place, then
// upload to POST /api/v1/posts and wait until the server has processed it: the stream says
// so (post.published / post.failed); while the stream is down, the page asks now and then.
import { h, keepFocus, onHydrate } from "./dom.js";
import { upload, waitUntilProcessed } from "./processing.js";

const ACCEPTED = /^image\/(jpeg|png|webp|heic|heif|avif)$/;
// Formats the browser cannot draw: the server makes a JPEG preview (POST /new/preview).
const SERVER_PREVIEW = /^image\/(heic|heif)$/;

function needsServerPreview(file) {
  return SERVER_PREVIEW.test(file.type) || /\.(heic|heif)$/i.test(file.name);
}

/** An object URL of the server's JPEG preview of a photo, or "" when it cannot make one. */
async function serverPreview(file) {
  const data = new FormData();
  data.append("csrf_token", document.querySelector('meta[name="csrf-token"]')?.getAttribute("content") || "");
  data.append("image", file, file.name);
  try {
    const response = await fetch("/new/preview", { method: "POST", body: data, credentials: "same-origin" });
    return response.ok ? URL.createObjectURL(await response.blob()) : "";
  } catch (err) {
    return "";
  }
}

function setup(section) {
  const form = section.querySelector("[data-upload-form]");
  const max = Number(section.dataset.maxImages) || 10;
  const steps = {
    pick: form.querySelector('[data-step="pick"]'),
    edit: form.querySelector('[data-step="edit"]'),
    status: form.querySelector('[data-step="status"]'),
  };
  const input = form.querySelector("[data-file-input]");
  const main = form.querySelector("[data-preview-main]");
  const unsupported = form.querySelector("[data-preview-unsupported]");
  const strip = form.querySelector("[data-preview-strip]");
  const alts = form.querySelector("[data-alt-list]");
  const errorBox = form.querySelector("[data-upload-error]");
  const statusLine = form.querySelector("[data-upload-status]");
  const caption = form.querySelector("[data-caption]");
  const counter = form.querySelector("[data-caption-count]");
  const photos = []; // {file, url, alt}
  let current = 0;

  // Hiding the step that holds the focus would drop it to <body>: `target` takes it then.
  const showStep = (name, target) => {
    const active = document.activeElement;
    const leaving = form.contains(active) && !steps[name].contains(active) ? active : null;
    for (const [key, el] of Object.entries(steps)) el.hidden = key !== name;
    keepFocus(target, leaving);
  };
  const showError = (message) => {
    errorBox.textContent = message || "";
    errorBox.hidden = !message;
  };
  const filterName = () => form.querySelector('input[name="filter"]:checked').value;

  function showPreview() {
    const photo = photos[current];
    if (!photo) return;
    unsupported.hidden = Boolean(photo.url);
    main.hidden = !photo.url;
    if (!photo.url) return; // its server preview is on the way (or could not be made)
    main.src = photo.url;
    main.alt = photo.alt || `Photo ${current + 1} of ${photos.length}`;
    main.className = `preview-main filter-${filterName()}`;
    for (const thumb of form.querySelectorAll("[data-filter-thumb]")) thumb.src = photo.url;
    strip.querySelectorAll("button[data-index]").forEach((button) => {
      button.setAttribute("aria-pressed", String(Number(button.dataset.index) === current));
    });
  }

  function render() {
    strip.replaceChildren();
    alts.replaceChildren();
    photos.forEach((photo, index) => {
      const pick = h(
        "button",
        { type: "button", "data-index": index, "aria-label": `Show photo ${index + 1}` },
        h("img", { src: photo.url || null, alt: "" }),
      );
      const remove = h(
        "button",
        { type: "button", class: "preview-remove", "data-remove": index, "aria-label": `Remove photo ${index + 1}` },
        "×",
      );
      strip.append(h("li", {}, pick, remove));
      const alt = h("input", {
        type: "text",
        maxlength: 1000,
        placeholder: "Write alt text…",
        "aria-label": `Alt text for photo ${index + 1}`,
        "data-alt-index": index,
      });
      alt.value = photo.alt;
      alts.append(h("li", {}, h("img", { src: photo.url || null, alt: "" }), alt));
    });
    if (!photos.length) {
      showStep("pick", input);
      return;
    }
    current = Math.min(current, photos.length - 1);
    showStep("edit", strip.querySelector(`[data-index="${current}"]`));
    showPreview();
  }

  function addFiles(files) {
    showError("");
    const chosen = [...files];
    const images = chosen.filter((file) => ACCEPTED.test(file.type) || /\.(heic|heif|avif)$/i.test(file.name));
    if (images.length < chosen.length) showError("Some files were left out: only photos can be posted.");
    const room = max - photos.length;
    if (images.length > room) showError(`A post has at most ${max} photos; the first ${room} were added.`);
    for (const file of images.slice(0, Math.max(0, room))) {
      const photo = { file, url: needsServerPreview(file) ? "" : URL.createObjectURL(file), alt: "" };
      photos.push(photo);
      if (!photo.url) {
        serverPreview(file).then((url) => {
          photo.url = url;
          if (url && photos.includes(photo)) render();
        });
      }
    }
    render();
  }

  function reset() {
    for (const photo of photos) if (photo.url) URL.revokeObjectURL(photo.url);
    photos.length = 0;
    current = 0;
    form.reset();
    counter.textContent = "0";
    showError("");
    render();
  }

  input.addEventListener("change", () => {
    addFiles(input.files);
    input.value = "";
  });
  steps.pick.addEventListener("dragover", (event) => {
    event.preventDefault();
    steps.pick.classList.add("is-dragging");
  });
  steps.pick.addEventListener("dragleave", () => steps.pick.classList.remove("is-dragging"));
  steps.pick.addEventListener("drop", (event) => {
    event.preventDefault();
    steps.pick.classList.remove("is-dragging");
    addFiles(event.dataTransfer.files);
  });
  main.addEventListener("error", () => {
    if (!main.getAttribute("src")) return;
    main.hidden = true; // e.g. HEIC, which Chromium cannot show; the server can read it
    unsupported.hidden = false;
  });
  strip.addEventListener("click", (event) => {
    const remove = event.target.closest("[data-remove]");
    if (remove) {
      const [gone] = photos.splice(Number(remove.dataset.remove), 1);
      URL.revokeObjectURL(gone.url);
      render();
      return;
    }
    const pick = event.target.closest("[data-index]");
    if (pick) {
      current = Number(pick.dataset.index);
      showPreview();
    }
  });
  alts.addEventListener("input", (event) => {
    const index = event.target.dataset.altIndex;
    if (index !== undefined) photos[Number(index)].alt = event.target.value;
  });
  form.querySelector("[data-filter-strip]").addEventListener("change", showPreview);
  caption.addEventListener("input", () => {
    counter.textContent = caption.value.length.toLocaleString("en-US");
  });
  form.querySelector("[data-reset]").addEventListener("click", reset);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    share();
  });

  async function share() {
    if (!photos.length) return showError("Choose at least one photo.");
    const data = new FormData();
    for (const photo of photos) data.append("image", photo.file, photo.file.name);
    for (const photo of photos) data.append("alt_text", photo.alt.trim());
    data.append("caption", caption.value);
    const place = form.elements.location_name.value.trim();
    if (place) data.append("location_name", place);
    data.append("filter", filterName());
    showError("");
    showStep("status", statusLine);
    steps.status.classList.remove("is-done");
    statusLine.textContent = "Uploading…";
    let post;
    try {
      post = await upload("post", data, (percent) => {
        statusLine.textContent = `Uploading… ${percent}%`;
      });
    } catch (err) {
      showStep("edit", form.querySelector("[data-share]"));
      showError(err.message);
      return;
    }
    statusLine.textContent = "Processing…";
    section.dataset.postId = post.id;
    try {
      post = await waitUntilProcessed("post", post.id);
    } catch (err) {
      statusLine.textContent = "Processing… (we lost touch with the server; check your profile soon)";
      return;
    }
    steps.status.classList.add("is-done");
    const link = form.querySelector("[data-post-link]");
    link.href = `/p/${post.id}`;
    if (post.status === "published") {
      statusLine.textContent = "Your post has been shared.";
      form.querySelector("[data-upload-done]").hidden = false;
    } else if (post.status === "failed") {
      statusLine.textContent = `Your post could not be processed: ${post.failure_reason || "unknown reason"}.`;
    } else {
      statusLine.textContent = "Still processing. It will appear on your profile when it's ready.";
      form.querySelector("[data-upload-done]").hidden = false;
    }
  }
}

onHydrate((root) => {
  const section = root.querySelector("[data-upload]");
  if (section && !section.dataset.ready) {
    section.dataset.ready = "1";
    setup(section);
  }
});
