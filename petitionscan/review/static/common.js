/* Shared by every review page: the request key, JSON calls, progress, the reviewer's name.
   Text from the database is only ever placed with textContent, never as HTML. */
"use strict";

const PS = (function () {
  const token = document.querySelector('meta[name="ps-token"]').content;

  async function api(method, url, body) {
    const options = {
      method: method,
      credentials: "same-origin",
      headers: { "X-Petitionscan-Token": token, "Accept": "application/json" },
    };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(url, options);
    } catch (err) {
      return { status: 0, data: { error: "The review server is not answering: nothing was saved. " +
        "Start `petitionscan review` again and open its new address." } };
    }
    let data = {};
    try { data = await response.json(); } catch (err) { data = { error: "unexpected answer from the server" }; }
    if (response.status === 401) loggedOut();
    return { status: response.status, data: data };
  }

  // A shared server's login ended (a working day passed, or the server restarted): say so at the
  // top of the page, with the way back, whichever part of the page asked.
  function loggedOut() {
    const notice = document.getElementById("logged-out");
    if (notice) notice.hidden = false;
  }

  function setProgress(p) {
    if (!p) return;
    document.getElementById("left").textContent = String(p.left);
    document.getElementById("done-today").textContent = String(p.done_today);
    document.getElementById("mine-today").textContent = String(p.mine_today);
  }

  let toastTimer = null;
  function toast(text) {
    const el = document.getElementById("toast");
    el.textContent = text;
    el.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { el.hidden = true; }, 4000);
  }

  const STATUS_WORDS = {
    confirmed: "confirmed", needs_review: "waiting for review", unreadable: "unreadable",
    not_signature: "not a signature", crossed_out: "crossed out", auto: "read by machine",
    blank: "blank", unsigned: "unsigned",
  };
  function statusWord(s) { return STATUS_WORDS[s] || s; }

  function describeOther(current, last) {
    const who = (last && last.reviewer) || current.updated_by || "someone";
    const stamp = (last && last.decided_at) || current.updated_at || "";
    const date = new Date(stamp);
    const when = isNaN(date.getTime()) ? stamp : date.toLocaleString();
    let what = statusWord(current.status);
    if (current.status === "confirmed") what = "confirmed as \u201c" + current.name + "\u201d";
    return who + " decided this row meanwhile (" + when + "): " + what + ".";
  }

  // --- reviewer name ---------------------------------------------------------------
  const dialog = document.getElementById("name-dialog");
  const nameInput = document.getElementById("name-input");
  let reviewer = dialog.dataset.required ? null : document.getElementById("reviewer-name").textContent;
  const waiting = [];

  function askName() {
    if (!dialog.open) dialog.showModal();
    nameInput.focus();
    nameInput.select();
  }
  document.getElementById("change-name").addEventListener("click", askName);
  dialog.addEventListener("cancel", function (e) { if (!reviewer) e.preventDefault(); });
  document.getElementById("name-form").addEventListener("submit", async function (e) {
    e.preventDefault();
    const r = await api("POST", "/api/reviewer", { name: nameInput.value });
    if (r.status !== 200) {
      document.getElementById("name-error").textContent = r.data.error || "could not save the name";
      return;
    }
    reviewer = r.data.reviewer;
    document.getElementById("reviewer-name").textContent = reviewer;
    document.getElementById("name-error").textContent = "";
    dialog.close();
    const r2 = await api("GET", "/api/progress");
    if (r2.status === 200) setProgress(r2.data.progress);
    while (waiting.length) waiting.shift()();
  });

  /* Run fn once a reviewer name is known (asking for it first if needed). */
  function withReviewer(fn) {
    if (reviewer) { fn(); return; }
    waiting.push(fn);
    askName();
  }
  if (!reviewer) askName();

  return { api: api, setProgress: setProgress, toast: toast, statusWord: statusWord,
           describeOther: describeOther, withReviewer: withReviewer,
           dialogOpen: function () { return dialog.open; } };
})();
