// Live updates for the console: a running run's grid and counts, and a
// running job's log, over server-sent events. Text goes in through
// textContent only: nothing a build wrote is ever parsed as HTML.
"use strict";

function counts(c) {
  return `${c.built} built · ${c.cached} cached · ${c.running} running · ${c.queued} queued · ${c.failed} failed · ${c.skipped} skipped of ${c.jobs}`;
}

function took(j) {
  if (!j.started || !j.ended || j.ended.startsWith("0001")) return "";
  const ms = new Date(j.ended) - new Date(j.started);
  return (ms / 1000).toFixed(1) + "s";
}

function liveGrid(grid) {
  const run = grid.dataset.run;
  const es = new EventSource(`/api/v1/runs/${run}/events?since=${grid.dataset.since || 0}`);
  es.addEventListener("job", (e) => {
    const j = JSON.parse(e.data);
    const cell = document.getElementById("job-" + j.id);
    if (!cell) return;
    cell.className = "job status-" + j.status;
    cell.querySelector(".status").textContent = j.status;
    cell.querySelector(".took").textContent = ["built", "cached", "failed", "skipped"].includes(j.status) ? took(j) : "";
  });
  es.addEventListener("run", (e) => {
    const r = JSON.parse(e.data);
    const set = (id, text) => { const el = document.getElementById(id); if (el) el.textContent = text; };
    set("run-state", r.state);
    set("run-phase", r.phase);
    set("run-counts", counts(r.counts));
    const st = document.getElementById("run-state");
    if (st) st.className = "state state-" + r.state;
  });
  es.addEventListener("end", () => es.close());
}

function liveLog(pre) {
  const es = new EventSource(pre.dataset.stream);
  es.addEventListener("log", (e) => {
    const chunk = JSON.parse(e.data);
    const follow = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
    pre.appendChild(document.createTextNode(chunk.text));
    if (follow) pre.scrollTop = pre.scrollHeight;
  });
  es.addEventListener("end", (e) => {
    const j = JSON.parse(e.data);
    const st = document.getElementById("log-state");
    if (st) { st.textContent = j.status; st.className = "state status-" + j.status; }
    es.close();
  });
}

function liveCurrent(sec) {
  const es = new EventSource(`/api/v1/runs/${sec.dataset.run}/events`);
  es.addEventListener("run", (e) => {
    const r = JSON.parse(e.data);
    sec.querySelector("[data-field=phase]").textContent = r.phase;
    sec.querySelector("[data-field=counts]").textContent = counts(r.counts);
  });
  es.addEventListener("end", () => es.close());
}

// An action: POSTed with the token as a header (never a cookie, so no
// other site can send it); on success, the run's page.
function act(button) {
  const action = button.dataset.action;
  const result = document.getElementById("action-result");
  const token = document.getElementById("token").value;
  const pk = document.getElementById("packages");
  const packages = pk && pk.value.trim() ? pk.value.trim().split(/[\s,]+/) : [];
  result.textContent = action + "…";
  fetch(`/api/v1/actions/${action}`, {
    method: "POST",
    headers: { "Authorization": "Bearer " + token, "Content-Type": "application/json" },
    body: JSON.stringify(action === "build" ? { packages } : {}),
  }).then((resp) => resp.json().then((body) => {
    if (!resp.ok) { result.textContent = body.error || resp.statusText; result.className = "error"; return; }
    result.className = "";
    result.textContent = `${action}: run ${body.run}`;
    if (body.url) window.location.assign(body.url);
  })).catch((err) => { result.textContent = String(err); result.className = "error"; });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("button.act").forEach((b) => b.addEventListener("click", () => act(b)));
  const grid = document.getElementById("grid");
  if (grid && grid.dataset.live === "true") liveGrid(grid);
  const log = document.getElementById("log");
  if (log && log.dataset.stream) liveLog(log);
  const cur = document.getElementById("current");
  if (cur) liveCurrent(cur);
});
