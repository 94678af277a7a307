// The agents list: filter by tags (match all / any), create, delete.
import { api, upload } from "../api.js";
import { agentLink, chip, empty, errorBox, h, loading, messageOf, plural, replace, table, time } from "../dom.js";

export async function agentsView(main, params) {
  const selected = params.getAll("tag");
  const matchAll = params.get("match") !== "any";
  document.title = "Agents · troupe";
  const list = h("div", { id: "agent-list" }, loading());
  replace(
    main,
    h("div", { class: "page-head" }, h("h1", {}, "Agents"), h("div", { class: "actions" }, importControl(), createForm())),
    h("div", { id: "tag-filter", class: "filter" }),
    list,
  );
  const [tags, agents, activity] = await Promise.all([
    api("v1/tags", { query: { limit: 1000 } }),
    api("v1/agents", {
      query: { tags: selected, match_all_tags: matchAll, include: "agent.blocks", limit: 1000 },
    }),
    api("v1/activity"),
  ]).catch((error) => {
    replace(list, errorBox(error));
    return [];
  });
  if (!agents) return;
  replace(main.querySelector("#tag-filter"), tagFilter(tags, selected, matchAll));
  const lastActive = new Map(activity.map((a) => [a.agent_id, a.last_activity_at]));
  if (!agents.length) {
    replace(
      list,
      selected.length
        ? empty(`No agent has ${matchAll ? "all" : "any"} of the tags ${selected.join(", ")}.`)
        : empty(
            "No agents yet.",
            h("p", {}, "Create one with “New agent”, or through the SDK: ", h("code", {}, "client.agents.create(name=…)")),
          ),
    );
    return;
  }
  const rows = agents.map((agent) =>
    h(
      "tr",
      { dataset: { agentId: agent.id } },
      h("td", {}, agentLink(agent.id, agent.name), agent.description ? h("div", { class: "muted small" }, agent.description) : null),
      h("td", {}, agent.tags.length ? agent.tags.map((t) => chip(t)) : h("span", { class: "muted" }, "—")),
      h("td", {}, h("code", {}, agent.model)),
      h("td", { class: "num" }, String(agent.blocks.length)),
      h("td", {}, time(lastActive.get(agent.id))),
      h("td", {}, h("button", { type: "button", class: "danger small", onclick: () => remove(agent) }, "Delete")),
    ),
  );
  replace(
    list,
    h("p", { class: "muted small" }, agents.length >= 1000 ? "The first 1000 agents (narrow the list with tags)." : plural(agents.length, "agent")),
    table(["Name", "Tags", "Model", "Blocks", "Last activity", ""], rows, { class: "agents" }),
  );
}

function tagFilter(tags, selected, matchAll) {
  if (!tags.length) return null;
  const go = (nextTags, nextAll) => {
    const query = new URLSearchParams();
    for (const t of nextTags) query.append("tag", t);
    if (!nextAll) query.set("match", "any");
    location.hash = `#/agents${[...query].length ? `?${query}` : ""}`;
  };
  const toggle = (tag) =>
    go(selected.includes(tag) ? selected.filter((t) => t !== tag) : [...selected, tag], matchAll);
  return h(
    "div",
    { role: "group", "aria-label": "Filter by tags" },
    h("span", { class: "filter-label" }, "Tags:"),
    tags.map((tag) =>
      h("button", { type: "button", class: "tag-toggle", "aria-pressed": String(selected.includes(tag)), onclick: () => toggle(tag) }, tag),
    ),
    h(
      "fieldset",
      { class: "match" },
      h("legend", { class: "sr-only" }, "Match"),
      ["all", "any"].map((mode) =>
        h(
          "label",
          {},
          h("input", { type: "radio", name: "match", value: mode, checked: (mode === "all") === matchAll, onchange: () => go(selected, mode === "all") }),
          ` match ${mode}`,
        ),
      ),
    ),
    selected.length ? h("button", { type: "button", class: "link", onclick: () => go([], true) }, "Clear") : null,
  );
}

async function remove(agent) {
  if (!confirm(`Delete the agent “${agent.name}”? Its history goes with it.`)) return;
  try {
    await api(`v1/agents/${encodeURIComponent(agent.id)}`, { method: "DELETE" });
    window.dispatchEvent(new HashChangeEvent("hashchange"));
  } catch (error) {
    alert(`Not deleted: ${messageOf(error)}`);
  }
}

function field(label, control, hint) {
  return h("label", { class: "field" }, h("span", {}, label), control, hint ? h("small", { class: "muted" }, hint) : null);
}

function createForm() {
  const status = h("p", { class: "error-text", role: "alert" });
  const form = h(
    "form",
    {
      id: "create-agent",
      class: "stack",
      onsubmit: async (event) => {
        event.preventDefault();
        const data = new FormData(form);
        const blocks = ["persona", "human"]
          .filter((label) => data.get(label).trim())
          .map((label) => ({ label, value: data.get(label) }));
        const body = {
          name: data.get("name").trim() || undefined,
          model: data.get("model").trim() || undefined,
          system: data.get("system").trim() || undefined,
          tags: data.get("tags").split(",").map((t) => t.trim()).filter(Boolean),
          memory_blocks: blocks,
          include_multi_agent_tools: data.get("multi") === "on",
        };
        try {
          const agent = await api("v1/agents", { method: "POST", body });
          location.hash = `#/agents/${encodeURIComponent(agent.id)}`;
        } catch (error) {
          status.textContent = messageOf(error);
        }
      },
    },
    h("div", { class: "grid2" },
      field("Name", h("input", { name: "name", autocomplete: "off" })),
      field("Model", h("input", { name: "model", placeholder: "server default", autocomplete: "off" }), "provider/model, e.g. openai/gpt-4.1-mini"),
      field("Tags", h("input", { name: "tags", placeholder: "team, worker", autocomplete: "off" }), "comma separated"),
      h("label", { class: "check" }, h("input", { type: "checkbox", name: "multi" }), " cross-agent tools"),
    ),
    field("Persona block", h("textarea", { name: "persona", rows: 2 })),
    field("Human block", h("textarea", { name: "human", rows: 2 })),
    field("System prompt", h("textarea", { name: "system", rows: 2, placeholder: "troupe's default" })),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Create agent")),
    status,
  );
  return h("details", { class: "create" }, h("summary", { class: "button" }, "New agent"), form);
}

// Import an Agent File (.af, from troupe or Letta): its agents join the list, and the first
// one opens.
function importControl() {
  const status = h("span", { class: "small", role: "status" });
  const input = h("input", {
    type: "file",
    accept: ".af,.json,application/json",
    class: "sr-only",
    onchange: async () => {
      const [file] = input.files;
      if (!file) return;
      status.textContent = "Importing…";
      try {
        const answer = await upload("v1/agents/import", file, () => {});
        status.textContent = `Imported ${plural(answer.agent_ids.length, "agent")}.`;
        location.hash = `#/agents/${encodeURIComponent(answer.agent_ids[0])}`;
      } catch (error) {
        status.className = "small error-text";
        status.textContent = `Not imported: ${messageOf(error)}`;
      } finally {
        input.value = "";
      }
    },
  });
  return h("div", { id: "import-agents" }, h("label", { class: "button" }, "Import .af", input), status);
}
