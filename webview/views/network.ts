/**
 * The network at a glance (networkModel.ts drawn with dagre + SVG): the layers of the shown step in
 * call order, each forward edge labelled with the tensor and its shape, each backward edge (drawn
 * beneath it, against the forward direction) with the gradient, its shape and norm, its width growing
 * with the norm (log scale). Click a layer to open its card; click a gradient (or focus it and press
 * Enter) to follow it back to the loss: `dense2.dvalues` is `activation2.dinputs`, whose layer received
 * `loss.dinputs`, …, written out with the norms of every hop.
 */
import dagre from "@dagrejs/dagre";
import { shortNumber } from "../../core/format";
import { gradientPath, gradientWidth, networkModel, type NetEdge, type NetworkModel } from "../networkModel";
import type { Ctx } from "./context";
import { h, icon, s } from "./dom";
import { markOverflow } from "./math";

const NODE_W = 176;
const NODE_H = 56;
/** Characters that fit a node line (11 px monospace). */
const NODE_CHARS = 24;

function fit(t: string, n = NODE_CHARS): string {
  return t.length <= n ? t : `${t.slice(0, n - 1)}…`;
}
/** Room for a label on each side of an edge. */
const LABEL_GAP = 150;

function shape(sh: readonly number[]): string {
  return `[${sh.join(", ")}]`;
}

/** The graph's smallest scale: below it the panel scrolls the graph instead of shrinking its text. */
const MIN_SCALE = 0.8;

function graphBox(svg: SVGSVGElement): HTMLElement {
  const box = h("div", { class: "net-graph" }, svg);
  markOverflow(box, "the graph goes on");
  return box;
}

/** The section, or null when the step has fewer than two layers. */
export function networkSection(ctx: Ctx): HTMLElement | null {
  const model = networkModel(ctx.run, ctx.step);
  if (model.nodes.length < 2) return null;
  const path = h("div", { class: "net-path", testid: "gradient-path", attrs: { "aria-live": "polite" } });
  const svg = drawGraph(ctx, model, (edge) => showPath(ctx, model, edge, path, svg));
  const section = h(
    "section",
    { class: "network", testid: "network", attrs: { "aria-label": "The network at a glance" } },
    h(
      "div",
      { class: "section-title" },
      icon("type-hierarchy"),
      ` Network, step ${ctx.step ?? 0}`,
      h("span", { class: "muted net-legend" }, " → forward values, ← gradients (width: ‖gradient‖, log scale). Click a layer for its card, a gradient to follow it back."),
    ),
    graphBox(svg),
    model.fromRefs ? null : h("p", { class: "muted", testid: "network-inferred" }, "This trace does not say which tensor is which (no references): the layers are connected in call order."),
    path,
  );
  // Start with the first layer's gradient followed back to the loss (the whole backward pass).
  const last = [...model.edges].filter((e) => e.direction === "backward").sort((a, b) => b.toSeq - a.toSeq)[0];
  if (last) showPath(ctx, model, last, path, svg);
  return section;
}

