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

  // One flag and its value per line, as a person would write the command.
  function argvLines(argv) {
    const lines = [];
    for (const arg of argv) {
      const last = lines[lines.length - 1];
      if (last && !arg.startsWith("--") && last.length === 1 && last[0].startsWith("--")) last.push(arg);
      else lines.push([arg]);
    }
    return lines.map((words) => words.join(" ")).join(" \\\n    ");
  }

  async function load() {
    view = await aura.serviceDetails(false);
    document.getElementById("proc-command").textContent = view.appCommand;
    document.getElementById("proc-daprd").textContent = view.sidecarArgv ? argvLines(view.sidecarArgv) : "(no sidecar)";
    document.getElementById("proc-facts").replaceChildren(el("dt", { text: "working folder" }), el("dd", { text: view.appCwd }),
      el("dt", { text: "argv" }), el("dd", { text: JSON.stringify(view.appArgv) }));
    showEnv();
  }

  inherited.addEventListener("change", () => view && showEnv());
  aura.panel("process", load);
})();
