// The theme toggle in the top bar: flips between light and dark at once (no reload) and
// remembers the choice. js/theme.js applies it on the next page before the first paint.
export const THEME_KEY = "glint-theme";
const media = window.matchMedia("(prefers-color-scheme: dark)");

export function storedTheme() {
  try {
    const value = localStorage.getItem(THEME_KEY);
    return value === "dark" || value === "light" ? value : null;
  } catch (err) {
    return null;
  }
}

/** Put a theme in force; null means the OS preference. */
export function applyTheme(theme) {
  const effective = theme || (media.matches ? "dark" : "light");
  document.documentElement.setAttribute("data-theme", effective);
  for (const button of document.querySelectorAll("[data-theme-toggle]")) {
    button.setAttribute("aria-label", effective === "dark" ? "Switch to light mode" : "Switch to dark mode");
    button.setAttribute("aria-pressed", String(effective === "dark"));
  }
}

export function toggleTheme() {
  const next = document.documentElement.getAttribute("data-theme") === "dark" ? "light" : "dark";
  try {
    localStorage.setItem(THEME_KEY, next);
  } catch (err) {
    // storage blocked: switch for this page only
  }
  applyTheme(next);
}

document.addEventListener("click", (event) => {
  if (event.target.closest("[data-theme-toggle]")) toggleTheme();
});
media.addEventListener("change", () => applyTheme(storedTheme()));
applyTheme(storedTheme());