function drawGraph(ctx: Ctx, model: NetworkModel, onEdge: (e: NetEdge) => void): SVGSVGElement {
  const wide = ctx.contentWidth >= model.nodes.length * (NODE_W + LABEL_GAP) * 0.75;
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: wide ? "LR" : "TB", nodesep: 30, ranksep: wide ? LABEL_GAP : 64, marginx: 8, marginy: 8 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of model.nodes) g.setNode(String(n.layer.id), { width: NODE_W, height: NODE_H });
  const forward = model.edges.filter((e) => e.direction === "forward");
  // The backward edges run along the forward ones; a backward edge with no forward twin gets its own.
  for (const e of forward) g.setEdge(String(e.from), String(e.to));
  for (const e of model.edges) if (e.direction === "backward" && !forward.some((f) => f.from === e.to && f.to === e.from)) g.setEdge(String(e.to), String(e.from));
  dagre.layout(g);
  const gw = Math.ceil((g.graph().width ?? 400) + (wide ? 0 : LABEL_GAP * 2));
  const gh = Math.ceil((g.graph().height ?? 200) + (wide ? 36 : 0));
  const dx = wide ? 0 : LABEL_GAP;
  const dy = wide ? 18 : 0;
  const svg = s("svg", { class: "net-svg", testid: "network-graph", attrs: { viewBox: `0 0 ${gw} ${gh}`, preserveAspectRatio: "xMidYMin meet", role: "group", "aria-label": `Network of ${model.nodes.length} layers` } });
  // Fits the card: scales down, never up past its natural size, and never below 80 % of it (its labels
  // would be too small to read in a very narrow panel: it scrolls then, and says so).
  svg.style.width = "100%";
  svg.style.maxWidth = `${gw}px`;
  svg.style.minWidth = `${Math.round(gw * MIN_SCALE)}px`;
  svg.appendChild(
    s(
      "defs",
      {},
      s("marker", { attrs: { id: "net-fwd", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, markerUnits: "userSpaceOnUse", orient: "auto-start-reverse" } }, s("path", { class: "net-head fwd", attrs: { d: "M 0 0 L 10 5 L 0 10 z" } })),
      s("marker", { attrs: { id: "net-bwd", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, markerUnits: "userSpaceOnUse", orient: "auto-start-reverse" } }, s("path", { class: "net-head bwd", attrs: { d: "M 0 0 L 10 5 L 0 10 z" } })),
    ),
  );
  const norms = model.edges.filter((e) => e.direction === "backward").map((e) => e.norm);
  const nodePos = (id: number): { x: number; y: number } => {
    const n = g.node(String(id));
    return { x: n.x + dx, y: n.y + dy };
  };
  for (const e of model.edges) {
    // Straight edges between the node borders; the backward one offset to the other side.
    const a = nodePos(e.direction === "forward" ? e.from : e.to);
    const b = nodePos(e.direction === "forward" ? e.to : e.from);
    const off = e.direction === "forward" ? -7 : 7;
    const [x1, y1, x2, y2] = wide ? [a.x + NODE_W / 2, a.y + off, b.x - NODE_W / 2, b.y + off] : [a.x + off, a.y + NODE_H / 2, b.x + off, b.y - NODE_H / 2];
    const d = e.direction === "forward" ? `M ${x1} ${y1} L ${x2} ${y2}` : `M ${x2} ${y2} L ${x1} ${y1}`;
    const from = ctx.run.layers.get(e.from)?.name ?? "?";
    const to = ctx.run.layers.get(e.to)?.name ?? "?";
    const label = e.direction === "forward" ? `${e.made} ${shape(e.shape)}` : `${e.made} ${shape(e.shape)} ‖·‖ ${shortNumber(e.norm, 3)}`;
    const mx = (x1 + x2) / 2;
    const my = (y1 + y2) / 2;
    const tx = wide ? mx : e.direction === "forward" ? mx - 12 : mx + 12;
    const ty = wide ? (e.direction === "forward" ? my - 8 : my + 16) : my + 4;
    const anchor = wide ? "middle" : e.direction === "forward" ? "end" : "start";
    const grp = s(
      "g",
      {
        class: `net-edge ${e.direction}${e.known ? "" : " inferred"}`,
        testid: "network-edge",
        attrs: {
          "data-direction": e.direction,
          "data-from": from,
          "data-to": to,
          "data-text": `${from}.${e.made} → ${to}.${e.used} ${shape(e.shape)}${e.direction === "backward" ? ` ‖·‖ ${shortNumber(e.norm, 4)}` : ""}`,
          ...(e.direction === "backward" ? { tabindex: 0, role: "button", "aria-label": `Follow the gradient ${from}.${e.made} (${to}.dvalues) back to the loss` } : {}),
        },
      },
      s("path", { class: "net-line", attrs: { d, "marker-end": e.direction === "forward" ? "url(#net-fwd)" : "url(#net-bwd)" } }),
      s("text", { class: "net-label", attrs: { x: tx, y: ty, "text-anchor": anchor } }, label),
    );
    const line = grp.querySelector("path") as SVGPathElement;
    if (e.direction === "backward") {
      line.style.strokeWidth = String(gradientWidth(e.norm, norms).toFixed(2));
      const go = (): void => onEdge(e);
      grp.addEventListener("click", go);
      grp.addEventListener("keydown", (ev) => {
        if (ev.key === "Enter" || ev.key === " ") {
          ev.preventDefault();
          go();
        }
      });
    }
    svg.appendChild(grp);
  }
  for (const n of model.nodes) {
    const p = nodePos(n.layer.id);
    const grad = n.paramGradNorm ? `‖${n.paramGradNorm.name}‖ ${shortNumber(n.paramGradNorm.norm, 3)}` : n.layer.kind === "custom" ? "your layer" : n.layer.kind;
    const node = s(
      "g",
      {
        class: `net-node kind-${n.layer.kind}`,
        testid: "network-node",
        attrs: {
          transform: `translate(${(p.x - NODE_W / 2).toFixed(1)} ${(p.y - NODE_H / 2).toFixed(1)})`,
          tabindex: 0,
          role: "button",
          "data-layer": n.layer.name,
          "aria-label": `${n.layer.name} = ${n.layer.description}. Open its card.`,
        },
      },
      s("rect", { attrs: { width: NODE_W, height: NODE_H, rx: 5, ry: 5 } }),
      s("text", { class: "net-name", attrs: { x: NODE_W / 2, y: 16, "text-anchor": "middle" } }, fit(n.layer.name, 20)),
      s("text", { class: "net-desc", attrs: { x: NODE_W / 2, y: 31, "text-anchor": "middle" } }, fit(n.layer.description.length <= NODE_CHARS ? n.layer.description : n.layer.className)),
      s("text", { class: "net-desc", attrs: { x: NODE_W / 2, y: 46, "text-anchor": "middle" } }, fit(grad)),
    );
    const open = (): void => ctx.actions.reveal(n.layer.id, ctx.step);
    node.addEventListener("click", open);
    node.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" || ev.key === " ") {
        ev.preventDefault();
        open();
      }
    });
    svg.appendChild(node);
  }
  return svg;
}

