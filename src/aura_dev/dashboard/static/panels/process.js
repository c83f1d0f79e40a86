// Process panel: the app's command, cwd and environment (secret-looking values masked as
// `aura dev config` masks them), and the daprd argv as run.
"use strict";

(() => {
  const { el } = aura;
  const inherited = document.getElementById("env-inherited");
  let view = null;

  function showEnv() {
    const rows = view.env.filter((row) => inherited.checked || !row.inherited);
    document.querySelector("#proc-env tbody").replaceChildren(...rows.map((row) =>
      el("tr", { class: row.inherited ? "inherited" : "" }, el("td", { text: row.name }),
        el("td", { class: row.masked ? "masked" : "", text: row.value }))));
  }

  async function load() {
    view = await aura.serviceDetails(false);
    document.getElementById("proc-command").textContent = view.appCommand;
    document.getElementById("proc-daprd").textContent = view.sidecarArgv ? view.sidecarArgv.join(" \\\n    ") : "(no sidecar)";
    document.getElementById("proc-facts").replaceChildren(el("dt", { text: "working folder" }), el("dd", { text: view.appCwd }),
      el("dt", { text: "argv" }), el("dd", { text: JSON.stringify(view.appArgv) }));
    showEnv();
  }

  inherited.addEventListener("change", () => view && showEnv());
  aura.panel("process", load);
})();
