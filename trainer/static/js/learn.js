// Show the certificate's print button (it needs JavaScript) and print when it is pressed.
document.querySelectorAll("[data-print]").forEach((button) => {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
});
