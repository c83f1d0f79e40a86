// Shared by every page: the snapshot the page was served with, the event stream, actions,
// and small DOM helpers.  Plain JavaScript, no build step: `aura.*` is the whole API.
"use strict";

const aura = (() => {
  const snapshot = JSON.parse(document.getElementById("snapshot").textContent);
  const handlers = {};
  let source = null;
  const conn = document.getElementById("conn");

  function setConn(state, text) {
    conn.dataset.state = state;
    conn.textContent = text;
  }

  function dispatch(name, data) {
    (handlers[name] || []).forEach((fn) => fn(data));
  }

  let listening = new Set();

  function listen(name) {
    if (!source || name === "error" || listening.has(name)) return;
    listening.add(name);
    source.addEventListener(name, (event) => dispatch(name, JSON.parse(event.data)));
  }

  // One EventSource per page; `params` picks what it carries (log lines, filters).
  function connect(params) {
    if (source) source.close();
    const query = params ? "?" + params.toString() : "";
    source = new EventSource("/api/events" + query);
    listening = new Set();
    ["hello", "state", "units", "notice", "lines", "stack"].concat(Object.keys(handlers)).forEach(listen);
    source.onopen = () => setConn("live", "live");
    source.onerror = () => {
      if (conn.dataset.state === "stopping" || conn.dataset.state === "stopped") {
        setConn("stopped", "stack stopped");  // nothing will answer again: stop retrying
        source.close();
        return;
      }
      setConn("lost", "reconnecting…");
      dispatch("error", null);
    };
    return source;
  }

  function on(name, fn) {
    (handlers[name] = handlers[name] || []).push(fn);
    listen(name);
  }

  on("stack", (data) => {
    if (data.state === "stopping") setConn("stopping", "stack stopping…");
    if (data.state === "stopped") {
      setConn("stopped", "stack stopped");
      if (source) source.close();
    }
  });
  on("units", (data) => Object.assign(snapshot.units, data.units));

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key === "dataset") Object.assign(node.dataset, value);
      else if (key === "style") Object.assign(node.style, value);
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function toast(text, kind) {
    const box = el("div", { class: "toast " + (kind || "") , text });
    document.getElementById("toasts").append(box);
    setTimeout(() => box.remove(), kind === "error" ? 12000 : 6000);
    return box;
  }

  // The same typed request as `aura dev restart|stop|start|down`, and its result shown.
  async function act(op, services, which, what) {
    const label = what || [op, (services || []).join(", "), which && which !== "all" ? which : ""].join(" ").trim();
    const pending = toast(label + "…", "pending");
    try {
      const response = await fetch("/api/actions", {
        method: "POST", credentials: "same-origin",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ op, services: services || [], which: which || "all" }),
      });
      const reply = await response.json();
      pending.remove();
      if (reply.ok) {
        const states = Object.entries(reply.states || {}).map(([n, ok]) => `${n} ${ok ? "ready" : "not ready"}`);
        const seconds = reply.seconds !== undefined ? ` in ${reply.seconds.toFixed(2)} s` : "";
        toast(`✓ ${label}: done${seconds}${states.length && op !== "stop" ? " (" + states.join(", ") + ")" : ""}`, "ok");
      } else {
        toast(`✗ ${label}: ${reply.error}${reply.hint ? " — " + reply.hint : ""}`, "error");
      }
      return reply;
    } catch (error) {
      pending.remove();
      toast(`✗ ${label}: ${error}`, "error");
      return null;
    }
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined || seconds < 0) return "-";
    if (seconds < 60) return `${Math.floor(seconds)} s`;
    if (seconds < 3600) return `${Math.floor(seconds / 60)} m ${Math.floor(seconds % 60)} s`;
    return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} m`;
  }

  function clock(ts) {
    const d = new Date(ts * 1000);
    const pad = (n, w) => String(n).padStart(w || 2, "0");
    return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
  }

  function unitLabel(service, source) {
    return source === "sidecar" ? service + "·dapr" : service;
  }

  const info = document.getElementById("stack-info");
  info.textContent = `${snapshot.backend} · Dapr ${snapshot.runtimeVersion} · supervisor ${snapshot.supervisorPid}`;

  return { snapshot, connect, on, el, toast, act, duration, clock, unitLabel, timings: [] };
})();
