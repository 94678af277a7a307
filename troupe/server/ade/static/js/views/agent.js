// An agent's page: the conversation with a streaming chat box, and beside it memory blocks,
// tags, tools, tool rules and the system prompt.
import { api, stream } from "../api.js";
import { blockEditor } from "../blocks.js";
import { loadArchival } from "../archival.js";
import { loadContext } from "../context.js";
import { loadSchedules } from "../schedules.js";
import { loadGroups } from "../groups.js";
import { chip, empty, errorBox, FAILING_STOP_REASONS, h, link, loading, messageOf, replace, section, STEP_LIMIT_NOTE, table } from "../dom.js";
import { approvalControls, waitingCalls } from "../approvals.js";
import { renderMessage } from "../messages.js";

const HISTORY = 300;

export async function agentView(main, params, agentId) {
  replace(main, loading());
  let agent, history, everyone;
  try {
    [agent, history, everyone] = await Promise.all([
      api(`v1/agents/${encodeURIComponent(agentId)}`),
      api(`v1/agents/${encodeURIComponent(agentId)}/messages`, { query: { limit: HISTORY } }).then(conversed),
      api("v1/agents", { query: { limit: 1000, include: "none" } }),
    ]);
  } catch (error) {
    replace(main, h("h1", {}, "Agent"), errorBox(error), h("p", {}, link("#/agents", "Back to the agents")));
    return;
  }
  document.title = `${agent.name} · troupe`;
  const ctx = { self: { id: agent.id, name: agent.name }, names: new Map(everyone.map((a) => [a.id, a.name])) };
  const memory = h("div", { id: "memory" }, loading());
  const context = h("div", { id: "context" }, loading());
  const archival = h("div", { id: "archival" }, loading());
  const schedules = h("div", { id: "schedules" }, loading());
  const groups = h("div", { id: "groups" }, loading());
  replace(
    main,
    h(
      "div",
      { class: "page-head" },
      h("div", {}, h("h1", {}, agent.name), h("p", { class: "muted small" }, h("code", {}, agent.id), " · ", h("code", {}, agent.model), agent.description ? ` · ${agent.description}` : "")),
      h(
        "div",
        { class: "actions" },
        link(`#/runs?agent=${encodeURIComponent(agent.id)}`, "Runs", { class: "button" }),
        link(`#/traces?agent=${encodeURIComponent(agent.id)}`, "Traces", { class: "button" }),
        h("button", { type: "button", title: "Download an Agent File (.af), with the agents sharing its blocks", onclick: () => exportFile(agent) }, "Export"),
        h("button", { type: "button", class: "danger", onclick: () => remove(agent) }, "Delete agent"),
      ),
    ),
    h(
      "div",
      { class: "agent-layout" },
      conversation(agent, history, ctx, () => Promise.all([loadMemory(memory, agent.id), loadContext(context, agent.id)])),
      h(
        "div",
        { class: "side" },
        section("Memory blocks", memory),
        section("Context window", context),
        section("Archival memory", archival),
        section("Scheduled messages", schedules),
        section("Groups", groups),
        section("Tags", tagsEditor(agent)),
        section("Tools", toolsTable(agent.tools)),
        section("Tool rules", rulesTable(agent.tool_rules, agent.tools.map((t) => t.name))),
        section("System prompt", systemEditor(agent)),
      ),
    ),
  );
  await Promise.all([
    loadMemory(memory, agent.id),
    loadContext(context, agent.id),
    loadArchival(archival, agent.id),
    loadSchedules(schedules, agent.id),
    loadGroups(groups, agent, ctx.names),
  ]);
  main.querySelector("#history").lastElementChild?.scrollIntoView({ block: "end" });
}

async function loadMemory(container, agentId) {
  try {
    const blocks = await api(`v1/agents/${encodeURIComponent(agentId)}/core-memory/blocks`);
    const holders = await Promise.all(
      blocks.map((b) => api(`v1/blocks/${encodeURIComponent(b.id)}/agents`, { query: { limit: 1000 } })),
    );
    replace(
      container,
      blocks.length
        ? blocks.map((block, i) => blockEditor(block, { holders: holders[i], selfId: agentId }))
        : empty("This agent has no memory blocks."),
    );
  } catch (error) {
    replace(container, errorBox(error));
  }
}

// The history's head is the system prompt (as in Letta's API); the Context panel shows it.
function conversed(history) {
  return history.filter((m) => !(m.message_type === "system_message" && m.seq_id === 0));
}

