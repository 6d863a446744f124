"""The layer view's web page: neurons in columns, weights as edges, the delta rule step by step.

``network.py`` fills in ``__TITLE__`` and ``__DATA__`` (from ``network_data``). The page shows
chainrule's autograd numbers as they are; when the student edits the example, the target or the
learning rate, or trains one step, the script recomputes forward, the deltas, the gradients and the
update with the formulas the page prints (the same formulas, in float64). It needs no server, no
network and no library, and fits a 1366x768 window whatever the network's size: the drawing scales
to the space left by the text, and layers wider than ``SHOWN`` neurons show the first ones and a count.
"""

#: The page after its head's common part (``page.PAGE_START``): its own style, body and script.
PAGE = r"""  #status { margin-top: 6px; font-size: 13px; line-height: 1.45; height: 8.8em; overflow: auto; font-family: ui-monospace, Menlo, Consolas, monospace; white-space: pre-wrap; }
  #status .phase { font-family: system-ui, sans-serif; font-weight: 600; }
  .forward { color: #17803d; } .backward { color: #c0262d; } .update { color: #6a3fb5; }
  #drawing { flex: 1 1 auto; min-width: 0; position: relative; }
  #canvas { width: 100%; height: 100%; display: block; }
  aside { flex: 0 0 300px; overflow: auto; border-left: 1px solid #ddd; background: #fff; padding: 8px 12px; font-size: 13px; }
  aside label { display: block; margin-top: 6px; font-weight: 600; }
  aside input { width: 100%; box-sizing: border-box; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; padding: 3px; }
  aside .note { color: #666; font-size: 12px; margin-top: 6px; line-height: 1.4; }
  #error-message { color: #c0262d; font-size: 12px; min-height: 1em; }
  #losses { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; }
  svg text { font-size: 13px; }
  .neuron rect { fill: #fff; stroke: #666; stroke-width: 1.2; }
  .neuron.input rect { fill: #cfe6ff; }
  .neuron.output rect { fill: #ffd9a8; }
  .neuron.active rect { stroke: #d62728; stroke-width: 3; }
  .neuron .value { fill: #17803d; } .neuron .delta { fill: #c0262d; } .neuron .target { fill: #555; }
  .weight line { stroke: #aaa; stroke-width: 1.3; }
  .weight.active line { stroke: #d62728; stroke-width: 2.2; }
  .weight text { font-size: 12px; fill: #444; paint-order: stroke; stroke: #fafafa; stroke-width: 4px; }
  .weight.active text { fill: #c0262d; }
  .header { font-family: system-ui, sans-serif; font-size: 14px; font-weight: 600; fill: #333; }
  .more { fill: #777; font-style: italic; }
</style>
</head>
<body>
<header>
  <h1>__TITLE__</h1>
  <div class="controls">
    <button id="reset">|&#x25C0; Start</button>
    <button id="prev">&#x25C0; Back</button>
    <button id="next">Next &#x25B6;</button>
    <button id="to-end">Run all &#x25B6;&#x25B6;|</button>
    <span id="counter"></span>
  </div>
  <div id="status"></div>
</header>
<div id="body">
  <div id="drawing"><svg id="canvas" xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMidYMid meet"></svg></div>
  <aside>
    <b>Try other numbers</b>
    <label for="input-x">input x (one example)</label><input id="input-x">
    <label for="input-t">target t</label><input id="input-t">
    <label for="input-lr">learning rate lr</label><input id="input-lr">
    <div class="controls" style="margin-top:8px"><button id="recompute">Recompute</button><button id="train">Train one step</button></div>
    <div id="error-message"></div>
    <div id="losses"></div>
    <div class="note" id="source"></div>
    <div class="note" id="graph-link"></div>
    <div class="note">E = ½ Σ<sub>k</sub> (O<sub>k</sub> − t<sub>k</sub>)². In layer n+1, neuron j gets the net input
      x<sub>j</sub> = Σ<sub>i</sub> O<sub>i</sub> w<sub>n</sub>[i, j] + b<sub>j</sub> and outputs O<sub>j</sub> = f(x<sub>j</sub>).
      w<sub>n</sub>[i, j] goes from neuron i of layer n to neuron j of layer n+1 (PyTorch's weight[j, i]).
      δ = dE/dx, the gradient of the error with respect to a neuron's net input.</div>
  </aside>
</div>
<script id="network-data" type="application/json">__DATA__</script>
<script>
"use strict";
const data = JSON.parse(document.getElementById("network-data").textContent);
const SVG_NS = "http://www.w3.org/2000/svg";
const SHOWN = 5;  // neurons drawn per layer; the rest are counted
const LETTERS = "abcdefghijk";
const L = data.layers.length;
const sizes = [data.x.length].concat(data.layers.map(layer => layer.size));
// Index letters as in the notes: ..., i, j, k for the last three layers.
const letter = n => LETTERS[Math.max(0, LETTERS.length - sizes.length + n)];
const SUB = "₀₁₂₃₄₅₆₇₈₉";
const sub = number => String(number).split("").map(d => SUB[+d]).join("");
const fmt = value => { const text = Number(value).toPrecision(4); return String(+text === 0 ? 0 : +text); };

let params = data.layers.map(layer => ({ weight: layer.weight.map(row => row.slice()), bias: layer.bias.slice() }));
let example = { x: data.x.slice(), t: data.t.slice(), lr: data.lr };
let result = fromAutograd();
let fromChainrule = true;
let losses = [data.autograd.error];
let current = 0;

function activate(kind, net) {
  if (kind === "sigmoid") return 1 / (1 + Math.exp(-net));
  if (kind === "tanh") return Math.tanh(net);
  if (kind === "relu") return Math.max(0, net);
  return net;
}
function slope(kind, net, out) {  // f'(x) from the net input and the output
  if (kind === "sigmoid") return out * (1 - out);
  if (kind === "tanh") return 1 - out * out;
  if (kind === "relu") return net > 0 ? 1 : 0;
  return 1;
}
function slopeText(kind, net, out) {
  if (kind === "sigmoid") return `${fmt(out)} · (1 − ${fmt(out)})`;
  if (kind === "tanh") return `(1 − ${fmt(out)}²)`;
  if (kind === "relu") return net > 0 ? "1" : "0";
  return "1";
}

// Forward, the delta rule and the update, in float64: the formulas the page prints.
function compute(params, x, t, lr) {
  const nets = [], outputs = [];
  let previous = x;
  data.layers.forEach((layer, n) => {
    const net = params[n].weight.map((row, j) => row.reduce((sum, w, i) => sum + w * previous[i], params[n].bias[j]));
    const out = net.map(value => activate(layer.activation, value));
    nets.push(net); outputs.push(out); previous = out;
  });
  const last = outputs[L - 1];
  const error = 0.5 * last.reduce((sum, o, k) => sum + (o - t[k]) ** 2, 0);
  const deltas = new Array(L);
  deltas[L - 1] = last.map((o, k) => (o - t[k]) * slope(data.layers[L - 1].activation, nets[L - 1][k], o));
  for (let n = L - 2; n >= 0; n--) {
    deltas[n] = nets[n].map((net, j) => slope(data.layers[n].activation, net, outputs[n][j])
      * deltas[n + 1].reduce((sum, d, k) => sum + d * params[n + 1].weight[k][j], 0));
  }
  const inputsOf = n => n === 0 ? x : outputs[n - 1];
  const weightGrads = deltas.map((delta, n) => delta.map(d => inputsOf(n).map(o => o * d)));
  const stepped = params.map((p, n) => ({
    weight: p.weight.map((row, j) => row.map((w, i) => w - lr * weightGrads[n][j][i])),
    bias: p.bias.map((b, j) => b - lr * deltas[n][j]),
  }));
  return { nets, outputs, deltas, weightGrads, biasGrads: deltas, error, stepped, x, t, lr };
}

function fromAutograd() {
  const a = data.autograd;
  const recomputed = compute(params, data.x, data.t, data.lr);
  return Object.assign({}, recomputed, { nets: a.nets, outputs: a.outputs, deltas: a.deltas, weightGrads: a.weight_grads, biasGrads: a.bias_grads, error: a.error, errorAfter: a.error_after_step });
}

// ------------------------------------------------------------------ steps
function steps() {
  const list = [];
  for (let n = 0; n < L; n++) list.push({ phase: "forward", layer: n + 1 });
  list.push({ phase: "error" });
  for (let n = L - 1; n >= 0; n--) list.push({ phase: "backward", layer: n + 1 });
  list.push({ phase: "update" });
  return list;
}
const STEPS = steps();

function shownCount(n) { return Math.min(sizes[n], SHOWN); }
function terms(values, count) { return values.length <= count ? values.join(" + ") : values.slice(0, count).join(" + ") + ` + … (${values.length} terms)`; }
function O(n, j) { return n === 0 ? result.x[j] : result.outputs[n - 1][j]; }

function statusLines(step) {
  const r = result;
  if (!step) return [["", "Start: the example x is in the input layer, the weights on the edges. Next ▶ runs forward layer by layer, then backward with the delta rule, then one update."]];
  if (step.phase === "forward") {
    const n = step.layer, I = letter(n - 1), J = letter(n), kind = data.layers[n - 1].activation;
    const lines = [["forward", `Forward, layer ${n + 1}: x_${J} = Σ_${I} O_${I} w${n}[${I}, ${J}] + b_${J},  O_${J} = ${kind}(x_${J})`]];
    for (let j = 0; j < Math.min(2, sizes[n]); j++) {
      const products = params[n - 1].weight[j].map((w, i) => `${fmt(O(n - 1, i))}·${fmt(w)}`);
      lines.push(["", `x${sub(j + 1)} = ${terms(products, 4)} + ${fmt(params[n - 1].bias[j])} = ${fmt(r.nets[n - 1][j])},  O${sub(j + 1)} = ${kind}(${fmt(r.nets[n - 1][j])}) = ${fmt(r.outputs[n - 1][j])}`]);
    }
    return lines;
  }
  if (step.phase === "error") {
    const K = letter(L), parts = r.outputs[L - 1].map((o, k) => `(${fmt(o)} − ${fmt(r.t[k])})²`);
    return [["forward", `Error: E = ½ Σ_${K} (O_${K} − t_${K})²`], ["", `E = ½ (${terms(parts, 4)}) = ${fmt(r.error)}`]];
  }
  if (step.phase === "backward") {
    const n = step.layer, I = letter(n - 1), J = letter(n), K = letter(n + 1), kind = data.layers[n - 1].activation;
    const fprime = `f'(x_${J}) = ${data.layers[n - 1].derivative.replace(/O/g, "O_" + J).replace(/x/g, "x_" + J)}`;
    const lines = [];
    if (n === L) {
      lines.push(["backward", `Backward, output layer ${n + 1}: δ_${J} = (O_${J} − t_${J}) f'(x_${J}),  ${fprime}`]);
      for (let j = 0; j < Math.min(2, sizes[n]); j++) {
        lines.push(["", `δ${sub(j + 1)} = (${fmt(r.outputs[n - 1][j])} − ${fmt(r.t[j])}) · ${slopeText(kind, r.nets[n - 1][j], r.outputs[n - 1][j])} = ${fmt(r.deltas[n - 1][j])}`]);
      }
    } else {
      lines.push(["backward", `Backward, layer ${n + 1}: δ_${J} = f'(x_${J}) Σ_${K} δ_${K} w${n + 1}[${J}, ${K}],  ${fprime}`]);
      for (let j = 0; j < Math.min(2, sizes[n]); j++) {
        const sum = r.deltas[n].map((d, k) => `${fmt(d)}·${fmt(params[n].weight[k][j])}`);
        lines.push(["", `δ${sub(j + 1)} = ${slopeText(kind, r.nets[n - 1][j], r.outputs[n - 1][j])} · (${terms(sum, 3)}) = ${fmt(r.deltas[n - 1][j])}`]);
      }
    }
    lines.push(["", `dE/dw${n}[${I}, ${J}] = O_${I} δ_${J}: dE/dw${n}[1, 1] = ${fmt(O(n - 1, 0))} × ${fmt(r.deltas[n - 1][0])} = ${fmt(r.weightGrads[n - 1][0][0])};  dE/db_${J} = δ_${J}`]);
    return lines;
  }
  const after = r.errorAfter !== undefined ? r.errorAfter : compute(r.stepped, r.x, r.t, r.lr).error;
  return [["update", `Update: w ← w − lr · dE/dw, b ← b − lr · δ  (lr = ${fmt(r.lr)})`],
    ["", `w${L}[1, 1] = ${fmt(params[L - 1].weight[0][0])} − ${fmt(r.lr)} × ${fmt(r.weightGrads[L - 1][0][0])} = ${fmt(r.stepped[L - 1].weight[0][0])}`],
    ["", `E = ${fmt(r.error)} before the step, ${fmt(after)} after it`]];
}

// ------------------------------------------------------------------ drawing
const BOX_W = 150, BOX_H = 74, ROW = 130, TOP = 40;
// Wide gaps only where weights are labelled (at most 3 × 3 drawn neurons), so that their text fits.
const COLUMN = sizes.some((size, n) => n > 0 && Math.min(sizes[n - 1], SHOWN) * Math.min(size, SHOWN) <= 9) ? 420 : 260;
const svg = document.getElementById("canvas");
function element(tag, attributes, parent) {
  const made = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attributes)) made.setAttribute(key, value);
  if (parent) parent.appendChild(made);
  return made;
}
function label(parent, x, y, className, content, anchor) {
  const made = element("text", { x, y, class: className, "text-anchor": anchor || "start" }, parent);
  made.textContent = content;
  return made;
}
function boxAt(n, j) {
  const rows = Math.max(...sizes.map((size, m) => Math.min(size, SHOWN) + (size > SHOWN ? 1 : 0)));
  const count = shownCount(n) + (sizes[n] > SHOWN ? 1 : 0);
  return { x: 20 + n * COLUMN, y: TOP + (rows - count) * ROW / 2 + j * ROW };
}

// A weight's label goes at the first point along its edge where it fits between the columns and
// meets no label placed before (sized for the longest text it will show, a gradient).
const LABEL_W = 24 * 7.3, LABEL_H = 15;
function labelPlace(x1, y1, x2, y2, placed) {
  const candidates = [0.5, 0.3, 0.7, 0.4, 0.6, 0.2, 0.8];
  let fallback = null;
  for (const at of candidates) {
    const x = Math.min(Math.max(x1 + (x2 - x1) * at, x1 + LABEL_W / 2 + 4), x2 - LABEL_W / 2 - 4);
    const y = y1 + (y2 - y1) * (x - x1) / (x2 - x1) - 5;
    const clear = placed.every(([px, py]) => Math.abs(px - x) >= LABEL_W || Math.abs(py - y) >= LABEL_H);
    if (fallback === null) fallback = [x, y];
    if (clear) { placed.push([x, y]); return [x, y]; }
  }
  placed.push(fallback);
  return fallback;
}

function draw() {
  svg.replaceChildren();
  const rows = Math.max(...sizes.map(size => Math.min(size, SHOWN) + (size > SHOWN ? 1 : 0)));
  const width = 20 + (sizes.length - 1) * COLUMN + BOX_W + 30, height = TOP + rows * ROW;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  for (let n = 0; n < sizes.length; n++) {
    const kind = n === 0 ? "input" : data.layers[n - 1].activation;
    label(svg, boxAt(n, 0).x + BOX_W / 2, 22, "header", `layer ${n + 1} (${letter(n)}): ${n === 0 ? "input" : kind}`, "middle");
  }
  const placedLabels = [];
  for (let n = 1; n < sizes.length; n++) {
    const labelled = shownCount(n - 1) * shownCount(n) <= 9;
    for (let j = 0; j < shownCount(n); j++) for (let i = 0; i < shownCount(n - 1); i++) {
      const a = boxAt(n - 1, i), b = boxAt(n, j);
      const group = element("g", { class: "weight", id: `w-${n}-${i}-${j}`, "data-layer": n, "data-from": i, "data-to": j }, svg);
      const x1 = a.x + BOX_W, y1 = a.y + BOX_H / 2, x2 = b.x, y2 = b.y + BOX_H / 2;
      element("line", { x1, y1, x2, y2 }, group);
      if (labelled) {
        const [x, y] = labelPlace(x1, y1, x2, y2, placedLabels);
        label(group, x, y, "", "", "middle");
      }
    }
  }
  for (let n = 0; n < sizes.length; n++) {
    const letterOf = letter(n);
    for (let j = 0; j < shownCount(n); j++) {
      const place = boxAt(n, j);
      const classes = "neuron" + (n === 0 ? " input" : n === sizes.length - 1 ? " output" : "");
      const group = element("g", { class: classes, id: `n-${n}-${j}`, "data-layer": n, "data-index": j }, svg);
      element("rect", { x: place.x, y: place.y, width: BOX_W, height: BOX_H, rx: 8 }, group);
      label(group, place.x + 8, place.y + 18, "value out", "");
      label(group, place.x + 8, place.y + 35, "value net", "");
      label(group, place.x + 8, place.y + 52, "delta", "");
      label(group, place.x + 8, place.y + 68, "target", "");
      group.setAttribute("data-letter", letterOf);
    }
    if (sizes[n] > SHOWN) {
      const place = boxAt(n, SHOWN);
      label(svg, place.x + BOX_W / 2, place.y + 30, "more", `… ${sizes[n] - SHOWN} more neurons`, "middle");
    }
  }
}

function render(count) {
  current = Math.max(0, Math.min(count, STEPS.length));
  const done = STEPS.slice(0, current);
  const step = current > 0 ? STEPS[current - 1] : null;
  const forwardTo = done.filter(s => s.phase === "forward").length;  // layers computed
  const backwardFrom = done.filter(s => s.phase === "backward").map(s => s.layer);
  const updated = done.some(s => s.phase === "update");
  for (let n = 0; n < sizes.length; n++) for (let j = 0; j < shownCount(n); j++) {
    const group = document.getElementById(`n-${n}-${j}`);
    const [out, net, delta, target] = group.querySelectorAll("text");
    const name = sub(j + 1);
    const known = n === 0 || n <= forwardTo;
    out.textContent = known ? `O${name} = ${fmt(O(n, j))}` : `O${name} = ?`;
    net.textContent = n > 0 && known ? `x${name} = ${fmt(result.nets[n - 1][j])}` : "";
    const hasDelta = n > 0 && backwardFrom.includes(n);
    delta.textContent = hasDelta ? `δ${name} = ${fmt(result.deltas[n - 1][j])}` : "";
    target.textContent = n === sizes.length - 1 ? `t${name} = ${fmt(result.t[j])}` : "";
    if (n > 0) {
      group.setAttribute("data-net", JSON.stringify(result.nets[n - 1][j]));
      group.setAttribute("data-out", JSON.stringify(result.outputs[n - 1][j]));
      if (hasDelta) group.setAttribute("data-delta", JSON.stringify(result.deltas[n - 1][j])); else group.removeAttribute("data-delta");
    }
    const active = step && step.layer !== undefined && step.layer === n;
    group.classList.toggle("active", Boolean(active) || (step && step.phase === "error" && n === sizes.length - 1));
  }
  document.querySelectorAll(".weight").forEach(group => {
    const n = +group.dataset.layer, i = +group.dataset.from, j = +group.dataset.to;
    const text = group.querySelector("text");
    const hasGrad = backwardFrom.includes(n);
    const weight = updated ? result.stepped[n - 1].weight[j][i] : params[n - 1].weight[j][i];
    const name = `w${n}[${i + 1},${j + 1}]`;
    if (text) text.textContent = updated ? `${name} → ${fmt(weight)}` : hasGrad ? `dE/d${name} = ${fmt(result.weightGrads[n - 1][j][i])}` : `${name} = ${fmt(weight)}`;
    if (hasGrad) group.setAttribute("data-grad", JSON.stringify(result.weightGrads[n - 1][j][i])); else group.removeAttribute("data-grad");
    group.classList.toggle("active", Boolean(step && (step.phase === "backward" || step.phase === "forward") && step.layer === n));
  });
  const status = document.getElementById("status");
  status.replaceChildren();
  statusLines(step).forEach(([kind, line], index) => {
    if (index > 0) status.append("\n");
    const span = document.createElement("span");
    span.className = kind === "error" ? "forward" : kind;
    if (index === 0) span.classList.add("phase");
    span.textContent = line;
    status.append(span);
  });
  document.getElementById("counter").textContent = `step ${current} of ${STEPS.length}`;
  document.getElementById("prev").disabled = document.getElementById("reset").disabled = current === 0;
  document.getElementById("next").disabled = document.getElementById("to-end").disabled = current === STEPS.length;
  document.getElementById("source").textContent = fromChainrule
    ? "These numbers come from chainrule's autograd: δ is the gradient backward() computed for each layer's net input, dE/dw the weights' .grad."
    : "Recomputed in the page with the formulas shown (the tests check they equal chainrule's autograd).";
  document.getElementById("losses").textContent = "E: " + losses.map(fmt).join(" → ");
}

// ------------------------------------------------------------------ editing
function readVector(id, length, name) {
  const values = document.getElementById(id).value.split(",").map(text => Number(text.trim()));
  if (values.length !== length || values.some(value => !Number.isFinite(value))) throw new Error(`${name} needs ${length} numbers separated by commas`);
  return values;
}
function fillInputs() {
  document.getElementById("input-x").value = example.x.map(fmt).join(", ");
  document.getElementById("input-t").value = example.t.map(fmt).join(", ");
  document.getElementById("input-lr").value = fmt(example.lr);
}
function readExample() {
  const message = document.getElementById("error-message");
  try {
    example = { x: readVector("input-x", sizes[0], "x"), t: readVector("input-t", sizes[L], "t"), lr: readVector("input-lr", 1, "lr")[0] };
  } catch (error) { message.textContent = error.message; return false; }
  message.textContent = "";
  return true;
}
function recompute() {
  if (!readExample()) return;
  result = compute(params, example.x, example.t, example.lr);
  fromChainrule = false;
  losses = [result.error];
  render(current);
}
function train() {
  if (!readExample()) return;
  params = compute(params, example.x, example.t, example.lr).stepped;
  result = compute(params, example.x, example.t, example.lr);
  fromChainrule = false;
  losses.push(result.error);
  render(current);
}

document.getElementById("next").addEventListener("click", () => render(current + 1));
document.getElementById("prev").addEventListener("click", () => render(current - 1));
document.getElementById("reset").addEventListener("click", () => render(0));
document.getElementById("to-end").addEventListener("click", () => render(STEPS.length));
document.getElementById("recompute").addEventListener("click", recompute);
document.getElementById("train").addEventListener("click", train);
["input-x", "input-t", "input-lr"].forEach(id => document.getElementById(id).addEventListener("change", recompute));
document.addEventListener("keydown", event => {
  if (event.target.tagName === "INPUT") return;
  if (event.key === "ArrowRight") render(current + 1);
  if (event.key === "ArrowLeft") render(current - 1);
});
if (data.graph_page) {
  const link = document.createElement("a");
  link.href = data.graph_page;
  link.textContent = "the same network as a graph of operations";
  document.getElementById("graph-link").append("See ", link, ": every matmul, add and sigmoid, step by step.");
}
fillInputs();
draw();
render(0);
</script>
</body>
</html>
"""
