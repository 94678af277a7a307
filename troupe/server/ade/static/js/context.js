// The context window view of an agent's page: what its next step sends the model, in tokens,
// by part (GET /v1/agents/{id}/context), the summary of the messages evicted from it, and a
// button that summarises now (POST /v1/agents/{id}/summarize).
import { api } from "./api.js";
import { errorBox, h, messageOf, replace, table } from "./dom.js";

const PARTS = [
  ["System prompt", "num_tokens_system"],
  ["Memory blocks", "num_tokens_core_memory"],
  ["Summary", "num_tokens_summary_memory"],
  ["Tools", "num_tokens_functions_definitions"],
  ["Messages", "num_tokens_messages"],
];

export async function loadContext(container, agentId) {
  try {
    const view = await api(`v1/agents/${encodeURIComponent(agentId)}/context`);
    replace(container, contextParts(view, (status) => summarize(container, agentId, status)));
  } catch (error) {
    replace(container, errorBox(error));
  }
}

function contextParts(view, onSummarize) {
  const max = view.context_window_size_max || 1;
  const bar = h(
    "div",
    { class: "context-bar", role: "img", "aria-label": `${view.context_window_size_current} of ${max} tokens in use` },
    PARTS.map(([label, key]) => h("span", { class: `part ${key}`, style: `width: ${Math.min(100, (100 * view[key]) / max)}%`, title: `${label}: ${view[key]} tokens` })),
  );
  const rows = PARTS.map(([label, key]) => h("tr", { dataset: { part: key } }, h("td", {}, h("span", { class: `swatch ${key}` }), label), h("td", { class: "num" }, String(view[key]))));
  rows.push(h("tr", { class: "total" }, h("td", {}, "In use"), h("td", { class: "num", id: "context-current" }, `${view.context_window_size_current} / ${view.context_window_size_max}`)));
  const summary = view.summary_memory
    ? h("details", { id: "context-summary" }, h("summary", {}, "Summary of the messages out of view"), h("pre", { class: "small" }, view.summary_memory))
    : h("p", { class: "muted small", id: "context-summary" }, "No summary yet: nothing has left the context.");
  const counts = h("p", { class: "muted small", id: "context-counts" }, `${view.num_messages} messages in context · ${view.num_recall_memory} stored · ${view.num_archival_memory} archival passages`);
  const status = h("span", { class: "save-status", role: "status" });
  const button = h("button", { type: "button", id: "summarize", title: "Fold the oldest messages in context into the summary now", onclick: () => onSummarize(status) }, "Summarize now");
  return [bar, table(["Part", "Tokens"], rows, { class: "context-parts" }), counts, summary, h("div", { class: "actions" }, button, status)];
}

async function summarize(container, agentId, status) {
  status.textContent = "Summarizing…";
  try {
    const done = await api(`v1/agents/${encodeURIComponent(agentId)}/summarize`, { method: "POST", body: {} });
    await loadContext(container, agentId);
    container.querySelector(".save-status").textContent = `Summarized: ${done.num_messages_before} → ${done.num_messages_after} messages in context.`;
  } catch (error) {
    status.textContent = `Not summarized: ${messageOf(error)}`;
  }
}
