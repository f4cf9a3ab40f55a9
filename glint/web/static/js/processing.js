// Waiting for an upload (a post or a story) to leave "processing": the stream says when it is
// published or failed; a slow poll covers an event gone astray, a faster one a stream that is down.
import { api } from "./api.js";
import * as stream from "./stream.js";

const FALLBACK_POLL_MS = 3000; // the stream is down: ask this often
const SAFETY_POLL_MS = 20_000; // the stream is up: ask rarely, in case an event went astray
const POLL_LIMIT_MS = 5 * 60 * 1000;
const MAX_POLL_FAILURES = 3;
const PATHS = { post: "/posts/", story: "/stories/" };

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
