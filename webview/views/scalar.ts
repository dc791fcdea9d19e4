/**
 * The single-neuron walk-through (scalar values): the graph like micrograd's draw_dot — a record
 * `label | data | grad` per value and op nodes (×, +, relu) between, laid out left to right with
 * dagre, drawn as SVG with createElementNS — and the chain-rule steps as a KaTeX list. Clicking a
 * value highlights its chain ∂y/∂value with the numbers.
 */
import dagre from "@dagrejs/dagre";
import { scalarChain, scalarStepLatex, scalarStepText } from "../../core/explain";
import type { ScalarBackward, ScalarNode } from "../../core/trace/traceTypes";
import { siteLabel } from "../model";
import type { Ctx } from "./context";
import { h, icon, iconButton, s, siteLink } from "./dom";
import { math } from "./math";

const OP_TEXT: Record<ScalarNode["op"], string> = { "": "", mul: "×", sum: "+", relu: "relu" };

function num(v: number | undefined): string {
  if (v === undefined) return "–";
  return v.toFixed(4);
}

/** Node and edge lists of the graph: value records and op nodes. */
export interface GraphModel {
  values: { id: string; node: ScalarNode; grad?: number }[];
  ops: { id: string; op: string; of: number }[];
  edges: { from: string; to: string; value?: number }[];
}

export function graphModel(nodes: readonly ScalarNode[], backward: ScalarBackward | undefined): GraphModel {
  const grads = new Map((backward?.grads ?? []).map((g) => [g.id, g.grad]));
  const ids = new Set(nodes.map((n) => n.id));
  const values = nodes.map((n) => ({ id: `v${n.id}`, node: n, ...(grads.has(n.id) ? { grad: grads.get(n.id) as number } : {}) }));
  const ops: GraphModel["ops"] = [];
  const edges: GraphModel["edges"] = [];
  for (const n of nodes) {
    if (!n.op) continue;
    const op = `op${n.id}`;
    ops.push({ id: op, op: OP_TEXT[n.op], of: n.id });
    for (const i of n.inputs) if (ids.has(i)) edges.push({ from: `v${i}`, to: op, value: i });
    edges.push({ from: op, to: `v${n.id}` });
  }
  return { values, ops, edges };
}

const REC_W = [52, 92, 92];
const REC_H = 30;
const OP_R = 17;

