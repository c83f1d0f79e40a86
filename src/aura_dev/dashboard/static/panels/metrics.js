// Metrics panel: the service's rolling window as the supervisor last scraped it from its
// sidecar's Prometheus endpoint — requests/s, errors, p50/p95, component counts.
"use strict";

(() => {
  const { el } = aura;

  function facts(id, pairs) {
    document.getElementById(id).replaceChildren(...pairs.flatMap(([k, v, cls]) =>
      [el("dt", { text: k }), el("dd", { class: cls || "", text: v === null || v === undefined ? "-" : String(v) })]));
  }

  function show(data) {
    const errorBox = document.getElementById("metrics-error");
    const stats = (data.services || {})[aura.service];
    errorBox.textContent = stats ? "" : "no metrics yet (a service without a sidecar has none; the first scrape comes a few seconds after start)";
    document.getElementById("metrics-source").textContent = data.at ? `scraped at ${new Date(data.at * 1000).toLocaleTimeString()}, window ${stats ? stats.window : "-"} s` : "";
    if (!stats) return;
    facts("metrics-requests", [["requests/s", stats.rps], ["requests (total)", stats.requests],
      ["errors (total)", stats.errors, stats.errors ? "bad" : ""], ["error rate (window)", `${(stats.errorRate * 100).toFixed(1)} %`],
      ["p50", stats.p50Ms === null ? null : `${stats.p50Ms} ms`], ["p95", stats.p95Ms === null ? null : `${stats.p95Ms} ms`]]);
    const components = Object.entries(stats.components || {});
    facts("metrics-components", components.length ? components : [["none yet", ""]]);
  }

  async function load() {
    try {
      const response = await fetch("/api/metrics", { credentials: "same-origin" });
      show(await response.json());
    } catch (error) {
      document.getElementById("metrics-error").textContent = String(error);
    }
  }

  document.getElementById("metrics-traces").href = "/traces#service=" + encodeURIComponent(aura.service);
  document.getElementById("metrics-refresh").addEventListener("click", load);
  aura.panel("metrics", load);
  aura.on("metrics", show);  // pushed after every scrape (every 2 s) while the page is open
})();
