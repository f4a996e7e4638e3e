// The gateway's one script, served from /static: the pages' Content-Security-Policy
// allows no inline script. A button marked data-print prints the page (a receipt, a letter).
document.addEventListener("click", (event) => {
  if (event.target instanceof Element && event.target.closest("[data-print]")) {
    window.print();
  }
});

// The console's queue asks for its rows again every 20 seconds while it is in view, so a
// new complaint appears without a reload. A failed request keeps the rows it has.
const REFRESH_MS = 20000;
document.querySelectorAll("[data-refresh]").forEach((rows) => {
  const refresh = async () => {
    if (document.visibilityState !== "visible") return;
    try {
      const answer = await fetch(rows.dataset.refresh, { credentials: "same-origin" });
      if (answer.redirected) {
        window.location.reload(); // signed out meanwhile: the page takes them to sign in
        return;
      }
      if (answer.ok && answer.headers.get("Content-Type")?.startsWith("text/html")) {
        rows.innerHTML = await answer.text();
        rows.dataset.refreshedAt = String(Date.now());
      }
    } catch (error) {
      // offline for a moment: try again at the next tick
    }
  };
  setInterval(refresh, Number(rows.dataset.refreshMs || REFRESH_MS));
});

// On a phone the queue's filters beyond the search box start folded (unless one is on),
// so the cases come first; without script they simply stay open.
if (window.matchMedia("(max-width: 45rem)").matches) {
  document.querySelectorAll("details[data-fold-on-phone]").forEach((d) => d.removeAttribute("open"));
}
