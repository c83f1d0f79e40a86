// The logs page: one pane for every unit or a selection, with `aura dev logs`' filters
// (applied by the supervisor), history from the log store, then the live stream.
// Rendering is batched per frame and bounded: lines the page cannot draw in time are
// counted ("N lines not shown"), never queued without limit.
"use strict";

(() => {
  const { snapshot, el } = aura;
  const MAX_DOM_LINES = 5000;      // the pane keeps the newest lines
  const MAX_PENDING = 5000;        // waiting to be drawn (a pane's worth); beyond: counted, not kept
  const PER_FRAME = 1000;
  const pane = document.getElementById("log");
  const countBox = document.getElementById("log-count");
  const hiddenBox = document.getElementById("log-hidden");
  const stateBox = document.getElementById("log-state");
  const errorBox = document.getElementById("log-error");
  const pauseButton = document.getElementById("pause");
  const colours = {};
  let pending = [];
  let hidden = 0;
  let paused = false;
  let follow = true;
  let scheduled = false;
  let shownCount = 0;
  let highlight = null;

  // -- the filters, in the URL too (a link to a filtered view can be shared) -------------

  const params = new URLSearchParams(location.search);
  const unitList = document.getElementById("unit-list");
  const labels = Object.values(snapshot.units).map((u) => ({ key: `${u.service}/${u.source}`, label: u.label }));
  labels.push({ key: "aura/infra", label: "aura" });
  const chosen = new Set(params.getAll("unit"));
  for (const { key, label } of labels) {
    unitList.append(el("label", {}, el("input", { type: "checkbox", name: "unit", value: key, checked: chosen.has(key) ? "" : null }), " " + label));
  }
  const sourceBoxes = [...document.querySelectorAll('input[name="source"]')];
  if (params.getAll("source").length) sourceBoxes.forEach((box) => { box.checked = params.getAll("source").includes(box.value); });
  document.getElementById("level").value = params.get("level") || "";
  document.getElementById("grep").value = params.get("grep") || "";
  document.getElementById("ignore-case").checked = params.get("i") === "1";
  document.getElementById("since").value = params.get("since") || "";

  function filters() {
    const query = new URLSearchParams();
    const units = [...unitList.querySelectorAll("input:checked")].map((box) => box.value);
    units.forEach((u) => query.append("unit", u));
    document.getElementById("unit-summary").textContent = units.length ? `${units.length} unit${units.length > 1 ? "s" : ""}` : "all units";
    const sources = sourceBoxes.filter((box) => box.checked).map((box) => box.value);
    if (sources.length < sourceBoxes.length) sources.forEach((s) => query.append("source", s));
    for (const [name, id] of [["level", "level"], ["grep", "grep"], ["since", "since"]]) {
      const value = document.getElementById(id).value.trim();
      if (value) query.set(name, value);
    }
    if (document.getElementById("ignore-case").checked) query.set("i", "1");
    return query;
  }

  function compileHighlight(query) {
    const grep = query.get("grep");
    if (!grep) return null;
    try { return new RegExp(grep, query.get("i") ? "gi" : "g"); } catch (e) { return null; }
  }

  // -- drawing ---------------------------------------------------------------------------

  function textWithMarks(text) {
    if (!highlight) return [text];
    const parts = [];
    let last = 0;
    highlight.lastIndex = 0;
    for (const match of text.matchAll(highlight)) {
      if (!match[0]) break;
      parts.push(text.slice(last, match.index), el("mark", { text: match[0] }));
      last = match.index + match[0].length;
    }
    parts.push(text.slice(last));
    return parts;
  }

  function lineNode(line) {
    const [ts, service, source, stream, level, text] = line;
    if (stream === "dropped") return el("div", { class: "line dropped", text: "▶ " + text });
    const label = aura.unitLabel(service, source);
    return el("div", { class: `line l-${level} src-${source}${stream === "aura" ? " aura" : ""}`, dataset: { unit: label, ts } },
      el("span", { class: "ts", text: aura.clock(ts) }),
      el("span", { class: "unit", style: { color: colours[service] || "" }, text: label }),
      el("span", { class: "sep", text: "│" }),
      el("span", { class: "text" }, stream === "aura" ? "▶ " : "", ...textWithMarks(text)), traceLink(text));
  }

  // A line that carries a W3C trace id (a 32-hex-digit word) links to that trace.
  function traceLink(text) {
    const found = /\b[0-9a-f]{32}\b/.exec(text);
    return found ? el("a", { class: "trace-link", href: "/traces#" + found[0], title: "this line's trace", text: "trace ↗" }) : null;
  }

  function draw() {
    scheduled = false;
    if (paused) return;
    const batch = pending.splice(0, PER_FRAME);
    if (!batch.length) return;
    const atBottom = pane.scrollTop + pane.clientHeight >= pane.scrollHeight - 4;
    const fragment = document.createDocumentFragment();
    for (const line of batch) fragment.append(lineNode(line));
    pane.append(fragment);
    shownCount += batch.length;
    let extra = pane.childElementCount - MAX_DOM_LINES;
    while (extra-- > 0) pane.firstChild.remove();
    countBox.textContent = shownCount;
    if (follow && atBottom) pane.scrollTop = pane.scrollHeight;
    if (pending.length) schedule();
  }

  function schedule() {
    if (!scheduled) {
      scheduled = true;
      requestAnimationFrame(draw);
    }
  }

  function noteHidden(count) {
    hidden += count;
    hiddenBox.textContent = hidden ? ` · ${hidden} not shown` : "";
  }

  function receive(lines) {
    for (const line of lines) {
      if (line[3] === "dropped") noteHidden(line[6] || 0);
    }
    pending.push(...lines);
    // Behind by more than a pane's worth: the oldest waiting lines go (counted, marked where
    // they were), so that what is drawn stays close to now.
    const cut = pending.length - MAX_PENDING;
    if (cut > 0) {
      pending.splice(0, cut);
      noteHidden(cut);
      pending.unshift([Date.now() / 1000, "aura", "infra", "dropped", "warn",
        `${cut} lines not shown: the page did not keep up (all of them are in \`aura dev logs\`)`, cut]);
    }
    schedule();
  }

  aura.on("lines", (message) => {
    Object.assign(colours, message.colours || {});
    receive(message.lines);
  });
  aura.on("error", async () => {
    // A filter the supervisor refused (a bad regex, a bad time): say why.
    const response = await fetch("/api/logs?tail=0&" + filters().toString(), { credentials: "same-origin" });
    if (response.status === 400) {
      errorBox.textContent = " · " + (await response.json()).error;
      aura.connect(null);
    }
  });

  function restart() {
    const query = filters();
    errorBox.textContent = "";
    history.replaceState(null, "", "/logs" + (query.toString() ? "?" + query.toString() : ""));
    highlight = compileHighlight(query);
    pane.replaceChildren();
    pending = [];
    hidden = 0;
    shownCount = 0;
    noteHidden(0);
    countBox.textContent = "0";
    query.set("lines", "1");
    query.set("tail", "500");
    aura.connect(query);
  }

  let debounce = null;
  function restartSoon() {
    clearTimeout(debounce);
    debounce = setTimeout(restart, 250);
  }
  for (const id of ["level", "ignore-case"]) document.getElementById(id).addEventListener("change", restart);
  for (const id of ["grep", "since"]) document.getElementById(id).addEventListener("input", restartSoon);
  sourceBoxes.forEach((box) => box.addEventListener("change", restart));
  unitList.addEventListener("change", restart);

  pauseButton.addEventListener("click", () => {
    paused = !paused;
    pauseButton.textContent = paused ? "resume" : "pause";
    stateBox.textContent = paused ? "paused (new lines are kept and counted)" : "following";
    if (!paused) schedule();
  });
  document.getElementById("now").addEventListener("click", () => {
    follow = true;
    if (paused) pauseButton.click();
    pane.scrollTop = pane.scrollHeight;
  });
  document.getElementById("clear").addEventListener("click", () => {
    pane.replaceChildren();
    shownCount = 0;
    countBox.textContent = "0";
  });
  pane.addEventListener("scroll", () => {
    follow = pane.scrollTop + pane.clientHeight >= pane.scrollHeight - 4;
  });

  restart();
})();
