// Settings: a chosen profile photo uploads at once; the theme can follow the system again.
import { onHydrate } from "./dom.js";
import { applyTheme, storedTheme, THEME_KEY } from "./theme-switch.js";

onHydrate((root) => {
  for (const input of root.querySelectorAll("input[data-autosubmit]")) {
    input.addEventListener("change", () => {
      if (input.files && input.files.length) input.form.requestSubmit();
    });
  }
  const choice = root.querySelector("[data-theme-choice]");
  if (!choice) return;
  const current = storedTheme() || "system";
  const radio = choice.querySelector(`input[value="${current}"]`);
  if (radio) radio.checked = true;
  choice.addEventListener("change", (event) => {
    const value = event.target.value;
    try {
      if (value === "system") localStorage.removeItem(THEME_KEY);
      else localStorage.setItem(THEME_KEY, value);
    } catch (err) {
      // storage blocked: the choice lasts for this page only
    }
    applyTheme(value === "system" ? null : value);
  });
});
