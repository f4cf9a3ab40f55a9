// Small DOM helpers. User text only ever reaches the page as text nodes or attribute values,
// never as HTML: there is no innerHTML anywhere in these modules.

const hydrators = [];

/** Register a function that wires up behaviour inside a piece of page (initial or appended). */
export function onHydrate(fn) {
  hydrators.push(fn);
}

/** Run every registered hydrator on a root (the document, or freshly appended nodes). */
export function hydrate(root) {
  for (const fn of hydrators) {
    fn(root);
  }
}

/** Build an element: h("a", {href: "/x", class: "y"}, "text", child). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (/^on/i.test(name)) throw new Error("event handlers are attached with addEventListener");
    if (name === "class") el.className = value;
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

// Hashtags and mentions as the server's glint/posts/text.py finds them.
const ENTITY = /(?<![\p{L}\p{N}_&])#([\p{L}\p{N}_]{1,100})|(?<![\p{L}\p{N}_@])@([A-Za-z0-9._]{3,30})/gu;

/** Caption or comment text with #tags and @names as links, built from text nodes. */
export function linkified(text) {
  const out = document.createDocumentFragment();
  let position = 0;
  for (const match of text.matchAll(ENTITY)) {
    const [whole, tag, name] = match;
    if (tag !== undefined && /^\d+$/.test(tag)) continue;
    let end = match.index + whole.length;
    let link;
    if (tag !== undefined) {
      link = h("a", { class: "tag", href: `/explore/tags/${encodeURIComponent(tag.toLowerCase())}` }, `#${tag}`);
    } else {
      const trimmed = name.replace(/\.+$/, "");
      if (trimmed.length < 3) continue;
      end = match.index + 1 + trimmed.length;
      link = h("a", { class: "mention", href: `/${encodeURIComponent(trimmed.toLowerCase())}` }, `@${trimmed}`);
    }
    out.append(text.slice(position, match.index), link);
    position = end;
  }
  out.append(text.slice(position));
  return out;
}

/**
 * Mark a button busy while its action runs: aria-disabled, not `disabled`, because disabling
 * the focused button drops keyboard focus to <body>. False when it is busy already (a second
 * press is ignored); release() ends it.
 */
export function hold(button) {
  if (button.getAttribute("aria-disabled") === "true") return false;
  button.setAttribute("aria-disabled", "true");
  return true;
}

export function release(button) {
  button.removeAttribute("aria-disabled");
}

/** Move the focus to `target` when it would otherwise be lost: on <body>, or on `from` (an
 *  element being hidden or replaced). */
export function keepFocus(target, from = null) {
  const active = document.activeElement;
  if (!target || (active && active !== document.body && active !== from && active.isConnected)) return;
  target.focus();
}

let toastTimer = 0;

/** A short message at the bottom of the screen. */
export function toast(message) {
  const box = document.querySelector("[data-toast]");
  if (!box) return;
  box.textContent = message;
  box.hidden = false;
  window.clearTimeout(toastTimer);
  toastTimer = window.setTimeout(() => {
    box.hidden = true;
  }, 3500);
}

/** "1 like" / "2 likes", with thousands separators. */
export function plural(count, word) {
  return `${count.toLocaleString("en-US")} ${count === 1 ? word : `${word}s`}`;
}
