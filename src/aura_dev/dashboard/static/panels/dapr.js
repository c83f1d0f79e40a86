// Dapr panel: the sidecar's own /v1.0/metadata — runtime, components, subscriptions,
// actors, app channel, extended metadata.
"use strict";

(() => {
  const { el } = aura;

  function facts(id, pairs) {
    document.getElementById(id).replaceChildren(...pairs.filter(([, v]) => v !== undefined && v !== null && v !== "")
      .flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: String(v) })]));
  }

  function rows(id, items, cells, empty) {
    const body = document.querySelector(`#${id} tbody`);
    if (!items.length) {
      body.replaceChildren(el("tr", { class: "empty" }, el("td", { colspan: 9, class: "dim", text: empty })));
      return;
    }
    body.replaceChildren(...items.map((item) => el("tr", {}, ...cells(item).map((c) => el("td", {}, c)))));
  }

  async function load(fresh) {
    const view = await aura.serviceDetails(fresh);
    const meta = view.metadata;
    document.getElementById("dapr-error").textContent = view.metadataError || (view.sidecarHttpPort ? "" : "this service runs without a sidecar");
    document.getElementById("dapr-source").textContent = view.sidecarHttpPort ? `from http://127.0.0.1:${view.sidecarHttpPort}/v1.0/metadata at ${new Date().toLocaleTimeString()}` : "";
    if (!meta) return;
    facts("dapr-runtime", [["app id", meta.id], ["runtime version", meta.runtimeVersion],
      ["features", meta.enabledFeatures.join(", ")],
      ["scheduler", (meta.scheduler.connected_addresses || []).join(", ") || "not connected"]]);
    const app = meta.app;
    const health = app.health || {};
    facts("dapr-app", [["port", app.port], ["protocol", app.protocol], ["channel address", app.channelAddress],
      ["max concurrency", app.maxConcurrency], ["health check", health.healthCheckPath],
      ["probe", health.healthProbeInterval ? `every ${health.healthProbeInterval}, timeout ${health.healthProbeTimeout}, threshold ${health.healthThreshold}` : ""]]);
    facts("dapr-actor-runtime", [["runtime", meta.actorRuntime.status], ["host ready", meta.actorRuntime.hostReady],
      ["placement", meta.actorRuntime.placement]]);
    rows("dapr-actors", meta.actors, (a) => [a.type, String(a.count)], "no actor types hosted");
    rows("dapr-components", meta.components, (c) => [c.name, c.type, c.version, c.capabilities.join(", ")], "no components loaded");
    rows("dapr-subscriptions", meta.subscriptions, (s) => [s.topic, s.pubsub,
      s.routes.map((r) => (r.match ? `${r.match} → ` : "") + r.path).join("; "), s.deadLetterTopic || "-", s.type],
      "no subscriptions");
    rows("dapr-extended", Object.entries(meta.extended), ([k, v]) => [k, String(v)], "none");
  }

  document.getElementById("dapr-refresh").addEventListener("click", () => load(true));
  aura.panel("dapr", () => load(true));
})();
