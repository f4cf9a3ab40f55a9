// Search boxes with typeahead: as you type (after a 150 ms pause) people and hashtags come
// from GET /api/v1/search into a listbox under the box, an ARIA combobox: arrow keys move
// through it, Enter opens the chosen one (or, with none chosen, the results page), Escape
// closes it. Every text goes in with textContent (dom.js's h), never as HTML.
import { api } from "./api.js";
import { h } from "./dom.js";

const DEBOUNCE_MS = 150;
const LIMIT = 8; // what the API returns of each list
const SHOWN = 8; // rows in the list, people first, keeping room for a few hashtags
const MIN_TAGS = 3;
const MIN_LENGTH = 2;

function avatar(user) {
  const inner = user.avatar_url
    ? h("img", { src: user.avatar_url, alt: "", width: 150, height: 150, decoding: "async" })
    : h("span", { class: "avatar-letter", "aria-hidden": "true" }, user.username.slice(0, 1).toUpperCase());
  return h("span", { class: "avatar avatar-sm" }, inner);
}

/** The rows to show: people, then hashtags, SHOWN at most with room kept for some tags. */
function pick(body) {
  const tags = body.hashtags.slice(0, Math.max(MIN_TAGS, SHOWN - body.users.length));
  const users = body.users.slice(0, SHOWN - tags.length);
  return [
    ...users.map((user) => ({
      href: `/${encodeURIComponent(user.username)}`,
      label: user.username,
      node: [
        avatar(user),
        h(
          "span",
          { class: "search-suggest-names" },
          h("span", { class: "username" }, user.username),
          user.display_name ? h("span", { class: "muted" }, user.display_name) : null,
        ),
      ],
    })),
    ...tags.map((tag) => ({
      href: `/explore/tags/${encodeURIComponent(tag.name)}`,
      label: `#${tag.name}`,
      node: [
        h("span", { class: "tag-mark tag-mark-sm", "aria-hidden": "true" }, "#"),
        h(
          "span",
          { class: "search-suggest-names" },
          h("span", { class: "username" }, `#${tag.name}`),
          h("span", { class: "muted" }, `${tag.post_count.toLocaleString("en-US")} ${tag.post_count === 1 ? "post" : "posts"}`),
        ),
      ],
    })),
  ];
}

function setUp(form) {
  const input = form.querySelector("[data-search-input]");
  const list = form.querySelector("[data-search-list]");
  const status = form.querySelector("[data-search-status]");
  if (!input || !list || form.dataset.searchReady) return;
  form.dataset.searchReady = "true";
  const cache = new Map();
  let timer = 0;
  let latest = 0;
  let rows = [];
  let active = -1;

  const resultsUrl = () => `/search?${new URLSearchParams({ q: input.value.trim() })}`;

  function close() {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function highlight(index) {
    const options = list.querySelectorAll("[role=option]");
    active = index;
    options.forEach((option, i) => option.setAttribute("aria-selected", String(i === index)));
    if (index >= 0 && options[index]) {
      input.setAttribute("aria-activedescendant", options[index].id);
      options[index].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function show(query, body) {
    rows = pick(body);
    rows.push({ href: null, label: `See all results for “${query}”`, node: [h("span", { class: "search-suggest-all" }, `See all results for “${query}”`)] });
    const options = rows.map((row, i) =>
      h("li", { id: `${list.id}-${i}`, role: "option", class: "search-suggest-item", "aria-selected": "false" }, row.node),
    );
    list.replaceChildren(...options);
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
    active = -1;
    const found = rows.length - 1;
    status.textContent = found ? `${found} suggestion${found === 1 ? "" : "s"}` : "No suggestions";
  }

  function go(index) {
    const row = rows[index];
    close();
    window.location.assign(row && row.href ? row.href : resultsUrl());
  }

  async function lookUp() {
    const query = input.value.trim();
    if (query.length < MIN_LENGTH) {
      close();
      return;
    }
    const ticket = ++latest;
    let body = cache.get(query);
    if (!body) {
      try {
        // People and hashtags only: the caption search is for the results page.
        const params = new URLSearchParams([
          ["q", query],
          ["limit", String(LIMIT)],
          ["type", "users"],
          ["type", "hashtags"],
        ]);
        body = await api("GET", `/search?${params}`);
      } catch (err) {
        return; // the results page still works: Enter opens it
      }
      cache.set(query, body);
    }
    // An answer that arrives after a newer keystroke's is dropped.
    if (ticket === latest && input.value.trim() === query && document.activeElement === input) show(query, body);
  }

  input.addEventListener("input", () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(lookUp, DEBOUNCE_MS);
  });

  input.addEventListener("focus", () => {
    if (input.value.trim().length >= MIN_LENGTH && list.childElementCount) lookUp();
  });

  input.addEventListener("keydown", (event) => {
    const open = !list.hidden && rows.length > 0;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!open) return;
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      const next = active + step;
      highlight(next < -1 ? rows.length - 1 : next >= rows.length ? -1 : next);
    } else if (event.key === "Enter") {
      if (open && active >= 0) {
        event.preventDefault();
        go(active);
      } else if (!input.value.trim()) {
        event.preventDefault(); // an empty search goes nowhere
      } else {
        close(); // the form submits: the results page
      }
    } else if (event.key === "Escape") {
      if (open) {
        event.preventDefault();
        close();
      }
    }
  });

  // Options are not focusable: a press keeps the focus in the box, a click opens the row.
  list.addEventListener("mousedown", (event) => event.preventDefault());
  list.addEventListener("click", (event) => {
    const option = event.target.closest("[role=option]");
    if (!option) return;
    go([...list.children].indexOf(option));
  });
  list.addEventListener("mousemove", (event) => {
    const option = event.target.closest("[role=option]");
    if (option) highlight([...list.children].indexOf(option));
  });

  input.addEventListener("blur", close);
  form.addEventListener("submit", (event) => {
    if (!input.value.trim()) event.preventDefault();
  });
}

for (const form of document.querySelectorAll("[data-search]")) setUp(form);
