/* Probable duplicates side by side: S = same person, D = different people, J/K = move. */
"use strict";

(function () {
  const pairs = Array.from(document.querySelectorAll(".pair"));
  let at = pairs.findIndex(function (p) { return !p.classList.contains("decided"); });
  if (at < 0) at = 0;

  function focusPair(i) {
    if (!pairs.length) return;
    at = Math.max(0, Math.min(pairs.length - 1, i));
    pairs.forEach(function (p, k) { p.classList.toggle("current", k === at); });
    pairs[at].focus({ preventScroll: true });
    pairs[at].scrollIntoView({ block: "center" });
  }

  function stateText(d) {
    return (d.decision === "same" ? "Same person" : "Different people") + " — " + (d.decided_by || "?") +
      ", " + d.decided_at;
  }

  async function decide(pair, decision) {
    if (pair.dataset.busy) return;
    pair.dataset.busy = "1";
    const r = await PS.api("POST", "/api/duplicates/decision", {
      row_a: Number(pair.dataset.rowA), row_b: Number(pair.dataset.rowB),
      decision: decision, seen: pair.dataset.seen,
    });
    delete pair.dataset.busy;
    const banner = pair.querySelector("[data-banner]");
    if (r.status === 200) {
      pair.dataset.seen = r.data.decision.stamp;
      pair.classList.add("decided");
      pair.querySelector("[data-state]").textContent = stateText(r.data.decision);
      banner.hidden = true;
      if (pairs[at] === pair) focusPair(at + 1);
    } else if (r.status === 409) {
      const d = r.data.current;
      pair.dataset.seen = d ? d.stamp : "";
      pair.querySelector("[data-state]").textContent = d ? stateText(d) : "Not decided";
      banner.textContent = "Someone else decided this pair meanwhile; their decision is shown. " +
        "Decide again to change it.";
      banner.hidden = false;
    } else {
      banner.textContent = r.data.error || "not saved";
      banner.hidden = false;
    }
  }

  document.addEventListener("click", function (e) {
    const button = e.target.closest ? e.target.closest("button[data-decision]") : null;
    const pair = button ? button.closest(".pair") : null;
    if (pair) {
      at = pairs.indexOf(pair);
      PS.withReviewer(function () { decide(pair, button.dataset.decision); });
    }
  });

  document.addEventListener("keydown", function (e) {
    if (PS.dialogOpen() || e.ctrlKey || e.metaKey || !pairs.length) return;
    const tag = document.activeElement ? document.activeElement.tagName : "";
    if (tag === "INPUT" || tag === "TEXTAREA") return;
    const pair = pairs[at];
    if (e.code === "KeyS") { e.preventDefault(); PS.withReviewer(function () { decide(pair, "same"); }); }
    else if (e.code === "KeyD") { e.preventDefault(); PS.withReviewer(function () { decide(pair, "different"); }); }
    else if (e.code === "KeyJ") { e.preventDefault(); focusPair(at + 1); }
    else if (e.code === "KeyK") { e.preventDefault(); focusPair(at - 1); }
  });

  focusPair(at);
})();
