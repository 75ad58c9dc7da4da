/* Typing Cyrillic on a Latin keyboard. Each Latin key gives a Cyrillic capital; a second
   key changes the letter before the caret (z then h: Ж); x turns the letter before the
   caret into its Kazakh form (А → Ә, У → Ұ → Ү); ' gives the soft sign, again the hard
   sign, a third time the apostrophe. The table is documented in docs/review.md and
   shown beside the toggle, from the same tables as here. */
"use strict";

const TRANSLIT = (function () {
  const SINGLE = {
    a: "А", b: "Б", v: "В", g: "Г", d: "Д", e: "Е", z: "З", i: "И", j: "Й", k: "К", l: "Л",
    m: "М", n: "Н", o: "О", p: "П", r: "Р", s: "С", t: "Т", u: "У", f: "Ф", h: "Х", c: "Ц",
    y: "Ы", q: "Қ",
  };
  // key -> {letter before the caret -> what it becomes}
  const SECOND = {
    h: { "З": "Ж", "К": "Х", "Ц": "Ч", "С": "Ш", "Г": "Ғ" },
    o: { "Ы": "Ё" },
    u: { "Ы": "Ю" },
    a: { "Ы": "Я" },
  };
  const KAZAKH = [["А", "Ә"], ["О", "Ө"], ["У", "Ұ", "Ү"], ["Н", "Ң"], ["Г", "Ғ"], ["К", "Қ"], ["Х", "Һ"],
    ["И", "І"], ["Е", "Э"]];
  const SIGNS = ["Ь", "Ъ", "'"];
  const NEXT = {};
  KAZAKH.forEach(function (cycle) {
    cycle.forEach(function (ch, i) { NEXT[ch] = cycle[(i + 1) % cycle.length]; });
  });

  /* The input after pressing ``key`` (lower case) with [start, end) selected, or null if the key is not ours. */
  function edit(value, start, end, key) {
    const before = value.slice(0, start), after = value.slice(end);
    const selected = value.slice(start, end);
    function put(head, text, keepSelected) {
      const caret = head.length + text.length;
      return { value: head + text + after, start: keepSelected ? head.length : caret, end: caret };
    }
    if (key === "x") {
      if (selected.length === 1 && NEXT[selected]) return put(before, NEXT[selected], true);
      const prev = before.slice(-1);
      if (!selected && NEXT[prev]) return put(before.slice(0, -1), NEXT[prev], false);
      return { value: value, start: start, end: end };  // nothing to turn: the key does nothing
    }
    if (key === "'") {
      const prev = before.slice(-1);
      if (!selected && (prev === "Ь" || prev === "Ъ")) {
        return put(before.slice(0, -1), SIGNS[SIGNS.indexOf(prev) + 1], false);
      }
      return put(before, "Ь", false);
    }
    if (!selected && SECOND[key] && SECOND[key][before.slice(-1)]) {
      const made = SECOND[key][before.slice(-1)];
      const head = before.slice(0, -1);
      if (made === "Ч" && head.slice(-1) === "Ш") return put(head.slice(0, -1), "Щ", false);  // s h c h
      return put(head, made, false);
    }
    if (SINGLE[key]) return put(before, SINGLE[key], false);
    return null;
  }

  /* Type through the table into ``input`` while ``isOn()``; other keys and shortcuts pass. */
  function attach(input, isOn) {
    input.addEventListener("keydown", function (e) {
      if (e.defaultPrevented || e.isComposing || e.ctrlKey || e.altKey || e.metaKey || !isOn()) return;
      if (e.key.length !== 1) return;
      const done = edit(input.value, input.selectionStart, input.selectionEnd, e.key.toLowerCase());
      if (!done) return;
      e.preventDefault();
      input.value = done.value;
      input.setSelectionRange(done.start, done.end);
      input.dispatchEvent(new Event("input", { bubbles: true }));
    });
  }

  /* The table in one line, for the help beside the toggle. */
  function help() {
    const parts = Object.keys(SINGLE).map(function (k) { return k + " " + SINGLE[k]; });
    parts.push("zh Ж", "kh Х", "ch Ч", "sh Ш", "shch Щ", "gh Ғ", "yo Ё", "yu Ю", "ya Я");
    parts.push("x after a letter: " + KAZAKH.map(function (c) { return c.join("→"); }).join(" "));
    parts.push("' Ь, '' Ъ, ''' '");
    return parts.join(" · ");
  }

  /* A toggle button (with a <b> for its state) and the help line it shows when on. */
  function toggle(button, helpBox) {
    let on = false;
    helpBox.textContent = help();
    function set(value) {
      on = Boolean(value);
      button.setAttribute("aria-pressed", String(on));
      button.querySelector("b").textContent = on ? "on" : "off";
      helpBox.hidden = !on;
    }
    button.addEventListener("click", function () { set(!on); });
    return { set: set, flip: function () { set(!on); }, isOn: function () { return on; } };
  }

  return { edit: edit, attach: attach, help: help, toggle: toggle };
})();
