/* Browse one sheet: every row with its handwriting; fix any row, including the
   ones the machine thought blank. Each row carries the version it was loaded at. */
"use strict";

(function () {
  const KEYS = { KeyU: "unreadable", KeyN: "not_signature", KeyX: "crossed_out", KeyR: "reopen" };

  function rowOf(node) { return node && node.closest ? node.closest(".sheet-row") : null; }

  function show(li, row, note) {
    li.dataset.version = String(row.version);
    li.dataset.status = row.status;
    li.className = "sheet-row status-" + row.status;
    li.querySelector("[data-badge]").textContent = PS.statusWord(row.status);
    row.fields.forEach(function (f) {
      const box = li.querySelector('input[data-field="' + f.field + '"]');
      if (box) box.value = f.current;
    });
    const banner = li.querySelector("[data-banner]");
    banner.textContent = note || "";
    banner.hidden = !note;
  }

  async function decide(li, decision) {
    if (li.dataset.busy) return;
    const values = {};
    li.querySelectorAll("input.name-input").forEach(function (b) { values[b.dataset.field] = b.value; });
    li.dataset.busy = "1";
    const r = await PS.api("POST", "/api/rows/" + li.dataset.rowId + "/decision",
      { version: Number(li.dataset.version), decision: decision, values: values });
    delete li.dataset.busy;
    if (r.status === 200) {
      PS.setProgress(r.data.progress);
      show(li, r.data.row, "");
      PS.toast("Saved: row " + r.data.row.row_no + " is " + PS.statusWord(r.data.row.status) + ".");
    } else if (r.status === 409 && r.data.current) {
      PS.setProgress(r.data.progress);
      show(li, r.data.current, PS.describeOther(r.data.current, r.data.last) +
        " Their decision is shown; change it again if you must.");
    } else {
      const banner = li.querySelector("[data-banner]");
      banner.textContent = r.data.error || "not saved";
      banner.hidden = false;
    }
  }

  document.addEventListener("click", function (e) {
    const button = e.target.closest ? e.target.closest("button[data-decision]") : null;
    const li = rowOf(button);
    if (li) PS.withReviewer(function () { decide(li, button.dataset.decision); });
  });

  document.addEventListener("keydown", function (e) {
    if (PS.dialogOpen()) return;
    const li = rowOf(document.activeElement);
    if (!li) return;
    if (e.key === "Enter" && !e.altKey && !e.ctrlKey && !e.metaKey && document.activeElement.tagName === "INPUT") {
      e.preventDefault();
      PS.withReviewer(function () { decide(li, "confirm"); });
    } else if (e.altKey && !e.ctrlKey && !e.metaKey && KEYS[e.code]) {
      e.preventDefault();
      PS.withReviewer(function () { decide(li, KEYS[e.code]); });
    }
  });
})();
