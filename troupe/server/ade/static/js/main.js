// The ADE's router: hash routes, so the server serves one page and every view is a link.
import { errorBox, replace } from "./dom.js";
import { agentView } from "./views/agent.js";
import { agentsView } from "./views/agents.js";
import { blocksView, teamView } from "./views/blocks.js";
import { folderView, foldersView } from "./views/folders.js";
import { runsView, traceView, tracesView } from "./views/traces.js";

const ROUTES = [
  [/^\/?(agents)?$/, agentsView, "agents"],
  [/^\/agents\/([^/]+)$/, agentView, "agents"],
  [/^\/blocks$/, blocksView, "blocks"],
  [/^\/team$/, teamView, "team"],
  [/^\/traces$/, tracesView, "traces"],
  [/^\/traces\/([^/]+)$/, traceView, "traces"],
  [/^\/runs$/, runsView, "runs"],
  [/^\/folders$/, foldersView, "folders"],
  [/^\/folders\/([^/]+)$/, folderView, "folders"],
];

const main = document.getElementById("view");

async function route() {
  const [path, query = ""] = location.hash.replace(/^#/, "").split("?");
  const params = new URLSearchParams(query);
  for (const [pattern, view, section] of ROUTES) {
    const match = pattern.exec(path);
    if (!match) continue;
    for (const a of document.querySelectorAll("nav a")) {
      a.toggleAttribute("aria-current", a.dataset.section === section);
    }
    const arg = match[1] && view !== agentsView ? decodeURIComponent(match[1]) : undefined;
    main.setAttribute("aria-busy", "true");
    try {
      await view(main, params, arg);
    } catch (error) {
      replace(main, errorBox(error));
    } finally {
      main.setAttribute("aria-busy", "false");
    }
    return;
  }
  replace(main, errorBox(new Error(`There is no page “${path}”.`)));
}

let previous = null;
window.addEventListener("hashchange", () => {
  const page = location.hash.split("?")[0];
  route().then(() => {
    // Focus goes to the new view once it has loaded, unless the user already went into it
    // meanwhile (the chat box is usable before the memory column has loaded): taking the
    // focus back would send their next keys nowhere.
    const userMovedIn = main.contains(document.activeElement);
    if (page !== previous && !userMovedIn) main.focus({ preventScroll: true });
    previous = page;
  });
});
previous = location.hash.split("?")[0];
route();
