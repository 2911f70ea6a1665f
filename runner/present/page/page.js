// circuit-run's page: the engine loop, the playground, the diagram, the table and the plots.
// KINDS (the ops' forward and backward functions) is generated from the op table above.
const DATA = JSON.parse(document.getElementById("circuit-data").textContent);
const SVG = "http://www.w3.org/2000/svg";

// ---------------------------------------------------------------- numbers

/** A number for people, as circuit-run writes them: up to 10 significant digits. */
function fmt(x) {
  if (x === null || x === undefined) return "-";
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return "0";
  const [mantissa, exponentText] = x.toExponential(9).split("e");
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 10) {
    const sign = exponent < 0 ? "-" : "+";
    return mantissa.replace(/\.?0+$/, "") + "e" + sign + String(Math.abs(exponent)).padStart(2, "0");
  }
  const text = x.toFixed(9 - exponent);
  return text.includes(".") ? text.replace(/0+$/, "").replace(/\.$/, "") : text;
}

/** Four significant digits, for the labels on the diagram's wires (the table has them all). */
function short(x) { return Number.isFinite(x) ? fmt(Number(x.toPrecision(4))) : fmt(x); }

// ---------------------------------------------------------------- engine

/** The tape as typed arrays, and forward and backward as loops over it (as core/engine.py). */
class Engine {
  constructor(tape) {
    this.inputs = tape.inputs;
    this.nInputs = tape.inputs.length;
    this.constants = tape.constants;
    this.first = this.nInputs + tape.constants.length;
    this.names = tape.inputs.map((input) => input.name)
      .concat(tape.constants.map(fmt), tape.gateNames);
    const size = this.first + tape.gateNames.length;
    this.v = new Float64Array(size);
    this.g = new Float64Array(size);
    this.ins = Int32Array.from(tape.ins);
    this.w = new Float64Array(this.ins.length);
    this.missing = tape.kinds.filter((key) => !KINDS[key]);
    // an (op, arity) without templates gets a stand-in that gives NaN (the page says so)
    const kinds = tape.kinds.map((key) => KINDS[key] || {op: key.split("/")[0], f: () => NaN, b: () => {}});
    this.kind = tape.steps.map((index) => kinds[index]);
    this.ptr = new Int32Array(this.kind.length);
    let offset = 0;
    this.kind.forEach((kind, k) => { this.ptr[k] = offset; offset += Number(tape.kinds[tape.steps[k]].split("/").pop()); });
    this.out = tape.outputSlot;
    this.domains = tape.domains;
    tape.constants.forEach((value, i) => { this.v[this.nInputs + i] = value; });
    this.live = this.feedingOutput();
    this.reset();
  }

  arity(k) { return (k + 1 < this.ptr.length ? this.ptr[k + 1] : this.ins.length) - this.ptr[k]; }

  /** Which steps the output depends on (backward visits only those). */
  feedingOutput() {
    const needed = new Uint8Array(this.v.length);
    const live = new Uint8Array(this.kind.length);
    needed[this.out] = 1;
    for (let k = this.kind.length - 1; k >= 0; k--) {
      if (!needed[this.first + k]) continue;
      live[k] = 1;
      for (let i = this.ptr[k], end = i + this.arity(k); i < end; i++) needed[this.ins[i]] = 1;
    }
    this.needed = needed;
    return live;
  }

  reset() { this.inputs.forEach((input, i) => { this.v[i] = input.value; }); }

  forward() {
    const v = this.v, ins = this.ins, ptr = this.ptr, kind = this.kind, first = this.first;
    for (let k = 0, n = kind.length; k < n; k++) v[first + k] = kind[k].f(v, ins, ptr[k]);
    return v[this.out];
  }

  backward() {
    const v = this.v, g = this.g, w = this.w, ins = this.ins, ptr = this.ptr, kind = this.kind;
    const live = this.live, first = this.first;
    g.fill(0);
    w.fill(0);
    g[this.out] = 1;
    for (let k = kind.length - 1; k >= 0; k--) {
      if (live[k]) kind[k].b(v, g, w, ins, ptr[k], first + k);
    }
  }

  run() { const output = this.forward(); this.backward(); return output; }

  /** The first gate whose value or gradient is not finite, in words; "" if none. */
  problem() {
    for (let k = 0; k < this.kind.length; k++) {
      const slot = this.first + k;
      if (!Number.isFinite(this.v[slot])) {
        const op = this.kind[k].op, domain = this.domains[op];
        return `gate ${this.names[slot]} (${op}) gives ${fmt(this.v[slot])}` + (domain ? `: ${op} needs ${domain}` : "");
      }
    }
    for (let slot = 0; slot < this.v.length; slot++) {
      if (this.needed[slot] && !this.isConstant(slot) && !Number.isFinite(this.g[slot])) return `the gradient of ${this.names[slot]} is ${fmt(this.g[slot])}`;
    }
    return "";
  }

