// Traces (one request across agents: run tree with timings + sequence diagram) and runs.
import { api } from "../api.js";
import { agentLink, badge, duration, empty, errorBox, h, link, loading, plural, replace, runBadge, section, stopReason, table, time } from "../dom.js";
import { drawDiagram } from "../diagram.js";
import { renderMessage } from "../messages.js";

const traceLink = (id, text = id) => link(`#/traces/${encodeURIComponent(id)}`, text);

export async function tracesView(main, params) {
  const agentId = params.get("agent");
  document.title = "Traces · troupe";
  replace(main, h("h1", {}, "Traces"), loading());
  let traces;
  try {
    traces = await api("v1/traces", { query: { limit: 100, agent_id: agentId } });
  } catch (error) {
    replace(main, h("h1", {}, "Traces"), errorBox(error));
    return;
  }
  const rows = traces.map((t) =>
    h(
      "tr",
      { dataset: { traceId: t.trace_id } },
      h("td", {}, traceLink(t.trace_id, "open"), h("div", { class: "muted small" }, h("code", {}, t.trace_id))),
      h("td", {}, time(t.started_at)),
      h("td", {}, agentLink(t.root_agent_id, t.root_agent_name)),
      h("td", {}, t.agents.map((a, i) => [i ? ", " : "", agentLink(a.id, a.name)])),
      h("td", { class: "num" }, String(t.run_count)),
      h("td", {}, badge(t.status)),
      h("td", { class: "num" }, duration(t.duration_ms)),
    ),
  );
  replace(
    main,
    h("h1", {}, "Traces"),
    h("p", { class: "muted small" }, "A trace is everything one request caused, across agents.", agentId ? [" Showing those of one agent. ", link("#/traces", "Show all")] : ""),
    traces.length
      ? table(["Trace", "Started", "Asked", "Agents", "Runs", "Status", "Took"], rows, { class: "traces" })
      : empty("No traces yet: send an agent a message and its trace appears here."),
  );
}

export async function traceView(main, params, traceId) {
  document.title = "Trace · troupe";
  replace(main, h("h1", {}, "Trace"), loading());
  let trace;
  try {
    trace = await api(`v1/traces/${encodeURIComponent(traceId)}`);
  } catch (error) {
    replace(main, h("h1", {}, "Trace"), errorBox(error), h("p", {}, link("#/traces", "All traces")));
    return;
  }
  const names = new Map(trace.agents.map((a) => [a.id, a.name]));
  const runs = flatten(trace.runs);
  const start = Math.min(...runs.map(({ run }) => Date.parse(run.started_at || run.created_at)));
  const end = Math.max(...runs.map(({ run }) => Date.parse(run.completed_at || run.started_at || run.created_at)));
  const span = Math.max(1, end - start);
  const diagram = h("div", { class: "diagram", id: "sequence-diagram" });
  replace(
    main,
    h("div", { class: "page-head" }, h("div", {}, h("h1", {}, "Trace"), h("p", { class: "muted small" }, h("code", {}, trace.trace_id), ` · ${plural(trace.agents.length, "agent")} · ${plural(runs.length, "run")} · ${duration(end - start)}`)), link("#/traces", "All traces", { class: "button" })),
    section("Sequence", diagram),
    section(
      "Runs",
      h("p", { class: "muted small" }, "Each run is one agent's turn; children were started by their parent (a call, a broadcast or an async delivery). Bars show when each ran."),
      table(["Agent", "Kind", "Status", "Stop reason", "Timeline", "Took", "Messages"], runs.map((entry) => runRow(entry, names, start, span)), { class: "run-tree" }),
    ),
    trace.deliveries.length
      ? section(
          "Deliveries (async messages)",
          table(
            ["From", "To", "Status", "Attempts", "Sent"],
            trace.deliveries.map((d) => h("tr", {}, h("td", {}, d.from ? agentLink(d.from, names.get(d.from)) : "—"), h("td", {}, agentLink(d.to, names.get(d.to))), h("td", {}, badge(d.status)), h("td", { class: "num" }, String(d.attempts)), h("td", {}, time(d.created_at)))),
          ),
        )
      : null,
  );
  await drawDiagram(diagram, trace.mermaid, "Sequence diagram of the trace");
}

