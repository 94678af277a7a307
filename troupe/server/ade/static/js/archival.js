// The archival memory panel of an agent's page: search it by meaning, store a passage (with
// tags), delete one. Every action goes through the same /v1 routes the SDKs use.
import { api } from "./api.js";
import { empty, errorBox, h, messageOf, replace, table, time } from "./dom.js";

const base = (agentId) => `v1/agents/${encodeURIComponent(agentId)}/archival-memory`;

export async function loadArchival(container, agentId) {
  const status = h("span", { class: "save-status", role: "status", id: "archival-status" });
  const listing = h("div", { id: "archival-list" });
  const results = h("div", { id: "archival-results" });
  const refresh = () => listPassages(listing, agentId, status);
  replace(container, searchForm(agentId, results), results, insertForm(agentId, status, refresh), listing);
  await refresh();
}

function searchForm(agentId, results) {
  const query = h("input", { type: "search", name: "query", required: true, "aria-label": "Search archival memory", placeholder: "Search by meaning…" });
  const submit = async (event) => {
    event.preventDefault();
    try {
      const found = await api(`${base(agentId)}/search?${new URLSearchParams({ query: query.value, top_k: "5" })}`);
      const rows = found.results.map((r) => h("li", {}, r.content, r.tags?.length ? h("span", { class: "muted small" }, ` · ${r.tags.join(", ")}`) : ""));
      replace(results, rows.length ? h("ol", { class: "archival-hits" }, rows) : empty("Nothing found."));
    } catch (error) {
      replace(results, errorBox(error));
    }
  };
  return h("form", { id: "archival-search", class: "inline", onsubmit: submit }, query, h("button", { type: "submit" }, "Search"));
}

function insertForm(agentId, status, refresh) {
  const text = h("textarea", { name: "text", rows: 2, required: true, "aria-label": "New passage" });
  const tags = h("input", { name: "tags", "aria-label": "Tags (comma-separated)", placeholder: "tags, comma-separated" });
  const submit = async (event) => {
    event.preventDefault();
    status.textContent = "Storing…";
    try {
      const body = { text: text.value, tags: tags.value.split(",").map((t) => t.trim()).filter(Boolean) };
      await api(base(agentId), { method: "POST", body });
      text.value = "";
      tags.value = "";
      status.textContent = "Stored.";
      await refresh();
    } catch (error) {
      status.textContent = `Not stored: ${messageOf(error)}`;
    }
  };
  return h("form", { id: "archival-insert", onsubmit: submit }, text, tags, h("div", { class: "actions" }, h("button", { type: "submit" }, "Store passage"), status));
}

async function listPassages(listing, agentId, status) {
  try {
    const passages = await api(`${base(agentId)}?${new URLSearchParams({ ascending: "false", limit: "50" })}`);
    if (!passages.length) {
      replace(listing, empty("No archival memory yet."));
      return;
    }
    const rows = passages.map((p) =>
      h(
        "tr",
        { dataset: { passage: p.id } },
        h("td", {}, p.text),
        h("td", { class: "small" }, (p.tags || []).join(", ")),
        h("td", { class: "small" }, time(p.created_at)),
        h("td", {}, h("button", { type: "button", class: "danger", onclick: () => remove(p, listing, agentId, status) }, "Delete")),
      ),
    );
    replace(listing, table(["Passage", "Tags", "Stored", ""], rows, { class: "archival" }));
  } catch (error) {
    replace(listing, errorBox(error));
  }
}

async function remove(passage, listing, agentId, status) {
  try {
    await api(`${base(agentId)}/${encodeURIComponent(passage.id)}`, { method: "DELETE" });
    status.textContent = "Deleted.";
    await listPassages(listing, agentId, status);
  } catch (error) {
    status.textContent = `Not deleted: ${messageOf(error)}`;
  }
}