  isConstant(slot) { return slot >= this.nInputs && slot < this.first; }

  /** name -> number for every input and gate (constants have no name), as Circuit.value_map. */
  map(numbers) {
    const result = {};
    for (let slot = 0; slot < numbers.length; slot++) {
      if (!this.isConstant(slot)) result[this.names[slot]] = numbers[slot];
    }
    return result;
  }
}

// ---------------------------------------------------------------- optimization steps

/** One optimizer, as optimization/steps.py: direction(grads) -> direction. */
function makeOptimizer(settings) {
  if (settings.optimizer === "momentum") {
    let velocity = null;
    return (grads) => {
      velocity = grads.map((grad, i) => settings.momentum * (velocity ? velocity[i] : 0) + grad);
      return velocity;
    };
  }
  if (settings.optimizer === "adam") {
    let m = null, v = null, t = 0;
    return (grads) => {
      t += 1;
      const b1 = settings.beta1, b2 = settings.beta2, eps = settings.eps;
      const correction1 = 1 - b1 ** t, rootCorrection2 = Math.sqrt(1 - b2 ** t);
      m = grads.map((grad, i) => b1 * (m ? m[i] : 0) + (1 - b1) * grad);
      v = grads.map((grad, i) => b2 * (v ? v[i] : 0) + (1 - b2) * grad * grad);
      return m.map((mean, i) => (mean / correction1) / (Math.sqrt(v[i]) / rootCorrection2 + eps));
    };
  }
  return (grads) => grads;
}

const DEFAULT_SETTINGS = {goal: "maximize", method: "analytic", step_size: 0.01, h: 1e-4, optimizer: "sgd",
  momentum: 0.9, beta1: 0.9, beta2: 0.999, eps: 1e-8};

// ---------------------------------------------------------------- small DOM helpers

