/* Browse one sheet: every row with its handwriting; fix any row, including the
   ones the machine thought blank. Each row carries the version it was loaded at.
   When the scan kept the whole page, clicking a row's outline on it picks that row. */
"use strict";

(function () {
  const KEYS = { KeyU: "unreadable", KeyN: "not_signature", KeyX: "crossed_out", KeyR: "reopen" };
  // Latin keys type Cyrillic (translit.js): on from the start on a Cyrillic sheet.
  const translitButton = document.getElementById("translit-toggle");
  const cyrillicKeys = TRANSLIT.toggle(translitButton, document.getElementById("translit-help"));
  cyrillicKeys.set(translitButton.dataset.alphabet === "cyrillic");
  document.querySelectorAll("input.name-input").forEach(function (b) { TRANSLIT.attach(b, cyrillicKeys.isOn); });

  function rowOf(node) { return node && node.closest ? node.closest(".sheet-row") : null; }

  function show(li, row, note) {
    const wasSelected = li.classList.contains("selected");
    li.dataset.version = String(row.version);
    li.dataset.status = row.status;
    li.className = "sheet-row status-" + row.status + (wasSelected ? " selected" : "");
    li.querySelector("[data-badge]").textContent = PS.statusWord(row.status);
    row.fields.forEach(function (f) {
      const box = li.querySelector('input[data-field="' + f.field + '"]');
      if (box) box.value = f.current;
    });
    const banner = li.querySelector("[data-banner]");
    banner.textContent = note || "";
    banner.hidden = !note;
    const outline = pageRow(li.dataset.rowId);
    if (outline) {
      outline.setAttribute("class", "page-row status-" + row.status + (outline === selectedBox ? " selected" : ""));
      outline.setAttribute("aria-label", "row " + row.row_no + ", " + PS.statusWord(row.status));
      outline.querySelector("title").textContent = "Row " + row.row_no + ": " + PS.statusWord(row.status) +
        (row.name ? " \u00b7 " + row.name : "");
    }
  }

  // --- the scanned page: its row outlines select rows in the list, and the other way round ---
  const svg = document.getElementById("page");
  let selectedBox = null;

  function pageRow(rowId) {
    return svg ? svg.querySelector('.page-row[data-row-id="' + rowId + '"]') : null;
  }

  function select(li, fromPage) {
    document.querySelectorAll(".sheet-row.selected").forEach(function (x) { if (x !== li) x.classList.remove("selected"); });
    li.classList.add("selected");
    const box = pageRow(li.dataset.rowId);
    if (selectedBox && selectedBox !== box) selectedBox.classList.remove("selected");
    selectedBox = box;
    if (box) {
      box.classList.add("selected");
      if (!fromPage) reveal(box, false);
    }
  }

  /* Scroll the page panel (never the window) so the row's outline is in view. */
  function reveal(box, centre) {
    const scroller = svg.parentElement;
    const r = box.getBoundingClientRect(), s = scroller.getBoundingClientRect();
    const inside = r.top >= s.top && r.bottom <= s.bottom && r.left >= s.left && r.right <= s.right;
    if (inside && !centre) return;
    scroller.scrollTop += (r.top + r.height / 2) - (s.top + s.height / 2);
    if (r.left < s.left || r.right > s.right) scroller.scrollLeft += r.left - s.left - 8;
  }

  if (svg) {
    svg.addEventListener("click", function (e) {
      const box = e.target.closest ? e.target.closest("a.page-row") : null;
      if (!box) return;
      e.preventDefault();
      const li = document.getElementById("row-" + box.dataset.rowId);
      if (!li) return;
      select(li, true);
      li.scrollIntoView({ block: "center" });
      const input = li.querySelector("input.name-input");
      if (input) { input.focus({ preventScroll: true }); input.select(); }
    });
    const scroller = svg.parentElement;
    document.querySelectorAll("button[data-zoom]").forEach(function (b) {
      b.addEventListener("click", function () {
        // keep the middle of what is shown in the middle after zooming
        const before = scroller.scrollWidth, beforeH = scroller.scrollHeight;
        const cx = (scroller.scrollLeft + scroller.clientWidth / 2) / before;
        const cy = (scroller.scrollTop + scroller.clientHeight / 2) / beforeH;
        scroller.dataset.zoom = b.dataset.zoom;
        document.querySelectorAll("button[data-zoom]").forEach(function (o) {
          o.setAttribute("aria-pressed", String(o === b));
        });
        if (selectedBox) { reveal(selectedBox, true); return; }  // zoom into the row being fixed
        scroller.scrollLeft = cx * scroller.scrollWidth - scroller.clientWidth / 2;
        scroller.scrollTop = cy * scroller.scrollHeight - scroller.clientHeight / 2;
      });
    });
  }

  document.addEventListener("focusin", function (e) {
    const li = rowOf(e.target);
    if (li) select(li, false);
  });

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
    if (e.altKey && !e.ctrlKey && !e.metaKey && e.code === "KeyK") { e.preventDefault(); cyrillicKeys.flip(); return; }
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
