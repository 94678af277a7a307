// The scheduled messages panel of an agent's page: the agent's schedules (when each fires
// next), a form to schedule a message once or on a cron expression, and delete. Every action
// goes through the same /v1 routes letta-client 1.12.1's `client.agents.schedule` uses.
import { api } from "./api.js";
import { empty, errorBox, h, messageOf, replace, table, time } from "./dom.js";

const base = (agentId) => `v1/agents/${encodeURIComponent(agentId)}/schedule`;

export async function loadSchedules(container, agentId) {
  const status = h("span", { class: "save-status", role: "status", id: "schedules-status" });
  const listing = h("div", { id: "schedules-list" });
  const refresh = () => listSchedules(listing, agentId, status);
  replace(container, listing, createForm(agentId, status, refresh));
  await refresh();
}

function createForm(agentId, status, refresh) {
  const text = h("textarea", { name: "message", rows: 2, required: true, "aria-label": "Message to send" });
  const kind = h(
    "select",
    { name: "kind", "aria-label": "Schedule kind" },
    h("option", { value: "one-time" }, "once, at"),
    h("option", { value: "recurring" }, "on a cron expression (UTC)"),
  );
  const at = h("input", { type: "datetime-local", name: "at", "aria-label": "Send at (local time)" });
  const cron = h("input", { name: "cron", "aria-label": "Cron expression", placeholder: "0 9 * * 1-5", hidden: true });
  kind.addEventListener("change", () => {
    at.hidden = kind.value !== "one-time";
    cron.hidden = kind.value !== "recurring";
  });
  const submit = async (event) => {
    event.preventDefault();
    const schedule =
      kind.value === "recurring"
        ? { type: "recurring", cron_expression: cron.value.trim() }
        : { type: "one-time", scheduled_at: new Date(at.value).getTime() };
    status.textContent = "Scheduling…";
    try {
      await api(base(agentId), { method: "POST", body: { messages: [{ role: "user", content: text.value }], schedule } });
      text.value = "";
      status.textContent = "Scheduled.";
      await refresh();
    } catch (error) {
      status.textContent = `Not scheduled: ${messageOf(error)}`;
    }
  };
  return h(
    "form",
    { id: "schedule-create", onsubmit: submit },
    text,
    h("div", { class: "inline" }, kind, at, cron),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Schedule message"), status),
  );
}

function when(schedule) {
  return schedule.type === "recurring" ? `cron ${schedule.cron_expression}` : ["once, ", time(new Date(schedule.scheduled_at).toISOString())];
}

async function listSchedules(listing, agentId, status) {
  try {
    const page = await api(base(agentId), { query: { limit: 100 } });
    if (!page.scheduled_messages.length) {
      replace(listing, empty("No scheduled messages."));
      return;
    }
    const rows = page.scheduled_messages.map((s) =>
      h(
        "tr",
        { dataset: { schedule: s.id } },
        h("td", {}, s.message.messages.map((m) => (typeof m.content === "string" ? m.content : m.content.map((c) => c.text).join(" "))).join(" / ")),
        h("td", { class: "small" }, when(s.schedule)),
        h("td", { class: "small" }, s.next_scheduled_time ? time(s.next_scheduled_time) : "—"),
        h("td", {}, h("button", { type: "button", class: "danger", onclick: () => remove(s, listing, agentId, status) }, "Delete")),
      ),
    );
    replace(listing, table(["Message", "When", "Next", ""], rows, { class: "schedules" }));
  } catch (error) {
    replace(listing, errorBox(error));
  }
}

async function remove(scheduled, listing, agentId, status) {
  try {
    await api(`${base(agentId)}/${encodeURIComponent(scheduled.id)}`, { method: "DELETE" });
    status.textContent = "Deleted.";
    await listSchedules(listing, agentId, status);
  } catch (error) {
    status.textContent = `Not deleted: ${messageOf(error)}`;
  }
}
