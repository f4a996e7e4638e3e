// The gateway's one script, served from /static: the pages' Content-Security-Policy
// allows no inline script. A button marked data-print prints the page (a receipt, a letter).
document.addEventListener("click", (event) => {
  if (event.target instanceof Element && event.target.closest("[data-print]")) {
    window.print();
  }
});
