// Uploading a post or a story with progress, then waiting for it to leave "processing": the
// stream says when it is published or failed; a slow poll covers an event gone astray, a faster
// one a stream that is down.
import { api, apiHeaders, errorFrom } from "./api.js";
import * as stream from "./stream.js";

const FALLBACK_POLL_MS = 3000; // the stream is down: ask this often
const SAFETY_POLL_MS = 20_000; // the stream is up: ask rarely, in case an event went astray
const POLL_LIMIT_MS = 5 * 60 * 1000;
const MAX_POLL_FAILURES = 3;
const PATHS = { post: "/posts/", story: "/stories/" };

// kind: "post" or "story"; resolves with the accepted item (202), rejects with an ApiError
// carrying `retryAfter`. XMLHttpRequest rather than fetch: it reports upload progress.
export function upload(kind, data, onProgress) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", `/api/v1${kind === "post" ? "/posts" : "/stories"}`);
    for (const [name, value] of Object.entries(apiHeaders())) request.setRequestHeader(name, value);
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(Math.round((100 * event.loaded) / event.total));
    });
    request.addEventListener("load", () => {
      let body = null;
      try {
        body = JSON.parse(request.responseText);
      } catch (err) {
        body = null;
      }
      if (request.status === 202) return resolve(body);
      if (request.status === 401) {
        window.location.assign(`/login?next=${encodeURIComponent(location.pathname)}`);
      }
      const error = errorFrom(request.status, body);
      error.retryAfter = request.getResponseHeader("Retry-After");
      reject(error);
    });
    request.addEventListener("error", () => reject(new Error("The upload failed. Check your connection.")));
    request.send(data);
  });
}

// kind: "post" or "story"; resolves with the item once it is no longer processing.
export function waitUntilProcessed(kind, id) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const stops = [];
    let timer = 0;
    let failures = 0;
    let done = false;
    const finish = (error, item) => {
      if (done) return;
      done = true;
      window.clearTimeout(timer);
      for (const stop of stops) stop();
      if (error) reject(error);
      else resolve(item);
    };
    const ours = (item) => item && String(item.id) === String(id);
    const ask = async () => {
      timer = 0;
      try {
        const item = await api("GET", `${PATHS[kind]}${id}`);
        failures = 0;
        if (item.status !== "processing" || Date.now() - started > POLL_LIMIT_MS) return finish(null, item);
      } catch (err) {
        failures += 1;
        if (failures >= MAX_POLL_FAILURES) return finish(err);
      }
      later();
    };
    const later = () => {
      if (done) return;
      window.clearTimeout(timer);
      timer = window.setTimeout(ask, stream.isOpen() ? SAFETY_POLL_MS : FALLBACK_POLL_MS);
    };
    stops.push(stream.on(`${kind}.published`, (item) => ours(item) && finish(null, item)));
    stops.push(stream.on(`${kind}.failed`, (item) => ours(item) && finish(null, item)));
    stops.push(stream.on("resync", () => !done && ask()));
    stops.push(stream.onStatus(later)); // down: ask sooner; back up: the replay tells us
    later();
  });
}
