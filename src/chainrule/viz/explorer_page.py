"""The explorer's web page: HTML, CSS and the script that draws the graph and steps through it.

``explorer.py`` fills in ``__TITLE__`` and ``__DATA__`` (the JSON from ``explorer_data``). The page
needs nothing else: no server, no network, no library. The script draws each node at the position
computed in Python, and ``render(k)`` shows the state after the first k steps by replaying them.
"""

PAGE = r"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>__TITLE__</title>
<style>
  body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #222; background: #fafafa; }
  header { position: sticky; top: 0; left: 0; z-index: 2; width: 100vw; box-sizing: border-box; display: flex; gap: 18px;
           background: #fff; border-bottom: 1px solid #ddd; padding: 12px 20px 8px; }
  #summary { flex: 1; min-width: 0; }
  h1 { font-size: 18px; margin: 0 0 10px; font-weight: 600; }
  .controls { display: flex; flex-wrap: wrap; align-items: center; gap: 6px; }
  button { font-size: 14px; padding: 5px 12px; border: 1px solid #bbb; border-radius: 5px; background: #f4f4f4; cursor: pointer; }
  button:hover:enabled { background: #e8eefc; }
  button:disabled { color: #aaa; cursor: default; }
  #counter { margin-left: 10px; color: #555; font-size: 14px; }
  #status { margin-top: 8px; font-size: 14px; line-height: 1.5; min-height: 3em; font-family: ui-monospace, Menlo, Consolas, monospace; }
  #status .phase { font-family: system-ui, sans-serif; font-weight: 600; margin-right: 8px; }
  #status .phase.forward { color: #17803d; }
  #status .phase.backward { color: #c0262d; }
  .legend { font-size: 12px; color: #555; margin-top: 4px; }
  .swatch { display: inline-block; width: 11px; height: 11px; border: 1px solid #777; margin: 0 3px 0 10px; vertical-align: -1px; }
  main { padding: 10px 10px 40px; }
  #details { flex: 0 0 360px; max-height: 210px; overflow: auto; background: #fcfcfc; border: 1px solid #ccc;
             border-radius: 6px; padding: 8px 12px; font-size: 13px; }
  #details h2 { font-size: 16px; margin: 0 0 6px; }
  #details pre { background: #f5f5f5; padding: 6px; margin: 4px 0 8px; white-space: pre-wrap; font-size: 12px; }
  #details .muted { color: #888; }
  svg text { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; }
  .node { cursor: pointer; transition: opacity .2s; }
  .node.pending { opacity: .35; }
  .node.tensor rect { fill: #fff; stroke: #666; stroke-width: 1.2; }
  .node.leaf rect { fill: #cfe6ff; }
  .node.constant rect { fill: #eee; }
  .node.output rect { fill: #ffd9a8; }
  .node.op ellipse { fill: #fff4c2; stroke: #a89040; stroke-width: 1.2; }
  .node.active rect, .node.active ellipse { stroke: #d62728; stroke-width: 3; }
  .node.selected rect, .node.selected ellipse { stroke-dasharray: 5 3; stroke-width: 2.5; }
  .node .name { font-weight: bold; }
  .node .value { fill: #17803d; }
  .node .grad { fill: #c0262d; }
  .node.stored rect { stroke: #c0262d; }
  .edge path { stroke: #999; stroke-width: 1.4; fill: none; }
  .edge.active path { stroke: #d62728; stroke-width: 2.6; }
  .edge-label { fill: #c0262d; font-size: 11px; }
</style>
</head>
<body>
<header>
 <div id="summary">
  <h1>__TITLE__</h1>
  <div class="controls">
    <button id="reset" title="back to the start">|&#x25C0; Start</button>
    <button id="prev" title="one step back (left arrow)">&#x25C0; Back</button>
    <button id="next" title="one step on (right arrow)">Next &#x25B6;</button>
    <button id="to-backward" title="all values computed; backward not started">Forward done &#x25B6;|</button>
    <button id="to-end" title="every gradient computed">Run all &#x25B6;&#x25B6;|</button>
    <span id="counter"></span>
  </div>
  <div id="status"></div>
  <div class="legend">
    <span class="swatch" style="background:#cfe6ff"></span>leaf that requires grad
    <span class="swatch" style="background:#eee"></span>constant
    <span class="swatch" style="background:#fff"></span>intermediate
    <span class="swatch" style="background:#ffd9a8"></span>output
    <span class="swatch" style="background:#fff4c2;border-radius:6px"></span>operation (its grad_fn)
    &nbsp; <span style="color:#17803d">= value</span> &nbsp; <span style="color:#c0262d">grad = d(output)/d(tensor)</span>
  </div>
 </div>
 <aside id="details"><span class="muted">Click a node to see its value, gradient and formula.</span></aside>
</header>
<main><svg id="canvas" xmlns="http://www.w3.org/2000/svg"></svg></main>
<script id="graph-data" type="application/json">__DATA__</script>
<script>
"use strict";
const data = JSON.parse(document.getElementById("graph-data").textContent);
const SVG_NS = "http://www.w3.org/2000/svg";
const svg = document.getElementById("canvas");
const nodeById = new Map(data.nodes.map(node => [node.id, node]));
const forwardCount = data.steps.filter(step => step.phase === "forward").length;
const backwardStepOf = new Map();
data.steps.forEach((step, index) => { if (step.phase === "backward") backwardStepOf.set(step.active[0], index); });
let current = 0;
let selected = null;
let state = null;

function element(tag, attributes, parent) {
  const made = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attributes)) made.setAttribute(key, value);
  if (parent) parent.appendChild(made);
  return made;
}

function text(parent, x, y, className, content, anchor) {
  const made = element("text", { x: x, y: y, class: className, "text-anchor": anchor || "start" }, parent);
  made.textContent = content;
  return made;
}

function draw() {
  let width = 0, height = 0;
  for (const node of data.nodes) {
    width = Math.max(width, node.x + node.width);
    height = Math.max(height, node.y + node.height);
  }
  svg.setAttribute("width", width + 40);
  svg.setAttribute("height", height + 40);
  const marker = element("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto" },
    element("defs", {}, svg));
  element("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#888" }, marker);
  for (const edge of data.edges) {
    const tail = nodeById.get(edge.from), head = nodeById.get(edge.to);
    const group = element("g", { id: "edge-" + edge.id, class: "edge" }, svg);
    const center = tail.x + tail.width / 2;
    if (Math.abs(center - (head.x + head.width / 2)) < 1 && head.y > tail.y) {
      // An operation and the tensor it makes share a column: the arrow goes straight down.
      element("path", { d: `M ${center} ${tail.y + tail.height} L ${center} ${head.y - 2}`, "marker-end": "url(#arrow)" }, group);
      text(group, center + 6, (tail.y + tail.height + head.y) / 2 + 4, "edge-label", "", "start");
      continue;
    }
    const x1 = tail.x + tail.width, y1 = tail.y + tail.height / 2, x2 = head.x - 2, y2 = head.y + head.height / 2;
    const middle = (x1 + x2) / 2;
    element("path", { d: `M ${x1} ${y1} C ${middle} ${y1}, ${middle} ${y2}, ${x2} ${y2}`, "marker-end": "url(#arrow)" }, group);
    text(group, middle, (y1 + y2) / 2 - 5, "edge-label", "", "middle");
  }
  for (const node of data.nodes) {
    const classes = node.type === "op" ? "node op" : `node tensor ${node.kind}${node.output ? " output" : ""}`;
    const group = element("g", { id: "node-" + node.id, class: classes, "data-name": node.name }, svg);
    if (node.type === "op") {
      element("ellipse", { cx: node.x + node.width / 2, cy: node.y + node.height / 2, rx: node.width / 2, ry: node.height / 2 }, group);
      text(group, node.x + node.width / 2, node.y + node.height / 2 + 4, "name", node.name, "middle");
    } else {
      element("rect", { x: node.x, y: node.y, width: node.width, height: node.height, rx: 7 }, group);
      text(group, node.x + 9, node.y + 16, "name", node.shape === "scalar" ? node.name : `${node.name}  (${node.shape})`);
      text(group, node.x + 9, node.y + 33, "value", "");
      text(group, node.x + 9, node.y + 49, "grad", "");
    }
    group.addEventListener("click", () => { selected = node.id; render(current); });
  }
}

function stateAfter(count) {
  const result = { values: {}, grads: {}, edges: {}, shown: new Set(), stored: new Set() };
  for (const step of data.steps.slice(0, count)) {
    Object.assign(result.values, step.values || {});
    Object.assign(result.grads, step.grads || {});
    Object.assign(result.edges, step.edges || {});
    if (step.phase === "forward") step.active.forEach(id => result.shown.add(id));
    (step.stored || []).forEach(id => result.stored.add(id));
  }
  return result;
}

function render(count) {
  current = Math.max(0, Math.min(count, data.steps.length));
  state = stateAfter(current);
  const step = current > 0 ? data.steps[current - 1] : null;
  const active = new Set(step ? step.active : []);
  for (const node of data.nodes) {
    const group = document.getElementById("node-" + node.id);
    group.classList.toggle("pending", !state.shown.has(node.id));
    group.classList.toggle("active", active.has(node.id));
    group.classList.toggle("selected", selected === node.id);
    group.classList.toggle("stored", state.stored.has(node.id));
    if (node.type !== "tensor") continue;
    const value = state.values[node.id], grad = state.grads[node.id];
    group.querySelector(".value").textContent = value ? "= " + value.text : "";
    group.querySelector(".grad").textContent = grad ? "grad " + grad.text : "";
    if (value) group.setAttribute("data-value", JSON.stringify(value.json)); else group.removeAttribute("data-value");
    if (grad) group.setAttribute("data-grad", JSON.stringify(grad.json)); else group.removeAttribute("data-grad");
  }
  for (const edge of data.edges) {
    const group = document.getElementById("edge-" + edge.id);
    const label = state.edges[edge.id];
    group.querySelector("text").textContent = label || "";
    const forwardActive = step && step.phase === "forward" && active.has(edge.to) && nodeById.get(edge.to).type === "op";
    const backwardActive = step && step.phase === "backward" && (step.edges || {})[edge.id] !== undefined;
    group.classList.toggle("active", Boolean(forwardActive || backwardActive));
  }
  renderStatus(step);
  renderDetails();
  document.getElementById("prev").disabled = current === 0;
  document.getElementById("reset").disabled = current === 0;
  document.getElementById("next").disabled = current === data.steps.length;
  document.getElementById("to-end").disabled = current === data.steps.length;
  document.getElementById("to-backward").disabled = current === forwardCount;
}

function renderStatus(step) {
  const status = document.getElementById("status");
  status.replaceChildren();
  const phase = document.createElement("span");
  const phaseName = step ? step.phase : "start";
  phase.className = "phase " + phaseName;
  if (!step) {
    phase.textContent = "Start.";
    status.append(phase, "Next \u25B6 computes the values one operation at a time (forward), then the gradients (backward).");
  } else {
    const number = step.phase === "forward" ? current : current - forwardCount;
    const total = step.phase === "forward" ? forwardCount : data.steps.length - forwardCount;
    phase.textContent = `${step.phase === "forward" ? "Forward" : "Backward"} ${number}/${total}:`;
    status.append(phase);
    step.text.forEach((line, index) => {
      if (index > 0) status.append(document.createElement("br"));
      status.append(line);
    });
  }
  document.getElementById("counter").textContent = `step ${current} of ${data.steps.length}`;
}

function section(parent, title, content, isCode) {
  const heading = document.createElement("div");
  heading.innerHTML = "<b></b>";
  heading.firstChild.textContent = title;
  parent.append(heading);
  const body = document.createElement(isCode ? "pre" : "div");
  body.textContent = content;
  if (!isCode) body.className = "muted";
  parent.append(body);
}

function renderDetails() {
  const panel = document.getElementById("details");
  if (!selected) return;
  const node = nodeById.get(selected);
  panel.replaceChildren();
  const title = document.createElement("h2");
  title.textContent = node.name;
  panel.append(title);
  if (node.type === "tensor") {
    section(panel, node.role + (node.shape === "scalar" ? "" : `, shape ${node.shape}`), node.made_by ? `made by ${node.made_by}` : "", false);
    const value = state.values[node.id], grad = state.grads[node.id];
    section(panel, "value", value ? value.full : "not computed yet: step forward", Boolean(value));
    const gradTitle = `gradient d${data.output}/d${node.name}`;
    section(panel, gradTitle, grad ? grad.full + (grad.detail ? `\n(${grad.detail})` : "") : "not computed yet: step backward", Boolean(grad));
    if (state.stored.has(node.id)) section(panel, "stored", `in ${node.name}.grad`, false);
  } else {
    section(panel, "forward", `${node.function}(${node.inputs.join(", ")}) \u2192 ${node.outputs.join(", ")}`, true);
    if (node.formula) section(panel, "formula", node.formula, true);
    const index = backwardStepOf.get(node.id);
    if (index !== undefined && index < current) {
      section(panel, "backward (chain rule)", data.steps[index].text.join("\n"), true);
    } else if (index !== undefined) {
      section(panel, "backward", `reached at step ${index + 1} of ${data.steps.length}`, false);
    }
  }
}

document.getElementById("next").addEventListener("click", () => render(current + 1));
document.getElementById("prev").addEventListener("click", () => render(current - 1));
document.getElementById("reset").addEventListener("click", () => render(0));
document.getElementById("to-backward").addEventListener("click", () => render(forwardCount));
document.getElementById("to-end").addEventListener("click", () => render(data.steps.length));
document.addEventListener("keydown", event => {
  if (event.key === "ArrowRight") render(current + 1);
  if (event.key === "ArrowLeft") render(current - 1);
});
draw();
render(0);
</script>
</body>
</html>
"""
