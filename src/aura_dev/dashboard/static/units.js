// The units page: every service with its app and sidecar, and the infra — live from the
// supervisor's events, filterable, sortable, with the same actions as the CLI.
"use strict";

(() => {
  const { snapshot, el } = aura;
  // The console's marks (cli/progress.py).
  const MARKS = { pending: "·", waiting: "…", starting: "◌", ready: "✓", backoff: "↻", failed: "✗",
                  stopping: "■", stopped: "■", exited: "■" };
  const STATE_ORDER = ["failed", "backoff", "starting", "waiting", "pending", "stopping", "stopped", "exited", "ready"];
  const tbody = document.querySelector("#units tbody");
  const filterBox = document.getElementById("filter");
  const stateBox = document.getElementById("state-filter");
  let sortKey = "name";
  let sortDown = false;
  let pendingTimings = [];
  let scheduled = false;

  function now() { return Date.now() / 1000; }

  function groups() {
    const units = snapshot.units;
    const out = Object.keys(snapshot.services).map((name) => ({
      name, kind: "service", service: snapshot.services[name],
      units: [units[name], units[name + "·dapr"]].filter(Boolean),
    }));
    const infra = Object.values(units).filter((u) => u.source === "infra");
    if (infra.length) out.push({ name: "infra", kind: "infra", units: infra });
    return out;
  }

  function wanted(unit) {
    const text = filterBox.value.trim().toLowerCase();
    if (text && !unit.label.toLowerCase().includes(text) && !unit.service.toLowerCase().includes(text)) return false;
    const state = stateBox.value;
    if (!state) return true;
    if (state === "not-ready") return unit.state !== "ready";
    if (state === "stopped") return ["stopped", "exited", "stopping"].includes(unit.state);
    return unit.state === state;
  }

  function sortValue(group) {
    const main = group.units[0] || {};
    if (sortKey === "state") {
      const worst = Math.min(...group.units.map((u) => STATE_ORDER.indexOf(u.state)));
      return worst;
    }
    if (sortKey === "restarts") return group.units.reduce((n, u) => n + (u.restarts || 0), 0);
    if (sortKey === "uptime") return main.since ? -main.since : 0;
    return group.kind === "infra" ? "~" : group.name;
  }

  function portLinks(unit) {
    const ports = unit.ports || {};
    const items = [];
    for (const [name, port] of Object.entries(ports)) {
      if (!port) continue;
      let href = null;
      if (unit.source === "app" && name === "app") href = `http://127.0.0.1:${port}/`;
      if (unit.source === "sidecar" && name === "http") href = `http://127.0.0.1:${port}/v1.0/metadata`;
      if (unit.source === "sidecar" && name === "metrics") href = `http://127.0.0.1:${port}/metrics`;
      const text = `${name} ${port}`;
      items.push(href ? el("a", { href, target: "_blank", rel: "noopener", class: "port", text }) :
                        el("span", { class: "port", text }));
    }
    return items;
  }

  function health(unit) {
    if (unit.state === "ready") return el("span", { class: "ok", text: `healthy · ready in ${unit.detail || "?"}` });
    if (unit.state === "starting") return el("span", { class: "dim", text: unit.detail || "probing readiness" });
    if (unit.state === "backoff") return el("span", { class: "warn", text: `${unit.detail} — restarting` });
    return el("span", { class: unit.state === "failed" ? "bad" : "dim", text: unit.detail || "" });
  }

  function lastExit(unit) {
    const last = unit.lastExit;
    if (!last) return el("span", { class: "dim", text: "-" });
    return el("span", { class: "last-exit " + (last.state === "failed" ? "bad" : "warn"), title: new Date(last.at * 1000).toLocaleString() },
      `${last.reason} `, el("span", { class: "dim ago", dataset: { at: last.at }, text: `(${aura.duration(now() - last.at)} ago)` }));
  }

  function unitRow(unit) {
    const running = unit.pid && !["stopped", "exited", "failed"].includes(unit.state);
    const kind = unit.source === "infra" ? (unit.backend || "infra") : unit.source;
    return el("tr", { class: "unit", dataset: { label: unit.label, state: unit.state, source: unit.source } },
      el("td", { class: "name" }, el("span", { class: "swatch", style: { background: unit.colour } }), unit.label,
         el("span", { class: "kind", text: kind })),
      el("td", { class: "state" }, el("span", { class: "badge s-" + unit.state, text: `${MARKS[unit.state] || "?"} ${unit.state}` })),
      el("td", { class: "pid", text: unit.pid || (unit.container ? unit.container.slice(0, 12) : "-") }),
      el("td", { class: "uptime", dataset: { since: running ? unit.since : "" }, text: running ? aura.duration(now() - unit.since) : "-" }),
      el("td", { class: "restarts", text: unit.restarts || 0 }),
      el("td", { class: "ports" }, portLinks(unit)),
      el("td", { class: "health" }, health(unit)),
      el("td", { class: "exit" }, lastExit(unit)));
  }

  // The sidecar's metrics as the supervisor last scraped them (pushed: event `metrics`).
  let metrics = {};
  function rates(name) {
    const m = metrics[name];
    if (!m) return "";
    const p95 = m.p95Ms === null || m.p95Ms === undefined ? "" : ` · p95 ${m.p95Ms} ms`;
    return ` · ${m.rps} req/s · ${m.errors} errors${p95}`;
  }
  aura.on("metrics", (data) => {
    metrics = data.services || {};
    document.querySelectorAll("span.rates").forEach((span) => { span.textContent = rates(span.dataset.service); });
  });

  function groupRow(group) {
    const head = el("tr", { class: "group", dataset: { service: group.name } });
    const cell = el("td", { colspan: 8 });
    if (group.kind === "infra") {
      cell.append(el("span", { class: "group-name", text: "infra" }), el("span", { class: "dim", text: " redis, placement, scheduler, zipkin" }));
    } else {
      const svc = group.service;
      const hasSidecar = group.units.some((u) => u.source === "sidecar");
      cell.append(
        el("a", { class: "group-name", href: `/services/${encodeURIComponent(group.name)}`, text: group.name, title: "Dapr's view of this service" }),
        el("span", { class: "dim", text: svc.appId ? ` app id ${svc.appId}` : " no sidecar" }),
        svc.url ? el("a", { class: "dim url", href: svc.url, target: "_blank", rel: "noopener", text: " " + svc.url }) : null,
        hasSidecar ? el("span", { class: "rates dim", dataset: { service: group.name }, text: rates(group.name) }) : null,
        el("span", { class: "actions" },
          el("button", { class: "action", dataset: { act: "restart-app" }, onclick: () => aura.act("restart", [group.name], "app", `restart ${group.name} app`), text: "restart app" }),
          hasSidecar ? el("button", { class: "action", dataset: { act: "restart-sidecar" }, onclick: () => aura.act("restart", [group.name], "sidecar", `restart ${group.name} sidecar`), text: "restart sidecar" }) : null,
          el("button", { class: "action", dataset: { act: "stop" }, onclick: () => aura.act("stop", [group.name], "all"), text: "stop" }),
          el("button", { class: "action", dataset: { act: "start" }, onclick: () => aura.act("start", [group.name], "all"), text: "start" })));
    }
    head.append(cell);
    return head;
  }

  function render() {
    scheduled = false;
    const list = groups();
    list.sort((a, b) => {
      const x = sortValue(a), y = sortValue(b);
      const order = x < y ? -1 : x > y ? 1 : a.name < b.name ? -1 : 1;
      return sortDown ? -order : order;
    });
    const rows = [];
    for (const group of list) {
      const shown = group.units.filter(wanted);
      const nameHit = filterBox.value && group.name.toLowerCase().includes(filterBox.value.trim().toLowerCase());
      if (!shown.length && !(nameHit && !stateBox.value)) continue;
      rows.push(groupRow(group), ...shown.map(unitRow));
    }
    tbody.replaceChildren(...rows);
    const done = now();
    for (const at of pendingTimings) aura.timings.push(done - at);
    pendingTimings = [];
  }

  function schedule() {
    if (!scheduled) {
      scheduled = true;
      requestAnimationFrame(render);
    }
  }

  async function resync() {
    const response = await fetch("/api/snapshot", { credentials: "same-origin" });
    if (!response.ok) return;
    const fresh = await response.json();
    snapshot.units = fresh.units;
    snapshot.services = fresh.services;
    schedule();
  }

  aura.on("state", (change) => {
    const unit = snapshot.units[change.label];
    if (!unit) return;
    unit.state = change.state;
    unit.detail = change.detail;
    pendingTimings.push(change.at);
    schedule();
  });
  aura.on("units", (data) => {
    const known = Object.keys(snapshot.units).sort().join("|");
    if (data.labels.slice().sort().join("|") !== known) resync();
    else schedule();
  });
  aura.on("hello", () => resync());  // after a reconnect, catch up with what was missed
  aura.on("notice", (notice) => {
    const list = document.getElementById("activity");
    list.prepend(el("li", { class: "notice l-" + notice.level },
      el("span", { class: "ts", text: aura.clock(notice.ts) }),
      el("span", { class: "who", style: { color: notice.unit ? (snapshot.units[notice.unit] || {}).colour : "" }, text: notice.unit || "aura" }),
      el("span", { class: "text", text: notice.text })));
    while (list.children.length > 100) list.lastChild.remove();
  });

  document.querySelectorAll("th.sortable").forEach((th) => th.addEventListener("click", () => {
    sortDown = sortKey === th.dataset.sort ? !sortDown : false;
    sortKey = th.dataset.sort;
    document.querySelectorAll("th.sortable").forEach((h) => h.classList.toggle("sorted", h === th));
    th.classList.toggle("down", sortDown);
    render();
  }));
  filterBox.addEventListener("input", render);
  stateBox.addEventListener("change", render);
  document.getElementById("restart-all").addEventListener("click", () => {
    if (confirm("Restart every service (apps and sidecars)?")) aura.act("restart", Object.keys(snapshot.services), "all", "restart all");
  });
  document.getElementById("down").addEventListener("click", () => {
    if (confirm("Stop the whole stack (aura dev down)?")) aura.act("down", [], "all", "down");
  });
  setInterval(() => {
    const t = now();
    document.querySelectorAll("td.uptime[data-since]").forEach((td) => {
      if (td.dataset.since) td.textContent = aura.duration(t - Number(td.dataset.since));
    });
  }, 1000);

  render();
  aura.connect(null);
})();
