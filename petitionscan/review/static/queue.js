/* The review queue: one uncertain row at a time, driven from the keyboard.
   Every decision is sent and committed before the next row shows; the next
   rows and their images are fetched ahead so that moving on is instant. */
"use strict";

(function () {
  // One id per browser tab, kept across reloads, so a reload gets back the rows this tab was given.
  const CLIENT = (function () {
    const fresh = Math.random().toString(36).slice(2) + Date.now().toString(36);
    try {
      const kept = sessionStorage.getItem("ps-client");
      if (kept) return kept;
      sessionStorage.setItem("ps-client", fresh);
    } catch (err) { /* storage disabled: a fresh id per load still works */ }
    return fresh;
  })();
  const PREFETCH = 10;
  const REFILL_BELOW = 5;

  const card = document.getElementById("card");
  const empty = document.getElementById("empty");
  const loading = document.getElementById("loading");
  const crop = document.getElementById("crop");
  const noCrop = document.getElementById("no-crop");
  const banner = document.getElementById("banner");
  const fieldsBox = document.getElementById("fields");
  const escapeBox = document.getElementById("escape-mode");
  // Latin keys type Cyrillic: on by default for rows of Cyrillic sheets (see translit.js).
  const translitButton = document.getElementById("translit-toggle");
  const cyrillicKeys = TRANSLIT.toggle(translitButton, document.getElementById("translit-help"));

  let buffer = [];          // rows fetched ahead, in queue order
  let current = null;       // the row on screen
  const decided = [];       // ids decided in this window, newest last (for Back)
  const skipped = new Set();
  const images = new Map(); // id -> preloading Image
  let busy = false;
  let escapeMode = false;
  let refilling = null;
  const cropWidth = Math.min(1800, Math.round(Math.min(document.querySelector("main").clientWidth, 1100) *
    (window.devicePixelRatio || 1)));

  function cropUrl(id) { return "/crop/" + id + ".png?w=" + cropWidth; }

  function preload(row) {
    if (row.has_crop && !images.has(row.id)) {
      const img = new Image();
      img.src = cropUrl(row.id);
      images.set(row.id, img);
    }
  }

  function refill() {
    if (refilling) return refilling;
    const known = new Set(buffer.map(function (r) { return r.id; }));
    if (current) known.add(current.id);
    skipped.forEach(function (id) { known.add(id); });
    decided.slice(-200).forEach(function (id) { known.add(id); });
    const url = "/api/queue?limit=" + PREFETCH + "&client=" + encodeURIComponent(CLIENT) +
      "&exclude=" + Array.from(known).join(",");
    refilling = PS.api("GET", url).then(function (r) {
      refilling = null;
      if (r.status !== 200) { showBanner(r.data.error || "could not load the queue"); return; }
      PS.setProgress(r.data.progress);
      r.data.rows.forEach(function (row) {
        if (!known.has(row.id)) { buffer.push(row); known.add(row.id); preload(row); }
      });
    });
    return refilling;
  }

  function showBanner(text) {
    banner.textContent = text;
    banner.hidden = !text;
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function percent(p) { return Math.round(p * 100) + "%"; }

  function renderField(field) {
    const block = el("div", "field-block");
    const label = el("label", "field-label", field.label);
    const byPos = new Map(field.letters.map(function (l) { return [l.position, l]; }));
    const reading = el("div", "reading");
    reading.setAttribute("aria-label", "machine reading: " + (field.machine_text || "nothing"));
    const text = field.machine_text || "";
    if (!text) reading.appendChild(el("span", "muted", "(the machine read nothing)"));
    for (let i = 0; i < text.length; i++) {
      const letter = byPos.get(i);
      const col = el("div", "col" + (text[i] === " " ? " gap" : "") + (letter && letter.uncertain ? " low" : "") +
        (letter && letter.overruled ? " overruled" : ""));
      col.appendChild(el("span", "ch", text[i] === " " ? "\u00a0" : text[i]));
      if (letter) {
        col.title = "read as " + letter.char + " with " + percent(letter.probability);
        if (letter.overruled) {
          /* The name lists changed this letter: the letter the network saw comes first, marked. */
          col.title = "the network saw " + letter.alternatives[1][0] + " (" + percent(letter.alternatives[1][1]) +
            "); the name lists made it " + letter.char;
        }
        col.appendChild(el("span", "p", percent(letter.probability)));
        letter.alternatives.slice(1).forEach(function (alt, rank) {
          const saw = letter.overruled && rank === 0;
          const b = el("button", "alt" + (saw ? " saw" : ""), (saw ? "saw " : "") + alt[0] + " " + percent(alt[1]));
          b.type = "button";
          b.tabIndex = -1;
          b.addEventListener("click", function () { useAlternative(field.field, i, alt[0]); });
          col.appendChild(b);
        });
      }
      reading.appendChild(col);
    }
    const input = el("input", "name-input");
    input.value = field.current;
    input.dataset.field = field.field;
    input.maxLength = 120;
    input.autocomplete = "off";
    input.spellcheck = false;
    input.setAttribute("aria-label", field.label);
    TRANSLIT.attach(input, cyrillicKeys.isOn);
    label.appendChild(input);
    block.appendChild(reading);
    block.appendChild(label);
    return block;
  }

  function inputs() { return Array.from(fieldsBox.querySelectorAll("input.name-input")); }

  function render(row, note) {
    current = row;
    card.dataset.rowId = String(row.id);
    card.dataset.status = row.status;
    loading.hidden = true;
    empty.hidden = true;
    card.hidden = false;
    document.getElementById("where").textContent = "Sheet " + row.serial +
      (row.copy_no > 1 ? " (copy " + row.copy_no + ")" : "") + " · row " + row.row_no;
    document.getElementById("confidence").textContent =
      row.confidence === null ? "" : "machine " + percent(row.confidence) + " sure";
    document.getElementById("state").textContent = row.status === "needs_review" ? "" :
      "now: " + PS.statusWord(row.status) + (row.updated_by ? " by " + row.updated_by : "");
    if (row.has_crop) {
      crop.hidden = false;
      noCrop.hidden = true;
      crop.src = cropUrl(row.id);
    } else {
      crop.hidden = true;
      crop.removeAttribute("src");
      noCrop.hidden = false;
    }
    images.delete(row.id);
    cyrillicKeys.set(writesCyrillic(row));
    fieldsBox.replaceChildren.apply(fieldsBox, row.fields.map(renderField));
    showBanner(note || "");
    focusFirstDoubt();
  }

  /* A Cyrillic sheet's rows, and rows of a Latin-or-Cyrillic sheet that the machine read in Cyrillic. */
  function writesCyrillic(row) {
    if (row.alphabet === "cyrillic") return true;
    return row.alphabet === "latin+cyrillic" && /[\u0400-\u04FF]/.test(row.machine_name || "");
  }

  /* Put the caret on the first uncertain letter, selected, so typing one letter fixes it. */
  function focusFirstDoubt() {
    if (!current) return;
    const boxes = inputs();
    for (let k = 0; k < current.fields.length; k++) {
      const f = current.fields[k];
      if (f.current !== f.machine_text) continue;
      const doubt = f.letters.find(function (l) { return l.uncertain; });
      if (doubt && doubt.position < boxes[k].value.length) {
        boxes[k].focus();
        boxes[k].setSelectionRange(doubt.position, doubt.position + 1);
        return;
      }
    }
    if (boxes.length) {
      boxes[0].focus();
      const n = boxes[0].value.length;
      boxes[0].setSelectionRange(n, n);
    }
  }

  function useAlternative(fieldName, position, char) {
    const box = inputs().find(function (b) { return b.dataset.field === fieldName; });
    if (!box || position >= box.value.length) return;
    box.value = box.value.slice(0, position) + char + box.value.slice(position + 1);
    box.focus();
    box.setSelectionRange(position, position + 1);
  }

  function alternativeAtCaret(rank) {
    const box = document.activeElement;
    if (!current || !box || !box.classList.contains("name-input")) return;
    const field = current.fields.find(function (f) { return f.field === box.dataset.field; });
    const pos = box.selectionEnd > box.selectionStart ? box.selectionStart : box.selectionStart - 1;
    const letter = field && field.letters.find(function (l) { return l.position === pos; });
    if (!letter || !letter.alternatives[rank - 1]) { PS.toast("No guess number " + rank + " for this letter."); return; }
    useAlternative(field.field, pos, letter.alternatives[rank - 1][0]);
  }

  function typedValues() {
    const values = {};
    inputs().forEach(function (b) { values[b.dataset.field] = b.value; });
    return values;
  }

  function unchanged(values) {
    return current.fields.every(function (f) {
      return (values[f.field] || "").trim().split(/\s+/).join(" ").toUpperCase() === f.current;
    });
  }

  async function next() {
    current = null;
    while (buffer.length && decided.indexOf(buffer[0].id) >= 0) buffer.shift();
    if (!buffer.length) await refill();
    if (!buffer.length && skipped.size) { skipped.clear(); await refill(); }
    const row = buffer.shift();
    if (!row) {
      card.hidden = true;
      loading.hidden = true;
      empty.hidden = false;
      const left = Number(document.getElementById("left").textContent) || 0;
      document.getElementById("elsewhere").hidden = left === 0;
      if (left > 0) setTimeout(function () { if (!current) next(); }, 15000);
      return;
    }
    render(row);
    if (buffer.length < REFILL_BELOW) refill();
  }

  async function send(decision) {
    if (!current || busy) return;
    const row = current;
    const values = typedValues();
    busy = true;
    const r = await PS.api("POST", "/api/rows/" + row.id + "/decision",
      { version: row.version, decision: decision, values: values });
    busy = false;
    if (current !== row) return;
    if (r.status === 200) {
      PS.setProgress(r.data.progress);
      if (decision === "reopen") skipped.add(row.id);  // back in the queue: it returns here at the end
      else decided.push(row.id);
      await next();
    } else if (r.status === 409 && r.data.current) {
      PS.setProgress(r.data.progress);
      const fresh = r.data.current;
      fresh.conflicted = true;
      render(fresh, PS.describeOther(fresh, r.data.last) +
        " Enter keeps their decision and moves on; edit the name or use a key to change it.");
    } else {
      showBanner(r.data.error || "not saved");
    }
  }

  function accept() {
    if (!current || busy) return;
    const kept = current.status !== "needs_review" && unchanged(typedValues()) &&
      (current.status === "confirmed" || current.conflicted);
    if (kept) { decided.push(current.id); next(); return; }
    PS.withReviewer(function () { send("confirm"); });
  }

  function mark(decision) {
    return function () {
      if (!current) return;
      if (decision === "reopen" && current.status === "needs_review") {
        PS.toast("This row is already waiting for review; Alt+S skips it for now.");
        return;
      }
      PS.withReviewer(function () { send(decision); });
    };
  }

  async function back() {
    if (busy) return;
    if (!decided.length) { PS.toast("Nothing decided yet in this window."); return; }
    const id = decided.pop();
    const r = await PS.api("GET", "/api/rows/" + id);
    if (r.status !== 200) { PS.toast(r.data.error || "could not load that row"); return; }
    if (current) buffer.unshift(current);
    render(r.data.row, "Back at a row already decided: change it, or press Enter to keep it as it is.");
  }

  function skip() {
    if (!current) return;
    if (current.status === "needs_review") skipped.add(current.id);
    else decided.push(current.id);
    next();
  }

  const COMMANDS = {
    KeyU: mark("unreadable"),
    KeyN: mark("not_signature"),
    KeyX: mark("crossed_out"),
    KeyR: mark("reopen"),
    KeyB: back,
    KeyS: skip,
    Digit2: function () { alternativeAtCaret(2); },
    Digit3: function () { alternativeAtCaret(3); },
    KeyK: function () { if (current) cyrillicKeys.flip(); },
  };

  function setEscape(on) {
    escapeMode = on;
    escapeBox.hidden = !on;
  }

  document.addEventListener("keydown", function (e) {
    if (PS.dialogOpen() || e.isComposing) return;
    if (escapeMode) {
      setEscape(false);
      if (["Shift", "Control", "Alt", "Meta"].indexOf(e.key) >= 0) { setEscape(true); return; }
      e.preventDefault();
      const cmd = COMMANDS[e.code];
      if (cmd) cmd();
      return;
    }
    if (e.key === "Escape") { e.preventDefault(); setEscape(true); return; }
    if (e.altKey && !e.ctrlKey && !e.metaKey) {
      const cmd = COMMANDS[e.code];
      if (cmd) { e.preventDefault(); cmd(); }
      return;
    }
    if (e.key === "Enter" && !e.ctrlKey && !e.metaKey && !e.shiftKey) {
      e.preventDefault();
      accept();
    }
  }, true);

  document.getElementById("decide-form").addEventListener("submit", function (e) { e.preventDefault(); });
  document.getElementById("name-dialog").addEventListener("close", function () { if (current) focusFirstDoubt(); });
  translitButton.addEventListener("click", function () { if (current) focusFirstDoubt(); });
  crop.addEventListener("error", function () { crop.hidden = true; noCrop.hidden = false; });

  next();
})();