function conversation(agent, history, ctx, afterTurn) {
  const list = h("div", { id: "history", class: "history", "aria-live": "polite", tabindex: "0", "aria-label": "Messages" });
  let shown = [];
  const show = (message) => {
    list.querySelector(".empty")?.remove();
    list.append(renderMessage(message, ctx));
    shown.push(message);
    list.scrollTop = list.scrollHeight;
  };
  if (history.length) history.forEach(show);
  else list.append(empty("No messages yet. Say something below."));

  const input = h("textarea", { id: "chat-input", rows: 2, placeholder: "Message the agent (Enter sends, Shift+Enter for a new line)", "aria-label": "Message" });
  const send = h("button", { type: "submit", class: "primary" }, "Send");
  const status = h("span", { class: "chat-status", role: "status" });
  const form = h("form", { id: "chat", class: "chat", dataset: { streaming: "false" } }, input, h("div", { class: "actions" }, send, status));

  // One turn: `body` streamed to the agent, `pending` showing what was sent until it is done.
  async function runTurn(body, pending) {
    form.dataset.streaming = "true";
    send.disabled = true;
    status.textContent = "The agent is working…";
    pending.classList.add("pending");
    list.querySelector(".empty")?.remove();
    list.append(pending);
    let stop = null;
    try {
      await stream(`v1/agents/${encodeURIComponent(agent.id)}/messages/stream`, body, (event) => {
        if (event.message_type === "stop_reason") stop = event.stop_reason;
        else if (event.message_type === "usage_statistics") return;
        else show(event); // the stream does not echo the input: `pending` shows it
      });
      status.classList.toggle("stop-max-steps", stop === "max_steps");
      if (FAILING_STOP_REASONS.has(stop)) {
        // The stream carries the reason (an error_message event, shown above).
        status.textContent = stop === "error" ? "The turn failed." : `The turn failed (${stop}).`;
      } else if (stop === "max_steps") {
        status.textContent = STEP_LIMIT_NOTE;
      } else if (stop === "requires_approval") {
        status.textContent = "Waiting for your approval of the call above.";
      } else {
        status.textContent = stop ? `Done (${stop.replace("_", " ")}).` : "Done.";
      }
      return true;
    } catch (error) {
      status.textContent = `Not sent: ${messageOf(error)}`;
      pending.remove();
      return false;
    } finally {
      pending.classList.remove("pending");
      form.dataset.streaming = "false";
      send.disabled = false;
      input.focus();
      afterTurn();
      offerApprovals();
    }
  }

  async function submit() {
    const text = input.value.trim();
    if (!text || form.dataset.streaming === "true") return;
    input.value = "";
    const pending = renderMessage({ message_type: "user_message", content: text }, ctx);
    if (!(await runTurn({ messages: [{ role: "user", content: text }] }, pending))) input.value = text;
  }

  // Approve / Deny on each call the agent waits on; all are answered in one message.
  function offerApprovals() {
    list.querySelectorAll(".approval-controls").forEach((box) => box.remove());
    const calls = waitingCalls(shown);
    const answers = new Map();
    for (const { message, call } of calls) {
      const article = list.querySelector(`article[data-id="${CSS.escape(message.id)}"]`);
      const shownCall = article?.querySelector(`[data-call="${CSS.escape(call.tool_call_id)}"]`);
      (shownCall || article)?.append(
        approvalControls((approve, reason) => {
          const id = call.tool_call_id;
          answers.set(id, { type: "approval", tool_call_id: id, approve, reason: reason || null });
          if (answers.size < calls.length) return;
          const approvals = [...answers.values()];
          const pending = renderMessage({ message_type: "approval_response_message", approvals }, ctx);
          runTurn({ messages: [{ type: "approval", approvals }] }, pending);
        }),
      );
    }
  }
  offerApprovals();

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit();
    }
  });
  async function reload() {
    const fresh = conversed(await api(`v1/agents/${encodeURIComponent(agent.id)}/messages`, { query: { limit: HISTORY } }));
    replace(list);
    shown = [];
    if (fresh.length) fresh.forEach(show);
    else list.append(empty("No messages yet. Say something below."));
    offerApprovals();
  }
  const head = h(
    "div",
    { class: "section-head" },
    h("h2", {}, "Conversation"),
    h("button", { type: "button", class: "small", title: "Load messages that arrived since (e.g. from other agents)", onclick: reload }, "Reload"),
  );
  return h("section", { class: "card conversation" }, head, list, form);
}

