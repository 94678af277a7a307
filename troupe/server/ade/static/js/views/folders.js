// Folders and their files: make a folder, upload files into it (with the upload's progress
// and each file's processing status), delete files, and see which agents hold the folder.
import { all, api, upload } from "../api.js";
import { agentLink, badge, empty, errorBox, h, link, loading, messageOf, plural, replace, section, table, time } from "../dom.js";

const ACCEPT = ".txt,.text,.log,.md,.markdown,.json,.csv,.html,.htm,.pdf";

function createForm() {
  const status = h("p", { class: "muted small", role: "status" });
  const form = h(
    "form",
    { id: "create-folder", class: "stack" },
    h("label", { class: "field" }, h("span", {}, "Name"), h("input", { name: "name", required: true, maxlength: "255" })),
    h("label", { class: "field" }, h("span", {}, "Description"), h("input", { name: "description" })),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Create folder")),
    status,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    try {
      const folder = await api("v1/folders", {
        method: "POST",
        body: { name: data.get("name"), description: data.get("description") || null },
      });
      location.hash = `#/folders/${encodeURIComponent(folder.id)}`;
    } catch (error) {
      status.textContent = messageOf(error);
      status.className = "error-text small";
    }
  });
  return form;
}

export async function foldersView(main) {
  document.title = "Folders · troupe";
  replace(main, h("h1", {}, "Folders"), loading());
  let folders;
  try {
    folders = await all("v1/folders");
  } catch (error) {
    replace(main, h("h1", {}, "Folders"), errorBox(error));
    return;
  }
  const rows = folders.map((f) =>
    h("tr", {}, h("td", {}, link(`#/folders/${encodeURIComponent(f.id)}`, f.name)), h("td", {}, f.description || ""), h("td", {}, f.embedding_config.handle || f.embedding_config.embedding_model), h("td", {}, time(f.created_at))),
  );
  replace(
    main,
    h("h1", {}, "Folders"),
    folders.length
      ? table(["Name", "Description", "Embedding", "Created"], rows, { class: "rows folders" })
      : empty("No folders yet. Files uploaded to a folder are read, cut into passages and embedded; agents the folder is attached to see them."),
    section("New folder", createForm()),
  );
}

function fileRow(folderId, file, refresh) {
  const remove = h("button", { type: "button", class: "small" }, "Delete");
  remove.addEventListener("click", async () => {
    remove.disabled = true;
    await api(`v1/folders/${folderId}/${file.id}`, { method: "DELETE" }).catch(() => {});
    refresh();
  });
  return h(
    "tr",
    { dataset: { file: file.id } },
    h("td", {}, file.file_name),
    h("td", {}, file.file_type),
    h("td", { class: "num" }, `${file.file_size.toLocaleString()} B`),
    h("td", {}, badge(file.processing_status), file.error_message ? h("span", { class: "error-text small" }, ` ${file.error_message}`) : ""),
    h("td", { class: "num" }, `${file.chunks_embedded}/${file.total_chunks}`),
    h("td", {}, time(file.created_at)),
    h("td", {}, remove),
  );
}

function uploadForm(folderId, refresh) {
  const input = h("input", { type: "file", name: "file", accept: ACCEPT, multiple: true, "aria-label": "Files to upload" });
  const progress = h("progress", { max: "100", value: "0", "aria-label": "Upload progress", hidden: true });
  const status = h("p", { class: "small", role: "status" });
  const form = h("form", { id: "upload-file", class: "stack" }, input, progress, h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Upload")), status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const files = [...input.files];
    if (!files.length) return;
    const done = [];
    status.className = "small";
    for (const file of files) {
      progress.hidden = false;
      progress.value = 0;
      status.textContent = `Uploading ${file.name}…`;
      try {
        const stored = await upload(`v1/folders/${folderId}/upload`, file, (fraction) => {
          progress.value = Math.round(fraction * 100);
        });
        done.push(`${stored.file_name}: ${stored.processing_status}`);
      } catch (error) {
        status.textContent = `${file.name}: ${messageOf(error)}`;
        status.className = "error-text small";
        refresh();
        return;
      }
    }
    status.textContent = `Uploaded ${done.join(", ")}`;
    input.value = "";
    refresh();
  });
  return form;
}

export async function folderView(main, _params, folderId) {
  replace(main, h("h1", {}, "Folder"), loading());
  let folder, agents;
  try {
    [folder, agents] = await Promise.all([api(`v1/folders/${folderId}`), api(`v1/folders/${folderId}/agents`)]);
  } catch (error) {
    replace(main, h("h1", {}, "Folder"), errorBox(error));
    return;
  }
  document.title = `${folder.name} · troupe`;
  const files = h("div", { id: "folder-files" }, loading());
  const refresh = async () => {
    try {
      const list = await all(`v1/folders/${folderId}/files`);
      replace(
        files,
        list.length
          ? table(["File", "Type", "Size", "Status", "Embedded", "Uploaded", ""], list.map((f) => fileRow(folderId, f, refresh)), { class: "rows files" })
          : empty("No files yet: upload text, Markdown, JSON, CSV, HTML or PDF files."),
      );
    } catch (error) {
      replace(files, errorBox(error));
    }
  };
  replace(
    main,
    h("h1", {}, folder.name),
    folder.description ? h("p", {}, folder.description) : "",
    h("p", { class: "muted small" }, link("#/folders", "All folders"), ` · embedding ${folder.embedding_config.handle || folder.embedding_config.embedding_model} · `, plural(agents.length, "agent"), agents.length ? ": " : "", agents.map((id, i) => [i ? ", " : "", agentLink(id)])),
    section("Upload", uploadForm(folderId, refresh)),
    section("Files", files),
  );
  await refresh();
}
