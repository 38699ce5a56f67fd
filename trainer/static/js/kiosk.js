// Kiosk mode. On the code page: a code carried by a card's QR link (after '#', never sent to
// the server) fills the box and signs in. In a kiosk session: sign out after the set time
// without input, and tell the server about input now and then, so its own idle check agrees.
(function () {
  var codeForm = document.getElementById("kiosk-code-form");
  if (codeForm) {
    var match = /[#&]code=([A-Za-z0-9-]{4,40})/.exec(window.location.hash);
    var box = codeForm.querySelector("input[name=code]");
    if (match && box) {
      history.replaceState(null, "", window.location.pathname);  // the code leaves the history
      box.value = match[1];
      codeForm.submit();
    } else if (box && !box.value) {
      box.focus();
    }
  }

  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });

  var signOut = document.getElementById("kiosk-sign-out");
  if (!signOut) return;
  var idleMs = parseInt(signOut.dataset.idle, 10) * 1000;
  var warnMs = 20000;
  var status = document.getElementById("kiosk-idle");
  var usual = status.textContent;
  var token = signOut.querySelector("input[name=csrf_token]").value;
  var lastInput = Date.now();
  var lastPing = Date.now();
  var gone = false;

  function input() {
    lastInput = Date.now();
    if (status.textContent !== usual) status.textContent = usual;
    if (Date.now() - lastPing > 15000) {
      lastPing = Date.now();
      fetch(signOut.dataset.alive, {
        method: "POST", credentials: "same-origin", headers: {"X-CSRFToken": token}
      }).catch(function () {});
    }
  }
  ["pointerdown", "keydown", "scroll", "wheel", "touchstart", "input"].forEach(function (name) {
    window.addEventListener(name, input, {passive: true, capture: true});
  });
  setInterval(function () {
    var left = idleMs - (Date.now() - lastInput);
    if (left <= 0 && !gone) {
      gone = true;
      signOut.querySelector("input[name=reason]").value = "idle";
      signOut.submit();
    } else if (left <= warnMs && !gone && status.textContent === usual) {
      // Said once, not every second: a screen reader reads each change aloud.
      status.textContent = signOut.dataset.warning.replace("{s}", Math.ceil(left / 1000));
    }
  }, 1000);
})();