function flatten(runs, depth = 0, out = []) {
  for (const run of runs) {
    out.push({ run, depth });
    flatten(run.children, depth + 1, out);
  }
  return out;
}

function runRow({ run, depth }, names, start, span) {
  const began = Date.parse(run.started_at || run.created_at);
  const ended = run.completed_at ? Date.parse(run.completed_at) : began;
  const bar = h("div", { class: "timeline", title: `starts +${duration(began - start)}` }, h("span", { class: `bar bar-${run.status}`, style: `left:${((began - start) / span) * 100}%;width:${Math.max(0.5, ((ended - began) / span) * 100)}%` }));
  const ctx = { self: { id: run.agent_id, name: run.agent_name }, names };
  return h(
    "tr",
    { dataset: { runId: run.id } },
    h("td", { style: `padding-left:${0.6 + depth * 1.4}rem` }, depth ? h("span", { class: "muted" }, "↳ ") : null, agentLink(run.agent_id, run.agent_name)),
    h("td", {}, run.kind),
    h("td", {}, runBadge(run), run.error ? h("div", { class: "error-text small" }, run.error) : null),
    h("td", {}, stopReason(run.stop_reason)),
    h("td", { class: "timeline-cell" }, bar),
    h("td", { class: "num" }, duration(run.duration_ms)),
    h("td", {}, run.messages.length ? h("details", {}, h("summary", {}, plural(run.messages.length, "message")), h("div", { class: "history compact" }, run.messages.map((m) => renderMessage(m, ctx)))) : "—"),
  );
}

const STATUSES = ["", "created", "running", "completed", "failed", "cancelled"];

export async function runsView(main, params) {
  const status = params.get("status") || "";
  const agentId = params.get("agent") || "";
  document.title = "Runs · troupe";
  replace(main, h("h1", {}, "Runs"), loading());
  let runs, agents;
  try {
    [runs, agents] = await Promise.all([
      api("v1/runs", { query: { limit: 200, status, agent_id: agentId } }),
      api("v1/agents", { query: { limit: 1000, include: "none" } }),
    ]);
  } catch (error) {
    replace(main, h("h1", {}, "Runs"), errorBox(error));
    return;
  }
  const names = new Map(agents.map((a) => [a.id, a.name]));
  const filter = h(
    "form",
    { class: "filter", onchange: (event) => {
      const query = new URLSearchParams(new FormData(event.currentTarget));
      for (const [k, v] of [...query]) if (!v) query.delete(k);
      location.hash = `#/runs${[...query].length ? `?${query}` : ""}`;
    } },
    h("label", {}, "Status ", h("select", { name: "status" }, STATUSES.map((s) => h("option", { value: s, selected: s === status }, s || "any")))),
    h("label", {}, " Agent ", h("select", { name: "agent" }, h("option", { value: "" }, "any"), agents.map((a) => h("option", { value: a.id, selected: a.id === agentId }, a.name)))),
  );
  const rows = runs.flatMap((run) => {
    const row = h(
      "tr",
      { dataset: { runId: run.id }, class: run.status === "failed" ? "failed" : "" },
      h("td", {}, time(run.created_at), h("div", { class: "muted small" }, h("code", {}, run.id))),
      h("td", {}, agentLink(run.agent_id, names.get(run.agent_id))),
      h("td", {}, runBadge(run)),
      h("td", {}, stopReason(run.stop_reason)),
      h("td", { class: "num" }, run.total_duration_ns ? duration(Math.round(run.total_duration_ns / 1e6)) : "—"),
      h("td", {}, run.trace_id ? traceLink(run.trace_id, "trace") : "—"),
    );
    if (!run.error) return [row];
    return [row, h("tr", { class: "error-row" }, h("td", { colspan: 6 }, h("div", { class: "error-text", role: "note" }, h("strong", {}, "Error: "), run.error)))];
  });
  replace(
    main,
    h("h1", {}, "Runs"),
    filter,
    runs.length ? table(["Created", "Agent", "Status", "Stop reason", "Took", ""], rows, { class: "runs" }) : empty(status || agentId ? "No run matches." : "No runs yet."),
  );
}