function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes || {})) {
    if (key === "class") node.className = value; else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function svg(tag, attributes, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes || {})) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A number shown in an element, rewritten only when it changes (most of an update's cost is the DOM). */
class Label {
  constructor(element, prefix = "", format = fmt) {
    this.text = document.createTextNode("");
    this.prefix = prefix;
    this.format = format;
    this.number = undefined;
    element.append(this.text);
  }

  show(x) {
    if (x === this.number) return;
    this.number = x;
    this.text.data = this.prefix + this.format(x);
  }
}

/** Labels grouped by the element that shows them; an update rewrites only the groups on screen,
 * and a group that scrolls into view catches up then. A circuit's thousand nodes, rows and
 * sliders cost an update only the few dozen a person can see. Each label is [Label, numbers, index]. */
class Watcher {
  constructor() {
    this.groups = [];
    this.observer = new IntersectionObserver((entries) => {
      for (const entry of entries) {
        const group = this.groups[Number(entry.target.dataset.watch)];
        group.visible = entry.isIntersecting;
        if (group.visible) Watcher.show(group);
      }
    });
  }

  add(element, labels) {
    element.dataset.watch = this.groups.length;
    this.groups.push({labels, visible: false});
    this.observer.observe(element);
  }

  static show(group) { for (const [label, numbers, index] of group.labels) label.show(numbers[index]); }

  refresh() { for (const group of this.groups) if (group.visible) Watcher.show(group); }

  /** Every label, visible or not (once, when the page opens: nothing is ever blank). */
  showAll() { for (const group of this.groups) Watcher.show(group); }

  stop() { this.observer.disconnect(); }
}

function show(id, visible = true) { document.getElementById(id).hidden = !visible; }

function niceStep(span) {
  const raw = span / 200, power = 10 ** Math.floor(Math.log10(raw));
  for (const factor of [1, 2, 5, 10]) if (raw <= factor * power) return factor * power;
  return 10 * power;
}

// ---------------------------------------------------------------- the playground page

class Page {
  constructor(data) {
    this.data = data;
    this.engine = new Engine(data.tape);
    this.settings = Object.assign({}, DEFAULT_SETTINGS, data.optimize || {});
    this.groupColour = {};
    Object.keys(data.groups).forEach((name, i) => { this.groupColour[name] = GROUP_COLOURS[i % GROUP_COLOURS.length]; });
    this.steps = 0;
    this.optimizer = makeOptimizer(this.settings);
    this.watcher = new Watcher();
  }

  build() {
    const engine = this.engine;
    engine.run();  // the numbers every label starts with
    if (engine.missing.length) {
      notice(`This page cannot compute the circuit: the op table has no JavaScript for ${engine.missing.join(", ")} ` +
        "(op/number of inputs: too many inputs for the op's templates). Run circuit-run on the spec for its numbers.");
    }
    show("playground");
    show("diagram-section");
    show("table-section");
    this.outputLabel = new Label(document.getElementById("output-value"));
    this.buildInputs();
    this.buildDiagram();
    this.buildTable();
    this.update();
    this.watcher.showAll();
  }

  // ---- inputs
  buildInputs() {
    const box = document.getElementById("inputs");
    this.controls = [];
    this.engine.inputs.forEach((input, i) => {
      const half = 2 * Math.max(1, Math.abs(input.value));
      const low = input.min !== null ? input.min : (input.max !== null ? Math.min(input.value, input.max) : input.value) - half;
      const high = input.max !== null ? input.max : Math.max(input.value, low) + half;
      const range = el("input", {type: "range", id: `range-${i}`, min: low, max: high, step: niceStep(high - low),
        "aria-label": `${input.name} (slider)`});
      const number = el("input", {type: "number", id: `number-${i}`, step: "any", "aria-label": `${input.name} (value)`});
      if (input.min !== null) number.min = input.min;
      if (input.max !== null) number.max = input.max;
      const gradBox = el("span", {class: "grad"}), grad = new Label(gradBox, "grad ");
      const badge = el("span", {class: "badge"}, input.trainable ? " trainable" : " fixed");
      const row = el("div", {class: "input"}, el("label", {for: `number-${i}`}, input.name, badge), number, range, gradBox);
      range.addEventListener("input", () => this.setInput(i, Number(range.value), "range"));
      number.addEventListener("input", () => {
        if (number.value !== "" && Number.isFinite(Number(number.value))) this.setInput(i, Number(number.value), "number");
      });
      box.append(row);
      this.watcher.add(row, [[grad, this.engine.g, i]]);
      this.controls.push({range, number, row, name: input.name, shown: undefined});
    });
    if (this.controls.length > 12) {
      show("filter-label");
      const filter = document.getElementById("filter");
      filter.addEventListener("input", () => {
        const wanted = filter.value.toLowerCase();
        for (const control of this.controls) control.row.hidden = !control.name.toLowerCase().includes(wanted);
      });
    }
    const stepButton = document.getElementById("step-button");
    const settings = this.settings;
    const trainable = this.engine.inputs.filter((input) => input.trainable).length;
    let why = "";
    if (settings.method === "random") why = "random search is not replayed in the page";
    else if (!trainable) why = "no input is trainable";
    else if (this.engine.missing.length) why = "the playground is off";
    stepButton.disabled = Boolean(why);
    const source = this.data.optimize ? "the spec's optimize settings" : "the defaults (the spec has no optimize block)";
    document.getElementById("step-note").textContent = why ? `One step: not available (${why}).` :
      `One step moves the trainable inputs with ${source}: ${settings.goal}, ${settings.method} gradients, ` +
      `${settings.optimizer}, step size ${fmt(settings.step_size)}.`;
    stepButton.addEventListener("click", () => this.step());
    document.getElementById("reset-button").addEventListener("click", () => this.reset());
  }

  setInput(i, value, from) {
    const input = this.engine.inputs[i];
    if (input.min !== null && value < input.min) value = input.min;
    if (input.max !== null && value > input.max) value = input.max;
    this.engine.v[i] = value;
    this.update(from === "number" ? i : -1);
  }

  step(count = 1) {
    const engine = this.engine, settings = this.settings;
    const slots = engine.inputs.map((input, i) => (input.trainable ? i : -1)).filter((i) => i >= 0);
    for (let n = 0; n < count; n++) {
      engine.run();
      const grads = settings.method === "numerical" ? this.numericalGrads(slots) : slots.map((slot) => engine.g[slot]);
      const direction = this.optimizer(grads);
      const scale = (settings.goal === "maximize" ? 1 : -1) * settings.step_size;
      slots.forEach((slot, i) => {
        let moved = engine.v[slot] + scale * direction[i];
        const input = engine.inputs[slot];
        if (input.min !== null && moved < input.min) moved = input.min;
        if (input.max !== null && moved > input.max) moved = input.max;
        engine.v[slot] = moved;
      });
      this.steps += 1;
    }
    return this.update();
  }

  /** Forward differences with the spec's h, as Objective.numerical_grad. */
  numericalGrads(slots) {
    const engine = this.engine, h = this.settings.h, base = engine.forward();
    const grads = slots.map((slot) => {
      const x = engine.v[slot];
      engine.v[slot] = x + h;
      const plus = engine.forward();
      engine.v[slot] = x;
      return (plus - base) / h;
    });
    engine.forward();
    return grads;
  }

  reset() {
    this.engine.reset();
    this.steps = 0;
    this.optimizer = makeOptimizer(this.settings);
    return this.update();
  }

  set(name, value) {
    const i = this.engine.inputs.findIndex((input) => input.name === name);
    if (i < 0) throw new Error(`'${name}' is not an input of this circuit`);
    if (typeof value !== "number" || !Number.isFinite(value)) throw new Error(`the value of ${name} must be a finite number`);
    this.engine.v[i] = value;
    return this.update();
  }

  /** Run forward and backward, then show every number. Returns the output. */
  update(typing = -1) {
    const engine = this.engine, v = engine.v;
    const output = engine.run();
    this.outputLabel.show(output);
    this.controls.forEach((control, i) => {
      if (control.shown !== v[i]) {  // only the inputs that moved: a network has thousands
        control.shown = v[i];
        if (i !== typing) control.number.value = String(v[i]);
        const range = control.range;
        if (v[i] < Number(range.min)) range.min = v[i];
        if (v[i] > Number(range.max)) range.max = v[i];
        range.value = String(v[i]);
      }
    });
    this.watcher.refresh();
    this.diagramWatcher.refresh();
    const problem = engine.problem();
    const status = document.getElementById("status");
    status.textContent = problem ? `Not finite: ${problem}.` : (this.steps ? `after ${this.steps} step${this.steps > 1 ? "s" : ""}` : "");
    status.className = problem ? "error" : "";
    return output;
  }

  // ---- diagram
  // Wires are one SVG drawn once; nodes and wire labels are small HTML boxes over it, each
  // contained, so an update re-lays out only the boxes whose numbers changed and are on screen.
  buildDiagram() {
    const box = document.getElementById("diagram"), groups = Object.keys(this.data.groups);
    // big circuits made of formulas and instances start folded: one box each
    this.folded = groups.length > 0 && this.engine.v.length > WIRE_LABELS_UP_TO;
    this.drawDiagram();
    const fit = () => Math.max(0.2, (box.clientWidth - 4) / this.diagramSize[0]);
    document.getElementById("zoom-in").addEventListener("click", () => { this.zoom = Math.min(3, this.zoom * 1.25); this.applyZoom(); });
    document.getElementById("zoom-out").addEventListener("click", () => { this.zoom = Math.max(0.1, this.zoom / 1.25); this.applyZoom(); });
    document.getElementById("zoom-fit").addEventListener("click", () => { this.zoom = fit(); this.applyZoom(); });
    const fold = document.getElementById("fold");
    fold.hidden = groups.length === 0;
    fold.addEventListener("click", () => { this.folded = !this.folded; this.drawDiagram(); });
    const list = document.getElementById("groups");
    for (const [name, text] of Object.entries(this.data.groups)) {
      const colour = this.groupColour[name];
      list.append(el("li", {}, el("span", {class: "swatch", style: `border-color:${colour};background:${colour}22`}),
        el("strong", {}, name), `: ${text}`));
    }
  }

  /** (Re)draw the diagram, folded or not; its labels get a watcher of their own. */
  drawDiagram() {
    const engine = this.engine, box = document.getElementById("diagram");
    let graph = diagramGraph(engine, this.data.groups, this.folded);
    if (graph === null) {
      this.folded = false;
      graph = diagramGraph(engine, this.data.groups, false);
    }
    const fold = document.getElementById("fold");
    fold.setAttribute("aria-pressed", String(this.folded));
    if (this.diagramWatcher) this.diagramWatcher.stop();
    this.diagramWatcher = new Watcher();
    const layout = layOut(graph);
    const plane = el("div", {class: "plane", role: "img",
      "aria-label": `diagram of ${this.data.name}: ${engine.nInputs} inputs, ${engine.kind.length} gates`});
    plane.style.width = `${layout.width}px`;
    plane.style.height = `${layout.height}px`;
    const wires = svg("svg", {width: layout.width, height: layout.height, fill: "none", "stroke-width": 1.3,
      "aria-hidden": "true"});
    const labelled = layout.nodes.length <= WIRE_LABELS_UP_TO;
    const labels = [];
    for (const wire of layout.wires) {
      const [x1, y1, x2, y2] = wire.points, middle = (x1 + x2) / 2;
      wires.append(svg("path", {d: `M${x1},${y1} C${middle},${y1} ${middle},${y2} ${x2},${y2}`,
        stroke: engine.live[wire.step] ? "#757575" : "#bdbdbd", "stroke-width": wire.count > 1 ? 2.6 : 1.3}));
      if (labelled && !wire.constant && wire.count === 1) {
        const label = el("div", {class: "wire-label"});
        label.style.left = `${(x1 + x2) / 2}px`;
        label.style.top = `${(y1 + y2) / 2 - 14}px`;
        const value = el("span", {class: "value"}), grad = el("span", {class: "grad"});
        label.append(value, grad);
        labels.push(label);
        const source = engine.ins[wire.p];
        this.diagramWatcher.add(label, [[new Label(value, "", short), engine.v, source],
          [new Label(grad, "", short), engine.w, wire.p]]);
      }
    }
    plane.append(wires);
    for (const node of layout.nodes) plane.append(this.drawNode(node));
    plane.append(...labels);
    this.plane = plane;
    this.diagramSize = [layout.width, layout.height];
    this.zoom = Math.min(1, Math.max(0.4, (box.clientWidth - 4) / layout.width));  // measured before the diagram is in
    const canvas = el("div", {class: "canvas"}, plane);
    if (this.canvas) this.canvas.replaceWith(canvas); else box.append(canvas);
    this.canvas = canvas;
    this.applyZoom();
    this.diagramWatcher.showAll();
  }

  applyZoom() {
    const [width, height] = this.diagramSize;
    this.canvas.style.width = `${Math.ceil(width * this.zoom)}px`;
    this.canvas.style.height = `${Math.ceil(height * this.zoom)}px`;
    this.plane.style.transform = `scale(${this.zoom})`;
  }

  drawNode(node) {
    const engine = this.engine, box = el("div", {});
    box.style.left = `${node.x}px`;
    box.style.top = `${node.y}px`;
    if (node.constant) {
      box.className = "node constant";
      box.title = "a number constant (no gradient)";
      box.append(fmt(engine.v[node.slot]));
      return box;
    }
    if (node.group !== undefined) return this.drawGroup(node, box);
    const slot = node.slot, isInput = slot < engine.nInputs, name = engine.names[slot];
    const owner = groupOf(name, this.data.groups);
    const trainable = isInput && engine.inputs[slot].trainable;
    box.className = `node ${isInput ? (trainable ? "is-input" : "is-input fixed") : "gate"}` +
      (slot === engine.out ? " output" : "") + (engine.needed[slot] ? "" : " unused");
    box.title = owner ? `${name} (${owner}: ${this.data.groups[owner]})` : name;
    if (owner) box.style.borderColor = this.groupColour[owner];
    const kind = isInput ? (trainable ? "input" : "input, fixed") : engine.kind[slot - engine.first].op;
    const value = el("span", {class: "value"}), grad = el("span", {class: "grad"});
    box.append(el("b", {}, name), el("span", {class: "kind"}, slot === engine.out ? `${kind} · output` : kind), value, grad);
    this.diagramWatcher.add(box, [[new Label(value, "value "), engine.v, slot], [new Label(grad, "grad "), engine.g, slot]]);
    return box;
  }

  /** A folded formula or instance: its name, what it was written as, and its output's numbers
   * (or how many outputs it has). */
  drawGroup(node, box) {
    const engine = this.engine, text = this.data.groups[node.group];
    box.className = "node group" + (node.outputs.includes(engine.out) ? " output" : "");
    box.style.borderColor = this.groupColour[node.group];
    box.title = `${node.group}: ${text} (${node.slots.length} nodes inside)`;
    const kind = text.replace("instance of module ", "module ").replace(/, (\d+) copies$/, " ×$1");
    box.append(el("b", {}, node.group), el("span", {class: "kind"}, kind));
    if (node.outputs.length === 1) {
      const value = el("span", {class: "value"}), grad = el("span", {class: "grad"}), slot = node.outputs[0];
      box.append(value, grad);
      this.diagramWatcher.add(box, [[new Label(value, "value "), engine.v, slot], [new Label(grad, "grad "), engine.g, slot]]);
    } else {
      box.append(el("span", {}, `${node.outputs.length} outputs, ${node.slots.length} nodes`));
    }
    return box;
  }

  // ---- table
  // Rows come in blocks of ROWS_PER_BLOCK (one <tbody> each), watched as one group.
  buildTable() {
    const engine = this.engine, table = document.getElementById("nodes");
    table.querySelector("tbody").remove();
    const unused = new Set(this.data.unused);
    let body = null, labels = [];
    for (let slot = 0; slot < engine.v.length; slot++) {
      if (engine.isConstant(slot)) continue;
      const name = engine.names[slot];
      let what;
      if (slot < engine.nInputs) what = engine.inputs[slot].trainable ? "input" : "input (fixed)";
      else {
        const k = slot - engine.first, p = engine.ptr[k];
        const args = [];
        for (let i = 0; i < engine.arity(k); i++) args.push(engine.names[engine.ins[p + i]]);
        what = `${engine.kind[k].op}(${args.join(", ")})`;
      }
      if (slot === engine.out) what += " · output";
      if (unused.has(name)) what += " · unused";
      const owner = groupOf(name, this.data.groups);
      if (body === null || labels.length === 2 * ROWS_PER_BLOCK) {
        body = el("tbody");
        labels = [];
        table.append(body);
        this.watcher.add(body, labels);
      }
      const value = el("td", {class: "num value"}), grad = el("td", {class: "num grad"});
      body.append(el("tr", slot === engine.out ? {class: "output"} : {}, el("td", {class: "name"}, name),
        el("td", {}, what), value, grad, el("td", {}, owner ? `${owner}: ${this.data.groups[owner]}` : "")));
      labels.push([new Label(value), engine.v, slot], [new Label(grad), engine.g, slot]);
    }
  }
}

const ROWS_PER_BLOCK = 25;

// NODE_* and CONST_* are the sizes of .node and .constant in page.css
const NODE_W = 156, NODE_H = 70, CONST_W = 64, CONST_H = 22, LAYER_GAP = 215, ROW_GAP = 86, MARGIN = 16;
const WIRE_LABELS_UP_TO = 160;
const GROUP_COLOURS = ["#6a1b9a", "#00695c", "#e65100", "#283593", "#ad1457", "#4e342e", "#2e7d32", "#37474f"];

function groupOf(name, groups) {
  const head = name.split(".", 1)[0];
  return Object.prototype.hasOwnProperty.call(groups, head) ? head : null;
}

/** The diagram as boxes and wires. Unfolded: a box per input and gate, a pill per use of a
 * constant. Folded: each formula or module instance is one box, its parameters and inner steps
 * inside it, and the wires between two boxes are one. Returns null when folding would make a
 * cycle (an instance reading an output of an instance that reads its own). */
function diagramGraph(engine, groups, folded) {
  const boxes = [], wires = [], boxOf = new Map(), pairs = new Map();
  const newBox = (box) => { box.preds = []; box.succs = []; boxes.push(box); return box; };
  const placed = new Map();  // slot -> its box
  const boxFor = (slot) => {
    if (placed.has(slot)) return placed.get(slot);
    const group = folded ? groupOf(engine.names[slot], groups) : null;
    const key = group === null ? slot : `group ${group}`;
    let box = boxOf.get(key);
    if (box === undefined) {
      box = newBox(group === null ? {slot} : {group, slots: [], outputs: []});
      boxOf.set(key, box);
    }
    if (group !== null) box.slots.push(slot);
    placed.set(slot, box);
    return box;
  };
  for (let slot = 0; slot < engine.nInputs; slot++) boxFor(slot);
  for (let k = 0; k < engine.kind.length; k++) {
    const target = boxFor(engine.first + k), arity = engine.arity(k);
    for (let i = 0, p = engine.ptr[k]; i < arity; i++) {
      const slot = engine.ins[p + i];
      if (engine.isConstant(slot)) {
        if (target.group === undefined) wires.push(link(newBox({slot, constant: true}), target, i, arity, p + i, k));
        continue;
      }
      const source = boxFor(slot);
      if (source === target) continue;
      if (source.group !== undefined && !source.outputs.includes(slot)) source.outputs.push(slot);
      if (!folded) { wires.push(link(source, target, i, arity, p + i, k)); continue; }
      const pair = boxes.indexOf(source) + ">" + boxes.indexOf(target);
      const known = pairs.get(pair);
      if (known) { known.count += 1; continue; }
      const wire = link(source, target, 0, 1, p + i, k);
      pairs.set(pair, wire);
      wires.push(wire);
    }
  }
  if (folded) {  // a folded box gets one port per wire into it
    const into = new Map();
    for (const wire of wires) { const list = into.get(wire.target) || []; list.push(wire); into.set(wire.target, list); }
    for (const list of into.values()) list.forEach((wire, i) => { wire.port = i; wire.ports = list.length; });
  }
  const last = boxFor(engine.out);
  if (last.group !== undefined && !last.outputs.includes(engine.out)) last.outputs.push(engine.out);
  return layers(boxes) ? {boxes, wires} : null;
}

function link(source, target, port, ports, p, step) {
  source.succs.push(target);
  target.preds.push(source);
  return {source, target, port, ports, p, step, count: 1, constant: Boolean(source.constant)};
}

/** Each box's layer: one right of its deepest source; a box without sources (an input) just left
 * of its first reader; a constant's pill just left of its gate. False on a cycle. */
function layers(boxes) {
  const waiting = new Map(boxes.map((box) => [box, box.preds.length])), ready = boxes.filter((box) => !box.preds.length);
  const order = [];
  while (ready.length) {
    const box = ready.pop();
    order.push(box);
    for (const next of box.succs) { waiting.set(next, waiting.get(next) - 1); if (!waiting.get(next)) ready.push(next); }
  }
  if (order.length !== boxes.length) return false;
  for (const box of order) box.layer = box.preds.length ? 1 + Math.max(...box.preds.map((pred) => pred.layer)) : 0;
  for (const box of boxes) if (!box.preds.length && box.succs.length) box.layer = Math.min(...box.succs.map((next) => next.layer)) - 1;
  return true;
}

/** Rows within each layer by a few sweeps of the barycentre heuristic, then coordinates. */
function layOut(graph) {
  const {boxes, wires} = graph;
  const deepest = Math.max(0, ...boxes.map((box) => box.layer));
  const columns = Array.from({length: deepest + 1}, () => []);
  for (const box of boxes) columns[box.layer].push(box);
  const tallest = Math.max(...columns.map((column) => column.length));
  const place = (column) => column.forEach((box, i) => { box.row = i + (tallest - column.length) / 2; });
  columns.forEach(place);
  const centre = (others) => others.reduce((sum, other) => sum + other.row, 0) / others.length;
  for (let sweep = 0; sweep < 4; sweep++) {
    for (const column of sweep % 2 ? columns.slice().reverse() : columns) {
      const key = new Map(column.map((box) => {
        const others = sweep % 2 ? box.succs : box.preds;
        return [box, others.length ? centre(others) : box.row];
      }));
      column.sort((a, b) => key.get(a) - key.get(b));
      place(column);
    }
  }
  for (const box of boxes) {
    box.width = box.constant ? CONST_W : NODE_W;
    box.height = box.constant ? CONST_H : NODE_H;
    box.x = MARGIN + box.layer * LAYER_GAP + (NODE_W - box.width);
    box.y = MARGIN + box.row * ROW_GAP + (NODE_H - box.height) / 2;
  }
  for (const wire of wires) {
    const {source, target} = wire;
    wire.points = [source.x + source.width, source.y + source.height / 2, target.x,
      target.y + (wire.port + 1) * target.height / (wire.ports + 1)];
  }
  return {nodes: boxes, wires, width: 2 * MARGIN + deepest * LAYER_GAP + NODE_W, height: 2 * MARGIN + (tallest - 1) * ROW_GAP + NODE_H};
}

// ---------------------------------------------------------------- plots

const LINE_COLOURS = ["#1b1b1b", "#0d47a1", "#b71c1c", "#1a5e20", "#6a1b9a", "#e65100", "#00695c", "#ad1457"];

/** One line chart: x against one or more series (name -> numbers, null for a gap). */
function lineChart(title, xs, series) {
  const W = 360, H = 200, left = 62, right = 10, top = 10, bottom = 30;
  const all = Object.values(series).flat().filter((y) => y !== null);
  let low = Math.min(...all), high = Math.max(...all);
  if (low === high) { low -= Math.abs(low) * 0.1 || 1; high += Math.abs(high) * 0.1 || 1; }
  const x0 = xs[0], x1 = xs[xs.length - 1] === x0 ? x0 + 1 : xs[xs.length - 1];
  const sx = (x) => left + (x - x0) / (x1 - x0) * (W - left - right);
  const sy = (y) => top + (high - y) / (high - low) * (H - top - bottom);
  const picture = svg("svg", {viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": title, "font-size": 11});
  picture.append(svg("rect", {x: left, y: top, width: W - left - right, height: H - top - bottom, fill: "none", stroke: "#bdbdbd"}));
  for (const [y, text] of [[high, fmt(Number(high.toPrecision(4)))], [low, fmt(Number(low.toPrecision(4)))]]) {
    picture.append(svg("text", {x: left - 4, y: sy(y) + 4, "text-anchor": "end", fill: "#424242"}, text));
  }
  picture.append(svg("text", {x: left, y: H - 12, fill: "#424242"}, fmt(x0)),
    svg("text", {x: W - right, y: H - 12, "text-anchor": "end", fill: "#424242"}, fmt(xs[xs.length - 1])),
    svg("text", {x: (left + W) / 2, y: H - 2, "text-anchor": "middle", fill: "#424242"}, "iteration"));
  const key = el("div", {class: "key"});
  Object.entries(series).forEach(([name, ys], i) => {
    const colour = LINE_COLOURS[i % LINE_COLOURS.length];
    const points = ys.map((y, j) => (y === null ? null : `${sx(xs[j]).toFixed(1)},${sy(y).toFixed(1)}`)).filter(Boolean);
    picture.append(svg("polyline", {points: points.join(" "), fill: "none", stroke: colour, "stroke-width": 1.8}));
    if (points.length <= 30) for (const point of points) {
      const [cx, cy] = point.split(",");
      picture.append(svg("circle", {cx, cy, r: 2.5, fill: colour}));
    }
    if (Object.keys(series).length > 1) key.append(el("span", {style: `color:${colour}`}, `■ ${name}`));
  });
  return el("figure", {class: "chart"}, el("h3", {}, title), picture, key);
}

function buildTrace(trace, outputName) {
  if (!trace) return;
  const box = document.getElementById("trace");
  for (const [name, ys] of Object.entries(trace.series)) {
    const label = name === "output" ? `output ${outputName}` : name;
    box.append(lineChart(label, trace.iterations, {[label]: ys}));
  }
  if (Object.keys(trace.inputs).length) box.append(lineChart("trainable inputs", trace.iterations, trace.inputs));
  const more = trace.moreInputs ? ` (${trace.moreInputs} more trainable inputs are not drawn)` : "";
  const stop = {iterations: "ran all its iterations", tolerance: "stopped: the output changed less than the tolerance",
    diverged: "stopped: a value went non-finite"}[trace.stop] || trace.stop;
  document.getElementById("trace-note").textContent =
    `${trace.steps} steps; ${stop}; final output ${fmt(trace.final)}. ${trace.iterations.length} of the rows are drawn${more}.`;
  show("trace-section");
}

// ---------------------------------------------------------------- summary view

function buildSummary(data) {
  const summary = data.summary, body = document.getElementById("summary-body");
  document.getElementById("output-value").textContent = fmt(summary.outputValue);
  notice(`This circuit has ${data.gates.toLocaleString("en")} gates and ${data.inputs.toLocaleString("en")} inputs. ` +
    `For circuits of more than ${data.summaryGates.toLocaleString("en")} gates or inputs the page shows this summary ` +
    "instead of the diagram, the node table " +
    "and the playground, which would be too slow in a browser. Run circuit-run on the spec for every value and gradient.");
  const ops = Object.entries(summary.ops).map(([op, count]) => `${op} ${count.toLocaleString("en")}`).join(", ");
  body.append(el("p", {}, `${summary.nodes.toLocaleString("en")} inputs and gates; ops: ${ops}.`));
  const rows = summary.inputs.map((input) => el("tr", {}, el("td", {class: "name"}, input.name),
    el("td", {class: "num value"}, fmt(input.value)), el("td", {class: "num grad"}, fmt(input.grad))));
  const table = el("table", {}, el("thead", {}, el("tr", {}, el("th", {scope: "col"}, "input"),
    el("th", {scope: "col", class: "num"}, "value"), el("th", {scope: "col", class: "num"}, "grad"))), el("tbody", {}, ...rows));
  body.append(el("div", {class: "scroll"}, table));
  if (summary.moreInputs) body.append(el("p", {class: "hint"}, `and ${summary.moreInputs.toLocaleString("en")} more inputs`));
  show("summary");
  const values = {[data.output]: summary.outputValue}, grads = {[data.output]: 1};
  for (const input of summary.inputs) { values[input.name] = input.value; grads[input.name] = input.grad; }
  return {
    set() { throw new Error("this page shows a summary (too many gates for the playground)"); },
    values: () => Object.assign({}, values),
    grads: () => Object.assign({}, grads),
    output: () => summary.outputValue,
    summary: true,
  };
}

function notice(text) {
  const box = document.getElementById("notice");
  box.textContent = text;
  box.hidden = false;
}

// ---------------------------------------------------------------- start

document.getElementById("title").textContent = DATA.name;
document.getElementById("description").textContent = DATA.description;
document.getElementById("output-name").textContent = DATA.output;
document.getElementById("version").textContent = DATA.version;
buildTrace(DATA.trace, DATA.output);
if (DATA.summary) {
  window.circuitRun = buildSummary(DATA);
} else {
  const page = new Page(DATA);
  page.build();
  if (DATA.explain) {
    const omitted = DATA.explain.omitted ? `… ${DATA.explain.omitted} more lines: run circuit-run --explain on the spec to see them all.\n` : "";
    document.getElementById("explain").textContent = DATA.explain.text + omitted;
    show("explain-section");
  }
  window.circuitRun = {
    set: (name, value) => page.set(name, value),
    values: () => page.engine.map(page.engine.v),
    grads: () => page.engine.map(page.engine.g),
    output: () => page.engine.v[page.engine.out],
    step: (count = 1) => page.step(count),
    reset: () => page.reset(),
    inputs: () => page.engine.inputs.map((input) => input.name),
    summary: false,
  };
}
