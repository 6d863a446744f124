"""The explorer's web page: HTML, CSS and the script that draws the graph and steps through it.

``explorer.py`` fills in ``__TITLE__`` and ``__DATA__`` (the JSON from ``explorer_data``). The page
needs nothing else: no server, no network, no library. The script draws each node at the position
computed in Python, and ``render(k)`` shows the state after the first k steps by replaying them.
"""

#: The page after its head's common part (``page.PAGE_START``): its own style, body and script.
PAGE = r"""  #status { margin-top: 6px; font-size: 13px; line-height: 1.45; height: 5.9em; overflow: auto; font-family: ui-monospace, Menlo, Consolas, monospace; }
  #status .phase { font-family: system-ui, sans-serif; font-weight: 600; margin-right: 8px; }
  #status .phase.forward { color: #17803d; }
  #status .phase.backward { color: #c0262d; }
  .legend { font-size: 12px; color: #555; margin-top: 4px; }
  .swatch { display: inline-block; width: 11px; height: 11px; border: 1px solid #777; margin: 0 3px 0 10px; vertical-align: -1px; }
  #drawing { flex: 1 1 auto; min-width: 0; position: relative; cursor: grab; }
  #drawing.panning { cursor: grabbing; }
  #canvas { width: 100%; height: 100%; display: block; }
  #zoom { position: absolute; right: 8px; bottom: 8px; display: flex; gap: 4px; }
  #side { flex: 0 0 320px; overflow: auto; background: #fff; border-left: 1px solid #ddd; padding: 8px 12px; font-size: 13px; }
  #edit label { display: inline-block; width: 70px; font-family: ui-monospace, Menlo, Consolas, monospace; }
  #edit input { width: 150px; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; margin: 2px 0; }
  #edit .note { color: #666; font-size: 12px; margin: 4px 0 10px; }
  #details h2 { font-size: 16px; margin: 0 0 6px; }
  #details pre { background: #f5f5f5; padding: 6px; margin: 4px 0 8px; white-space: pre-wrap; font-size: 12px; }
  #details .muted { color: #888; }
  svg text { font-size: 12px; }
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
    &nbsp; drag to pan, wheel to zoom
  </div>
</header>
<div id="body">
  <div id="drawing">
    <svg id="canvas" xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMidYMid meet"></svg>
    <div id="zoom"><button id="zoom-in" title="zoom in">+</button><button id="zoom-out" title="zoom out">&minus;</button><button id="fit" title="the whole graph">Fit</button></div>
  </div>
  <aside id="side">
    <div id="edit"></div>
    <div id="details"><span class="muted">Click a node to see its value, gradient and formula.</span></div>
  </aside>
</div>
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
let bounds = null;  // the whole drawing, in its own units
let view = null;  // the part shown: { x, y, w, h }, with the window's aspect ratio
const MIN_SCALE = 0.8;  // smaller text is hard to read: below it the view follows the current step instead
const CHARACTER_WIDTH = 7.4;

function drawingSize() {
  const rect = svg.getBoundingClientRect();
  return { w: Math.max(rect.width, 1), h: Math.max(rect.height, 1), left: rect.left, top: rect.top };
}
function setView(x, y, scale) {
  const size = drawingSize();
  view = { x, y, w: size.w / scale, h: size.h / scale };
  svg.setAttribute("viewBox", `${view.x} ${view.y} ${view.w} ${view.h}`);
}
function scaleOf() { return drawingSize().w / view.w; }
function fitView() {
  const size = drawingSize();
  const scale = Math.min(1.3, Math.max(MIN_SCALE, Math.min(size.w / bounds.w, size.h / bounds.h)));
  const w = size.w / scale, h = size.h / scale;
  // Centered when it fits; else from the left edge, where forward starts.
  setView(w >= bounds.w ? bounds.x + (bounds.w - w) / 2 : bounds.x, h >= bounds.h ? bounds.y + (bounds.h - h) / 2 : bounds.y, scale);
}
function keepInView(ids) {
  const boxes = ids.map(id => nodeById.get(id)).filter(Boolean);
  if (!boxes.length) return;
  const left = Math.min(...boxes.map(b => b.x)) - 10, top = Math.min(...boxes.map(b => b.y)) - 10;
  const right = Math.max(...boxes.map(b => b.x + b.width)) + 10, bottom = Math.max(...boxes.map(b => b.y + b.height)) + 10;
  if (left >= view.x && top >= view.y && right <= view.x + view.w && bottom <= view.y + view.h) return;
  const size = drawingSize();
  const scale = Math.min(scaleOf(), size.w / (right - left), size.h / (bottom - top));
  const w = size.w / scale, h = size.h / scale;
  setView((left + right) / 2 - w / 2, (top + bottom) / 2 - h / 2, scale);
}
function zoom(factor, clientX, clientY) {
  const size = drawingSize();
  const fx = clientX === undefined ? 0.5 : (clientX - size.left) / size.w, fy = clientY === undefined ? 0.5 : (clientY - size.top) / size.h;
  const px = view.x + fx * view.w, py = view.y + fy * view.h;
  const scale = Math.min(4, Math.max(0.1, scaleOf() * factor));
  setView(px - fx * size.w / scale, py - fy * size.h / scale, scale);
}
function fitText(content, width) {  // what fits in a box of this width, with … when cut
  const room = Math.floor((width - 16) / CHARACTER_WIDTH);
  return content.length <= room ? content : content.slice(0, Math.max(1, room - 1)) + "\u2026";
}

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
  bounds = { x: 0, y: 0, w: width + 20, h: height + 20 };
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
    group.querySelector(".value").textContent = value ? fitText("= " + value.text, node.width) : "";
    group.querySelector(".grad").textContent = grad ? fitText("grad " + grad.text, node.width) : "";
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
  if (step) keepInView(step.active);
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
    section(panel, "forward", `${node.call} \u2192 ${node.outputs.join(", ")}`, true);
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
const drawing = document.getElementById("drawing");
drawing.addEventListener("wheel", event => { event.preventDefault(); zoom(Math.exp(-event.deltaY * 0.0015), event.clientX, event.clientY); }, { passive: false });
let pan = null;
drawing.addEventListener("pointerdown", event => { if (event.target.closest("button")) return; pan = { x: event.clientX, y: event.clientY, view: Object.assign({}, view) }; });
window.addEventListener("pointermove", event => {
  if (!pan) return;
  const dx = event.clientX - pan.x, dy = event.clientY - pan.y;
  if (Math.abs(dx) + Math.abs(dy) < 3) return;
  drawing.classList.add("panning");
  const scale = scaleOf();
  setView(pan.view.x - dx / scale, pan.view.y - dy / scale, scale);
});
window.addEventListener("pointerup", () => { pan = null; drawing.classList.remove("panning"); });
window.addEventListener("resize", () => { fitView(); render(current); });
document.getElementById("zoom-in").addEventListener("click", () => zoom(1.25));
document.getElementById("zoom-out").addEventListener("click", () => zoom(0.8));
document.getElementById("fit").addEventListener("click", () => { const size = drawingSize(); setView(bounds.x, bounds.y, Math.min(size.w / bounds.w, size.h / bounds.h)); });
// ------------------------------------------------------------------ recomputing after an edit
// On single numbers, the page redoes forward and backward with each operation's own derivative,
// writing the same texts as chainrule wrote (explorer.py: _forward_steps, _backward_steps).
const OPS = {
  Add: { f: (a, b) => a + b, d: [() => 1, () => 1] },
  Sub: { f: (a, b) => a - b, d: [() => 1, () => -1] },
  Mul: { f: (a, b) => a * b, d: [(a, b) => b, (a, b) => a] },
  Div: { f: (a, b) => a / b, d: [(a, b) => 1 / b, (a, b) => -a / (b * b)] },
  Pow: { f: (x, _, p) => x ** p, d: [(x, _, p) => p * x ** (p - 1)] },
  Neg: { f: x => -x, d: [() => -1] },
  Exp: { f: Math.exp, d: [(x, _, __, out) => out] },
  Log: { f: Math.log, d: [x => 1 / x] },
  Sin: { f: Math.sin, d: [x => Math.cos(x)] },
  Cos: { f: Math.cos, d: [x => -Math.sin(x)] },
  Tanh: { f: Math.tanh, d: [(x, _, __, out) => 1 - out * out] },
  Sigmoid: { f: x => 1 / (1 + Math.exp(-x)), d: [(x, _, __, out) => out * (1 - out)] },
  Sqrt: { f: Math.sqrt, d: [(x, _, __, out) => 0.5 / out] },
  Sum: { f: x => x, d: [() => 1] },
  Mean: { f: x => x, d: [() => 1] },
};
const fmt = value => {
  if (!Number.isFinite(value)) return String(value);
  const text = value.toPrecision(4);
  return String(Math.abs(value) >= 1e-4 && Math.abs(value) < 1e4 ? +text : +text === 0 ? 0 : Number(text).toExponential().replace(/e([+-])(\d)$/, "e$10$2"));
};
const sumText = parts => { const total = parts.reduce((a, b) => a + b, 0); return parts.length === 1 ? fmt(total) : parts.map(fmt).join(" + ") + " = " + fmt(total); };
const valueData = (value, detail) => ({ text: fmt(value), full: fmt(value), json: value, detail: detail || null });
const term = name => /^[^\W\d][\w.]*$/u.test(name) || !Number.isNaN(Number(name)) ? name : `(${name})`;
const derivativeOf = (of, by) => `d${term(of)}/d${term(by)}`;

function recompute(leafValues) {
  const plan = data.recompute, names = plan.names, out = data.output;
  const values = Object.assign({}, plan.values, leafValues);
  for (const op of plan.operations) {
    values[op.output] = OPS[op.function].f(values[op.inputs[0]], values[op.inputs[1]], op.exponent);
  }
  const steps = [];
  const roles = { leaf: "leaf that requires grad", constant: "constant" };
  for (const step of data.steps.filter(step => step.phase === "forward")) {
    const ids = Object.keys(step.values);
    const updated = Object.assign({}, step, { values: {} });
    ids.forEach(id => { updated.values[id] = valueData(values[id]); });
    const op = plan.operations.find(op => op.output === ids[0]);
    if (op) updated.text = [`${op.call} gives ${names[op.output]} = ${fmt(values[op.output])}`];
    else if (plan.leaves.includes(ids[0])) updated.text = [`${names[ids[0]]} = ${fmt(values[ids[0]])}   (a ${roles.leaf})`];
    steps.push(updated);
  }
  const parts = { [plan.output_id]: [1] }, received = {};
  plan.backward.forEach((entry, index) => {
    if (entry.leaf !== undefined) {
      const terms = parts[entry.leaf] || [];
      const note = terms.length > 1 ? `(the sum of the parts sent by its ${terms.length} uses, stored in the leaf)` : "(stored in the leaf)";
      steps.push({ phase: "backward", text: [`${names[entry.leaf]}.grad = ${derivativeOf(out, names[entry.leaf])} = ${sumText(terms)}   ${note}`], active: [entry.leaf], grads: {}, edges: {}, stored: [entry.leaf] });
      return;
    }
    const op = plan.operations.find(op => op.id === entry.operation);
    const terms = parts[entry.output] || [0];
    const arriving = terms.reduce((a, b) => a + b, 0);
    const grads = {};
    if (index === 0) grads[plan.output_id] = valueData(arriving, `${derivativeOf(out, out)} = 1: where backward starts`);
    let first = `${entry.name}: the gradient arriving is ${derivativeOf(out, names[entry.output])} = ${sumText(terms)}`;
    if (terms.length > 1) first += `   (the sum of the parts from its ${terms.length} uses)`;
    const text = [first], active = [entry.operation], edges = {};
    for (const edge of entry.edges) {
      const local = OPS[op.function].d[edge.position](values[op.inputs[0]], values[op.inputs[1]], op.exponent, values[op.output]);
      const sent = arriving * local;
      (parts[edge.input] = parts[edge.input] || []).push(sent);
      let localText = `${edge.derivative} = ${edge.formula}`;
      if (fmt(local) !== edge.formula) localText += ` = ${fmt(local)}`;
      const whole = derivativeOf(out, names[edge.input]);
      text.push(`${localText}, so ${edge.uses > 1 ? `part of ${whole}: ` : `${whole} = `}${fmt(arriving)} × ${fmt(local)} = ${fmt(sent)}`);
      const got = (received[edge.input] = received[edge.input] || []);
      got.push(sent);
      const total = got.reduce((a, b) => a + b, 0);
      grads[edge.input] = valueData(total, got.length > 1 ? "summed over its uses: " + sumText(got) : null);
      if (got.length > 1 && sumText(got).length <= 32) grads[edge.input].text = sumText(got);
      let label = `× ${fmt(local)} = ${fmt(sent)}`;
      if (label.length > 22) label = "← " + fmt(sent);
      edges[edge.edge] = edges[edge.edge] ? `${edges[edge.edge]}, ${label}` : label;
      active.push(edge.input);
    }
    steps.push({ phase: "backward", text, active, grads, edges });
  });
  data.steps = steps;
  render(current);
}

function buildEditor() {
  const panel = document.getElementById("edit");
  if (!data.recompute) {
    panel.innerHTML = '<div class="note">The numbers come from chainrule. (Editing them here works for expressions of single numbers.)</div>';
    return;
  }
  const title = document.createElement("b");
  title.textContent = "Change the inputs";
  panel.append(title);
  for (const id of data.recompute.leaves) {
    const row = document.createElement("div");
    const label = document.createElement("label");
    label.textContent = data.recompute.names[id];
    label.htmlFor = "input-" + id;
    const input = document.createElement("input");
    input.id = "input-" + id;
    input.dataset.leaf = id;
    input.value = fmt(data.recompute.values[id]);
    input.addEventListener("change", recomputeFromInputs);
    row.append(label, input);
    panel.append(row);
  }
  const step = document.createElement("div");
  step.innerHTML = '<label for="input-lr">lr</label><input id="input-lr" value="0.1"> <button id="train">Train one step</button>';
  panel.append(step);
  const history = document.createElement("div");
  history.id = "history";
  history.className = "note";
  panel.append(history);
  const note = document.createElement("div");
  note.className = "note";
  note.id = "edit-note";
  note.textContent = "Numbers from chainrule's backward; an edit recomputes them here with each operation's derivative.";
  panel.append(note);
  document.getElementById("train").addEventListener("click", trainOneStep);
}
// Gradient descent on the leaves: each leaf ← leaf - lr · d(output)/d(leaf), then forward and
// backward again; the output's values so far are listed, so that the student sees it fall.
let outputHistory = [];
function trainOneStep() {
  const lr = Number(document.getElementById("input-lr").value);
  if (!Number.isFinite(lr)) { document.getElementById("edit-note").textContent = "lr needs a number"; return; }
  const leafGrad = id => {
    const last = data.steps.filter(step => step.phase === "backward" && step.grads && step.grads[id]).pop();
    return last ? last.grads[id].json : 0;
  };
  if (!outputHistory.length) outputHistory.push(currentOutput());
  for (const input of document.querySelectorAll("#edit input[data-leaf]")) {
    input.value = String(Number(input.value) - lr * leafGrad(input.dataset.leaf));
  }
  recomputeFromInputs();
  outputHistory.push(currentOutput());
  document.getElementById("history").textContent = `${data.output}: ` + outputHistory.map(fmt).join(" \u2192 ");
}
function currentOutput() {
  const step = data.steps.find(step => step.phase === "forward" && step.values[data.recompute.output_id]);
  return step.values[data.recompute.output_id].json;
}
function recomputeFromInputs() {
  const leafValues = {};
  for (const input of document.querySelectorAll("#edit input[data-leaf]")) {
    const value = Number(input.value);
    if (input.value.trim() === "" || !Number.isFinite(value)) {
      document.getElementById("edit-note").textContent = `${data.recompute.names[input.dataset.leaf]} needs a number`;
      return;
    }
    leafValues[input.dataset.leaf] = value;
  }
  document.getElementById("edit-note").textContent = "Recomputed in the page with each operation's derivative (the tests check it equals chainrule).";
  recompute(leafValues);
}

buildEditor();
draw();
fitView();
render(0);
</script>
</body>
</html>
"""
