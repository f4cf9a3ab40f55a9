// Times in the reader's own time zone. The server writes <time datetime="…Z"> with a relative
// label ("5m", "3h", "2d") and a UTC title as the fallback; here the label is recomputed from
// the ISO timestamp (and kept fresh each minute) and the title becomes the full local date.
// A <time data-abs>, or one whose text is its title (a full date), shows the full local date.
import { onHydrate } from "./dom.js";

const RELATIVE = "time[datetime][title]:not([data-story-time]), time[datetime][data-rel]";
const ABSOLUTE = "time[datetime][data-abs]";

/** "just now", "5m", "3h", "2d", "4w", then "Mar 3" (this year) or "Mar 3, 2025". */
export function relativeLabel(when, now = new Date()) {
  const seconds = Math.floor((now - when) / 1000);
  if (seconds < 60) return "just now";
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h`;
  const days = Math.floor(seconds / 86400);
  if (days < 7) return `${days}d`;
  if (days < 28) return `${Math.floor(days / 7)}w`;
  const options = { month: "short", day: "numeric" };
  if (when.getFullYear() !== now.getFullYear()) options.year = "numeric";
  return when.toLocaleDateString(undefined, options);
}

/** The full local date and time, e.g. "December 1, 2026 at 1:40 PM". */
export function fullLabel(when) {
  return when.toLocaleString(undefined, { dateStyle: "long", timeStyle: "short" });
}

function parsed(el) {
  const when = new Date(el.getAttribute("datetime"));
  return Number.isNaN(when.getTime()) ? null : when;
}

function localise(root) {
  const now = new Date();
  for (const el of root.querySelectorAll(RELATIVE)) {
    const when = parsed(el);
    if (!when) continue;
    const absolute = el.dataset.localised === "abs" || el.textContent.trim() === el.title.trim();
    el.dataset.localised = absolute ? "abs" : "rel";
    el.textContent = absolute ? fullLabel(when) : relativeLabel(when, now);
    el.title = fullLabel(when);
  }
  for (const el of root.querySelectorAll(ABSOLUTE)) {
    const when = parsed(el);
    if (when) el.textContent = fullLabel(when);
  }
}

onHydrate(localise);
window.setInterval(() => localise(document), 60_000);
