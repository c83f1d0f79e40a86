// The service page: its units' states and actions, and one tab per panel (pages.py
// SERVICE_PANELS).  A panel script registers itself with `aura.panel(key, load)`; `load`
// runs when its tab is first shown and again when the service's units change state.
"use strict";

(() => {
  const { snapshot, el } = aura;
  const service = document.body.dataset.service;
  const panels = {};
  let current = null;

  aura.service = service;
  aura.panel = (key, load) => { panels[key] = load; if (key === current) load(); };

  function showStates() {
    const units = [snapshot.units[service], snapshot.units[service + "·dapr"]].filter(Boolean);
    const swatch = document.getElementById("svc-swatch");
    if (units[0]) swatch.style.background = units[0].colour;
    document.getElementById("svc-states").replaceChildren(...units.map((u) =>
      el("span", { class: "badge s-" + u.state, dataset: { label: u.label, state: u.state }, text: `${u.label} ${u.state}${u.pid ? " · pid " + u.pid : ""}` })));
  }

  function showTab(key) {
    current = key;
    document.querySelectorAll(".tab").forEach((tab) => tab.classList.toggle("current", tab.dataset.panel === key));
    document.querySelectorAll("section.panel").forEach((panel) => { panel.hidden = panel.dataset.panel !== key; });
    history.replaceState(null, "", "#" + key);
    if (panels[key]) panels[key]();
  }

  const hasSidecar = Boolean(snapshot.units[service + "·dapr"]);
  const actions = document.getElementById("svc-actions");
  actions.append(
    el("button", { class: "action", onclick: () => aura.act("restart", [service], "app", `restart ${service} app`), text: "restart app" }),
    hasSidecar ? el("button", { class: "action", onclick: () => aura.act("restart", [service], "sidecar", `restart ${service} sidecar`), text: "restart sidecar" }) : null,
    el("button", { class: "action", onclick: () => aura.act("stop", [service], "all"), text: "stop" }),
    el("button", { class: "action", onclick: () => aura.act("start", [service], "all"), text: "start" }));

  document.querySelectorAll(".tab").forEach((tab) => tab.addEventListener("click", () => showTab(tab.dataset.panel)));
  aura.on("state", (change) => {
    const unit = snapshot.units[change.label];
    if (!unit || unit.service !== service) return;
    unit.state = change.state;
    showStates();
  });
  aura.on("units", (data) => {
    showStates();
    const ours = Object.values(data.units).some((u) => u.service === service && u.state === "ready");
    if (ours && current && panels[current]) panels[current]();
  });

  // One request per load, shared by every panel that reads the service's details.
  let details = null;
  aura.serviceDetails = (fresh) => {
    if (!details || fresh) {
      details = fetch(`/api/services/${encodeURIComponent(service)}/dapr`, { credentials: "same-origin" })
        .then((r) => r.json());
    }
    return details;
  };

  showStates();
  aura.connect(null);
  const first = location.hash.slice(1);
  setTimeout(() => showTab(document.querySelector(`.tab[data-panel="${first}"]`) ? first : document.querySelector(".tab").dataset.panel), 0);
})();