function tagsEditor(agent) {
  const input = h("input", { id: "tags-input", value: agent.tags.join(", "), "aria-label": "Tags, comma separated" });
  const chips = h("div", { class: "chips" });
  const status = h("span", { class: "save-status", role: "status" });
  const draw = (tags) => replace(chips, tags.length ? tags.map((t) => link(`#/agents?tag=${encodeURIComponent(t)}`, t, { class: "chip" })) : h("span", { class: "muted" }, "No tags."));
  draw(agent.tags);
  return h(
    "form",
    {
      onsubmit: async (event) => {
        event.preventDefault();
        const tags = input.value.split(",").map((t) => t.trim()).filter(Boolean);
        try {
          const saved = await api(`v1/agents/${encodeURIComponent(agent.id)}`, { method: "PATCH", body: { tags } });
          draw(saved.tags);
          status.textContent = "Saved.";
        } catch (error) {
          status.textContent = messageOf(error);
        }
      },
    },
    chips,
    h("div", { class: "inline" }, input, h("button", { type: "submit" }, "Save tags")),
    status,
  );
}

function toolsTable(tools) {
  if (!tools.length) return empty("No tools attached.");
  return table(
    ["Tool", "Type", "Description"],
    tools.map((tool) => h("tr", {}, h("td", {}, h("code", {}, tool.name)), h("td", { class: "muted small" }, tool.tool_type), h("td", { class: "small" }, tool.description || ""))),
    { class: "tools" },
  );
}

function rulesTable(rules, toolNames) {
  if (!rules.length) return empty("No tool rules: the model picks tools freely.");
  return table(
    ["Rule", "Tool", "Details"],
    rules.map((rule) => {
      const { type, tool_name: tool, ...rest } = rule;
      const details = Object.entries(rest).map(([key, value]) => h("div", {}, h("span", { class: "muted" }, `${key}: `), Array.isArray(value) ? value.join(", ") : typeof value === "object" ? JSON.stringify(value) : String(value)));
      // A rule naming a tool the agent lacks does nothing until that tool is attached.
      const missing = [tool, ...(rule.children || [])].filter((name) => name && !toolNames.includes(name));
      if (missing.length) details.push(h("div", { class: "rule-inert" }, `inert: not attached: ${missing.join(", ")}`));
      return h("tr", { class: missing.length ? "inert" : "" }, h("td", {}, chip(type || "?")), h("td", {}, h("code", {}, tool || "—")), h("td", { class: "small" }, details));
    }),
  );
}

function systemEditor(agent) {
  const text = h("textarea", { id: "system-prompt", rows: 8, "aria-label": "System prompt" });
  text.value = agent.system;
  const status = h("span", { class: "save-status", role: "status" });
  return h(
    "details",
    {},
    h("summary", {}, `${agent.system.length} characters — show and edit`),
    h(
      "form",
      {
        onsubmit: async (event) => {
          event.preventDefault();
          try {
            await api(`v1/agents/${encodeURIComponent(agent.id)}`, { method: "PATCH", body: { system: text.value } });
            status.textContent = "Saved.";
          } catch (error) {
            status.textContent = messageOf(error);
          }
        },
      },
      text,
      h("div", { class: "actions" }, h("button", { type: "submit" }, "Save system prompt"), status),
    ),
  );
}

async function remove(agent) {
  if (!confirm(`Delete the agent “${agent.name}”? Its history goes with it.`)) return;
  try {
    await api(`v1/agents/${encodeURIComponent(agent.id)}`, { method: "DELETE" });
    location.hash = "#/agents";
  } catch (error) {
    alert(`Not deleted: ${messageOf(error)}`);
  }
}

// The agent as an Agent File (.af), downloaded: the same file `troupe export` writes.
async function exportFile(agent) {
  try {
    const file = await api(`v1/agents/${encodeURIComponent(agent.id)}/export`);
    const blob = new Blob([JSON.stringify(file, null, 2)], { type: "application/json" });
    const anchor = h("a", { href: URL.createObjectURL(blob), download: `${agent.name}.af` });
    document.body.append(anchor);
    anchor.click();
    anchor.remove();
    URL.revokeObjectURL(anchor.href);
  } catch (error) {
    alert(`Not exported: ${messageOf(error)}`);
  }
}
