// The one way the ADE talks to troupe: fetch() on the /v1 API, with the API key the user
// gave (asked for once, on the first 401, and kept in localStorage). Streaming uses fetch
// too, not EventSource, because EventSource cannot send an Authorization header.

const KEY_STORAGE = "troupe.apiKey";
const BASE = new URL("./", document.baseURI); // works when troupe sits under a path prefix

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
    this.detail = detail;
  }
}

export const storedKey = () => localStorage.getItem(KEY_STORAGE) || "";

let pendingKey = null; // one prompt, however many requests were refused at once

function askForKey(refused) {
  if (!pendingKey) {
    pendingKey = promptForKey(refused).finally(() => {
      pendingKey = null;
    });
  }
  return pendingKey;
}

function promptForKey(refused) {
  const dialog = document.getElementById("key-dialog");
  const form = dialog.querySelector("form");
  const input = dialog.querySelector("input");
  const note = dialog.querySelector(".key-note");
  note.textContent = refused
    ? "The server refused that key. Check it and try again."
    : "This troupe server needs its API key (TROUPE_API_KEY).";
  note.classList.toggle("error-text", Boolean(refused));
  input.value = "";
  return new Promise((resolve, reject) => {
    const submit = (event) => {
      event.preventDefault();
      done();
      const key = input.value.trim();
      localStorage.setItem(KEY_STORAGE, key);
      dialog.close();
      resolve(key);
    };
    const cancel = () => {
      // Escape: this request fails with a clear error; the next one asks again.
      done();
      reject(new ApiError(401, "this server needs its API key: reload the page to enter it"));
    };
    const done = () => {
      form.removeEventListener("submit", submit);
      dialog.removeEventListener("cancel", cancel);
    };
    form.addEventListener("submit", submit);
    dialog.addEventListener("cancel", cancel);
    dialog.showModal();
    input.focus();
  });
}

async function send(path, options) {
  for (;;) {
    const key = storedKey();
    const headers = { Accept: "application/json", ...(options.headers || {}) };
    if (key) headers.Authorization = `Bearer ${key}`;
    const response = await fetch(new URL(path, BASE), { ...options, headers });
    if (response.status !== 401) return response;
    // Refused with a key the user has replaced since this request left (it was on its way
    // while they answered the prompt): try the new key rather than ask again.
    if (storedKey() !== key) continue;
    await askForKey(Boolean(key));
  }
}

async function failure(response) {
  let detail = response.statusText;
  try {
    const body = await response.json();
    detail = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
  } catch {
    // not JSON: keep the status text
  }
  return new ApiError(response.status, detail);
}

export async function api(path, { method = "GET", body, query } = {}) {
  let url = path;
  if (query) {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) {
      for (const v of [value].flat()) if (v !== undefined && v !== null && v !== "") params.append(name, v);
    }
    if ([...params].length) url += `?${params}`;
  }
  const options = { method };
  if (body !== undefined) {
    options.body = JSON.stringify(body);
    options.headers = { "Content-Type": "application/json" };
  }
  const response = await send(url, options);
  if (!response.ok) throw await failure(response);
  return response.json();
}

// POST a message and call onEvent with every server-sent event as it arrives.
export async function stream(path, body, onEvent) {
  const response = await send(path, {
    method: "POST",
    body: JSON.stringify(body),
    headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
  });
  if (!response.ok) throw await failure(response);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = event
        .split("\n")
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).trimStart())
        .join("\n");
      if (!data) continue;
      if (data === "[DONE]") return;
      const parsed = JSON.parse(data);
      // Keepalive pings (include_pings, on by default) only keep idle proxies from closing.
      if (parsed.message_type !== "ping") onEvent(parsed);
    }
  }
}

// Every item of a list route (they are paged with `after`).
export async function all(path, query = {}, pageSize = 1000) {
  const items = [];
  let after;
  for (;;) {
    const page = await api(path, { query: { ...query, limit: pageSize, order: "asc", after } });
    items.push(...page);
    if (page.length < pageSize) return items;
    after = page[page.length - 1].id;
  }
}

// Upload one file (multipart, as the SDKs send it), reporting progress (0 to 1) as it goes:
// XMLHttpRequest, because fetch() cannot report an upload's progress.
export async function upload(path, file, onProgress) {
  for (;;) {
    const key = storedKey();
    const result = await new Promise((resolve, reject) => {
      const request = new XMLHttpRequest();
      request.open("POST", new URL(path, BASE));
      request.setRequestHeader("Accept", "application/json");
      if (key) request.setRequestHeader("Authorization", `Bearer ${key}`);
      request.upload.addEventListener("progress", (event) => {
        if (event.lengthComputable) onProgress(event.loaded / event.total);
      });
      request.addEventListener("load", () => resolve(request));
      request.addEventListener("error", () => reject(new ApiError(0, "the upload did not reach the server")));
      const body = new FormData();
      body.append("file", file, file.name);
      request.send(body);
    });
    if (result.status === 401 && storedKey() === key) {
      await askForKey(Boolean(key));
      continue;
    }
    if (result.status === 401) continue;
    let answer;
    try {
      answer = JSON.parse(result.responseText);
    } catch {
      answer = {};
    }
    if (result.status < 200 || result.status >= 300) {
      const detail = typeof answer.detail === "string" ? answer.detail : JSON.stringify(answer.detail ?? result.statusText);
      throw new ApiError(result.status, detail);
    }
    onProgress(1);
    return answer;
  }
}
