// Mermaid, vendored (see scripts/vendor-ade.sh), loaded only by the views that draw with it.
import { h, replace } from "./dom.js";

const MERMAID = new URL("../vendor/mermaid.min.js", import.meta.url); // version: vendor/VERSIONS
let loaded = null;
let counter = 0;

function load() {
  loaded ??= new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = MERMAID;
    script.onload = () => {
      window.mermaid.initialize({ startOnLoad: false, securityLevel: "strict", theme: "neutral" });
      resolve(window.mermaid);
    };
    script.onerror = () => reject(new Error("could not load the diagram library"));
    document.head.append(script);
  });
  return loaded;
}

// Draw Mermaid text into `container` as an SVG; on failure, say so and show the text.
export async function drawDiagram(container, text, title) {
  replace(container, h("p", { class: "loading", role: "status" }, "Drawing the diagram…"));
  try {
    const mermaid = await load();
    const { svg } = await mermaid.render(`diagram-${++counter}`, text);
    container.innerHTML = svg; // mermaid's own output, sanitised by it (securityLevel strict)
    const drawn = container.querySelector("svg");
    drawn.setAttribute("role", "img");
    drawn.setAttribute("aria-label", title);
  } catch (error) {
    replace(
      container,
      h("p", { class: "error-text" }, `The diagram could not be drawn: ${error.message || error}`),
      h("pre", { class: "text" }, text),
    );
  }
}