export function scalarSection(ctx: Ctx): HTMLElement | null {
  const nodes = ctx.run.scalarNodesIn(ctx.step);
  if (nodes.length === 0) return null;
  const backward = ctx.run.scalarBackwardIn(ctx.step);
  const selected = ctx.view.selectedScalar !== undefined && nodes.some((n) => n.id === ctx.view.selectedScalar) ? ctx.view.selectedScalar : undefined;
  const chain = backward && selected !== undefined ? scalarChain(backward, nodes, selected) : undefined;
  const onChain = new Set(chain?.nodeIds ?? []);
  const onSteps = new Set(chain?.stepIndices ?? []);

  const gm = graphModel(nodes, backward);
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: "LR", nodesep: 14, ranksep: 34, marginx: 8, marginy: 8 });
  g.setDefaultEdgeLabel(() => ({}));
  const recW = REC_W.reduce((a, b) => a + b, 0);
  for (const v of [...gm.values].reverse()) g.setNode(v.id, { width: recW, height: REC_H });
  for (const o of [...gm.ops].reverse()) g.setNode(o.id, { width: OP_R * 2 + (o.op === "relu" ? 14 : 0), height: OP_R * 2 });
  for (const e of [...gm.edges].reverse()) g.setEdge(e.from, e.to);
  dagre.layout(g);
  const gw = Math.ceil(g.graph().width ?? 400);
  const gh = Math.ceil(g.graph().height ?? 200);

  const svg = s("svg", { class: "scalar-graph", testid: "scalar-graph", attrs: { viewBox: `0 0 ${gw} ${gh}`, preserveAspectRatio: "xMinYMin meet", role: "group", "aria-label": `Computation graph of ${nodes.length} values` } });
  // Shrinks to the panel's width (all of it stays visible: z → relu → y was cut off); never grows past 100 %.
  svg.style.width = "100%";
  svg.style.maxWidth = `${gw}px`;
  const defs = s("defs", {}, s("marker", { attrs: { id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, markerUnits: "userSpaceOnUse", orient: "auto-start-reverse" } }, s("path", { class: "arrow-head", attrs: { d: "M 0 0 L 10 5 L 0 10 z" } })));
  svg.appendChild(defs);
  for (const e of gm.edges) {
    const pts = g.edge(e.from, e.to)?.points ?? [];
    if (pts.length < 2) continue;
    const d = pts.map((p: { x: number; y: number }, i: number) => `${i ? "L" : "M"} ${p.x.toFixed(1)} ${p.y.toFixed(1)}`).join(" ");
    const toId = Number(e.to.replace(/^op|^v/, ""));
    const fromId = Number(e.from.replace(/^op|^v/, ""));
    const hot = onChain.has(toId) && onChain.has(fromId);
    svg.appendChild(s("path", { class: `edge${hot ? " hot" : ""}`, attrs: { d, "marker-end": "url(#arrow)" } }));
  }
  for (const o of gm.ops) {
    const n = g.node(o.id);
    const hot = onChain.has(o.of);
    const w = n.width;
    svg.appendChild(
      s(
        "g",
        { class: `op${hot ? " hot" : ""}`, attrs: { transform: `translate(${(n.x - w / 2).toFixed(1)} ${(n.y - OP_R).toFixed(1)})` } },
        s("rect", { attrs: { width: w, height: OP_R * 2, rx: OP_R, ry: OP_R } }),
        s("text", { attrs: { x: w / 2, y: OP_R, "text-anchor": "middle", "dominant-baseline": "central" } }, o.op),
      ),
    );
  }
  for (const v of gm.values) {
    const n = g.node(v.id);
    const x0 = n.x - recW / 2;
    const y0 = n.y - REC_H / 2;
    const hot = onChain.has(v.node.id);
    const sel = selected === v.node.id;
    const cells = [v.node.label, `data ${num(v.node.data)}`, `grad ${num(v.grad)}`];
    const grp = s("g", {
      class: `value${hot ? " hot" : ""}${sel ? " selected" : ""}`,
      testid: "scalar-node",
      attrs: {
        transform: `translate(${x0.toFixed(1)} ${y0.toFixed(1)})`,
        tabindex: 0,
        role: "button",
        "aria-pressed": String(sel),
        "aria-label": `${v.node.label}: data ${v.node.data}, grad ${v.grad ?? "not computed"}. Show its chain rule.`,
        "data-label": v.node.label,
        "data-id": v.node.id,
      },
    });
    grp.appendChild(s("rect", { class: "rec", attrs: { width: recW, height: REC_H, rx: 3, ry: 3 } }));
    let x = 0;
    cells.forEach((c, i) => {
      if (i > 0) grp.appendChild(s("line", { class: "sep", attrs: { x1: x, y1: 0, x2: x, y2: REC_H } }));
      grp.appendChild(s("text", { class: i === 0 ? "lbl" : i === 2 ? "grad" : "data", attrs: { x: x + (REC_W[i] as number) / 2, y: REC_H / 2, "text-anchor": "middle", "dominant-baseline": "central" } }, c));
      x += REC_W[i] as number;
    });
    const activate = (): void => ctx.actions.selectScalar(sel ? undefined : v.node.id);
    grp.addEventListener("click", activate);
    grp.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        activate();
      }
    });
    svg.appendChild(grp);
  }

  const stepsList = backward
    ? h(
        "ol",
        { class: "scalar-steps", testid: "scalar-steps" },
        ...backward.steps.map((st, i) => h("li", { class: onSteps.has(i) ? "hot" : "", attrs: { "data-text": scalarStepText(st) } }, math(scalarStepLatex(st), scalarStepText(st)))),
      )
    : h("p", { class: "muted" }, "No backward pass in this step: the graph shows the forward values only.");
  const chainBox = chain
    ? h(
        "div",
        { class: "scalar-chain", testid: "scalar-chain", attrs: { "data-text": chain.text, "aria-live": "polite" } },
        h("div", { class: "section-title" }, icon("symbol-operator"), " Chain to ", h("span", { class: "mono" }, nodes.find((n) => n.id === selected)?.label ?? ""), iconButton("close", "Clear the highlighted chain", () => ctx.actions.selectScalar(undefined), "scalar-chain-close")),
        math(chain.latex, chain.text, { display: true }),
        chain.recorded !== undefined ? h("p", { class: "muted" }, `recorded gradient: ${chain.recorded}`) : null,
      )
    : backward
      ? h("p", { class: "muted hint" }, "Click a value in the graph (or focus it and press Enter) to see its chain of local derivatives.")
      : null;
  return h(
    "section",
    { class: "scalar", testid: "scalar-section", attrs: { "aria-label": "Single-neuron graph" } },
    h(
      "div",
      { class: "section-title" },
      icon("type-hierarchy-sub"),
      ` Scalar values of step ${ctx.step ?? 0}`,
      backward?.site ? h("span", { class: "muted" }, " · backward at ") : null,
      backward?.site ? siteLink(backward.site, siteLabel(backward.site), ctx.actions.openSource, "scalar-backward-source") : null,
    ),
    h("div", { class: "graph-scroll", attrs: { tabindex: -1 } }, svg),
    chainBox,
    backward ? h("div", { class: "section-title sub" }, `Chain rule, from the output back (dvalue = ${backward.dvalue})`) : null,
    stepsList,
  );
}
