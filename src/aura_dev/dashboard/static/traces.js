// Traces page: recent traces from aura's Zipkin, one trace's waterfall (errors in red), a
// span's tags and the log lines it produced, and the service map.  Loaded on open, on
// refresh, when a log line's trace link brings the user here (#<trace id>), and every few
// seconds while "live" is ticked: daprd sends its spans to Zipkin in batches, so the
// request a user just made appears a few seconds after the page was opened.
"use strict";

(() => {
  const { el } = aura;
  const list = document.querySelector("#trace-list tbody");
  const errorBox = document.getElementById("trace-error");
  const serviceBox = document.getElementById("trace-service");
  Object.keys(aura.snapshot.services).sort().forEach((name) => serviceBox.append(el("option", { value: name, text: name })));

  function ms(us) {
    return us >= 1e6 ? `${(us / 1e6).toFixed(2)} s` : us >= 1e3 ? `${(us / 1e3).toFixed(1)} ms` : `${us} µs`;
  }

  async function getJson(url) {
    const response = await fetch(url, { credentials: "same-origin" });
    const data = await response.json();
    if (!response.ok) throw new Error(data.error + (data.hint ? " — " + data.hint : ""));
    return data;
  }

  async function loadList() {
    const params = new URLSearchParams();
    if (serviceBox.value) params.set("service", serviceBox.value);
    if (document.getElementById("trace-errors").checked) params.set("errors", "1");
    try {
      const traces = await getJson("/api/traces?" + params);
      errorBox.textContent = "";
      document.getElementById("trace-status").textContent = `${traces.length} traces at ${new Date().toLocaleTimeString()}`;
      list.replaceChildren(...(traces.length ? traces.map((t) => el("tr", {
        class: "trace-row" + (t.errors ? " failed" : ""), dataset: { trace: t.traceId }, onclick: () => showTrace(t.traceId),
      }, el("td", { text: aura.clock(t.start / 1e6) }), el("td", { text: `${t.rootService} ${t.root}` }),
        el("td", { text: t.spans }), el("td", { text: t.services.join(", ") }), el("td", { text: ms(t.durationUs) }),
        el("td", { class: t.errors ? "bad" : "", text: t.errors })))
        : [el("tr", { class: "empty" }, el("td", { colspan: 6, class: "dim", text: "no traces yet: send a request to a service" }))]));
    } catch (error) {
      errorBox.textContent = String(error.message || error);
    }
  }

  async function showTrace(id) {
    let trace;
    try {
      trace = await getJson(`/api/traces/${id}`);
    } catch (error) {
      errorBox.textContent = String(error.message || error);
      return;
    }
    history.replaceState(null, "", "#" + id);
    document.getElementById("trace-detail").hidden = false;
    document.getElementById("trace-title").textContent = `trace ${trace.traceId} · ${trace.spans} spans · ${ms(trace.durationUs)}`;
    const total = Math.max(1, trace.durationUs);
    const rows = trace.spanList.map((s) => el("div", { class: "span-row" + (s.error ? " failed" : ""), dataset: { span: s.id },
      onclick: () => showSpan(trace, s) },
      el("span", { class: "span-name", style: { paddingLeft: `${s.depth * 14}px` }, text: s.name }),
      el("span", { class: "span-service", text: s.serviceName || s.service }),
      el("span", { class: "span-track" }, el("span", { class: "span-bar", style: {
        left: `${((s.start - trace.start) / total) * 100}%`, width: `${Math.max(0.5, (s.duration / total) * 100)}%` } })),
      el("span", { class: "span-duration", text: ms(s.duration) })));
    document.getElementById("waterfall").replaceChildren(...rows);
    if (trace.spanList.length) showSpan(trace, trace.spanList[0]);
  }

  async function showSpan(trace, span) {
    document.querySelectorAll(".span-row.current").forEach((row) => row.classList.remove("current"));
    const row = document.querySelector(`.span-row[data-span="${span.id}"]`);
    if (row) row.classList.add("current");
    document.getElementById("span-detail").hidden = false;
    document.getElementById("span-title").textContent = `${span.kind.toLowerCase()} span ${span.name}`;
    const pairs = [["service", span.serviceName || span.service], ["duration", ms(span.duration)], ["span id", span.id],
      ["error", span.error ? "yes" : "no"], ...Object.entries(span.tags)];
    document.getElementById("span-tags").replaceChildren(...pairs.flatMap(([k, v]) => [el("dt", { text: k }),
      el("dd", { class: k === "error" && span.error ? "bad" : "", text: String(v) })]));
    const box = document.getElementById("span-logs");
    try {
      const data = await getJson(`/api/traces/${trace.traceId}/spans/${span.id}/logs`);
      box.replaceChildren(...(data.lines.length ? data.lines.map(([ts, service, source, , level, text]) =>
        el("div", { class: `line src-${source} l-${level}` }, el("span", { class: "ts", text: aura.clock(ts) }),
          el("span", { class: "unit", text: aura.unitLabel(service, source) }), el("span", { class: "sep", text: "│" }),
          el("span", { class: "text", text })))
        : [el("div", { class: "line dim", text: "no log lines in this span's window" })]));
    } catch (error) {
      box.replaceChildren(el("div", { class: "line error", text: String(error.message || error) }));
    }
  }

  async function loadDependencies() {
    const body = document.querySelector("#dependencies tbody");
    try {
      const links = await getJson("/api/dependencies");
      body.replaceChildren(...(links.length ? links.map((l) => el("tr", {}, el("td", { text: l.parent }),
        el("td", { text: l.child }), el("td", { text: l.callCount }), el("td", { class: l.errorCount ? "bad" : "", text: l.errorCount || 0 })))
        : [el("tr", { class: "empty" }, el("td", { colspan: 4, class: "dim", text: "no calls between services yet" }))]));
    } catch (error) {
      body.replaceChildren(el("tr", {}, el("td", { colspan: 4, class: "error", text: String(error.message || error) })));
    }
  }

  function refresh() {
    loadList();
    loadDependencies();
  }

  serviceBox.addEventListener("change", loadList);
  document.getElementById("trace-errors").addEventListener("change", loadList);
  document.getElementById("trace-refresh").addEventListener("click", refresh);
  aura.connect();
  refresh();
  const LIVE_EVERY_MS = 5000;
  const live = document.getElementById("trace-live");
  setInterval(() => {
    // Not while hidden (nobody looks) or once the stack is gone (nothing would answer).
    const state = document.getElementById("conn").dataset.state;
    if (live.checked && !document.hidden && state !== "stopped" && state !== "stopping") refresh();
  }, LIVE_EVERY_MS);
  if (location.hash.startsWith("#service=")) {
    serviceBox.value = decodeURIComponent(location.hash.slice("#service=".length));
    loadList();
  }
  if (/^#[0-9a-f]{16,32}$/.test(location.hash)) showTrace(location.hash.slice(1));
})();