/** Writes out the chain of one gradient back to the loss, and highlights its edges. */
function showPath(ctx: Ctx, model: NetworkModel, edge: NetEdge, out: HTMLElement, svg: SVGSVGElement): void {
  const start = model.nodes.find((n) => n.layer.id === edge.to)?.backward;
  if (!start) return;
  const hops = gradientPath(ctx.run, start);
  const names = new Set(hops.flatMap((h) => (h.from ? [`${h.from.layer.name}>${h.layer.name}`] : [])));
  for (const el of svg.querySelectorAll(".net-edge.backward")) el.classList.toggle("hot", names.has(`${el.getAttribute("data-from")}>${el.getAttribute("data-to")}`));
  const items = hops.map((hop) =>
    h(
      "li",
      { attrs: { "data-layer": hop.layer.name, "data-text": hop.from ? `${hop.layer.name}.dvalues = ${hop.from.layer.name}.${hop.from.name}` : `${hop.layer.name}: the backward pass starts here` } },
      h("button", { class: "link", attrs: { type: "button" }, on: { click: () => ctx.actions.reveal(hop.layer.id, ctx.step) } }, `${hop.layer.name}.dvalues`),
      hop.from ? ` ${shape(hop.shape)} is ` : " ",
      hop.from ? h("span", { class: "mono" }, `${hop.from.layer.name}.${hop.from.name}`) : h("span", { class: "muted" }, hop.layer.kind === "softmax-cce" || hop.layer.kind === "cce" ? "the loss: the backward pass starts here" : "the start of this backward pass"),
      hop.from ? h("span", { class: "muted" }, ` (the same tensor; ‖·‖ ${shortNumber(hop.norm, 4)})`) : null,
    ),
  );
  out.replaceChildren(
    h("div", { class: "section-title sub" }, icon("arrow-left"), ` Following ${ctx.run.layers.get(edge.to)?.name ?? "?"}.dvalues back to the loss`),
    h("ol", { class: "net-hops" }, ...items),
  );
}
