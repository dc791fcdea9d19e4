/**
 * The network at a glance, as data (no DOM): the layers of one step in call order and the tensors
 * that connect them, in both directions. A forward edge is the tensor one layer's forward made and
 * the next one read (`dense1.output` = `activation1.inputs`); a backward edge is the gradient one
 * layer's backward made and the previous one received (`activation1.dinputs` = `dense1.dvalues`).
 * Trace format 2 says which tensor is which (the run model's references, `RunModel.origin`); a trace
 * without references (version 1, the Python tracer) is connected in call order and says so.
 *
 * `gradientPath` follows a gradient back from any layer's `dvalues` through the layers that produced
 * it to the loss: the chain rule across layers.
 */
import type { CallSummary, RunModel } from "../core/run/runModel";
import type { LayerInfo } from "../core/trace/traceTypes";

export interface NetNode {
  layer: LayerInfo;
  /** The layer's forward and backward call of the step (top level). */
  forward?: CallSummary;
  backward?: CallSummary;
  /** ‖d‖ of the layer's main parameter gradient (`dweights`), when it has one. */
  paramGradNorm?: { name: string; norm: number };
}

export interface NetEdge {
  /** Layer ids: `from` made the tensor, `to` used it. A backward edge goes against the forward direction. */
  from: number;
  to: number;
  direction: "forward" | "backward";
  /** The tensor as its maker names it (`output`, `dinputs`) and as its user does (`inputs`, `dvalues`). */
  made: string;
  used: string;
  shape: number[];
  norm: number;
  /** True when the trace recorded it as the same tensor (a reference), false when inferred from call order. */
  known: boolean;
  /** The calls at both ends. */
  fromSeq: number;
  toSeq: number;
}

export interface NetworkModel {
  nodes: NetNode[];
  edges: NetEdge[];
  /** True when at least one edge came from references (not call order). */
  fromRefs: boolean;
}

function topLevel(run: RunModel, layer: number, step: number, phase: "forward" | "backward"): CallSummary | undefined {
  const calls = run.callsIn(layer, step).filter((c) => c.phase === phase && c.parent === undefined);
  return phase === "forward" ? calls[0] : calls[calls.length - 1];
}

export function networkModel(run: RunModel, step: number | undefined): NetworkModel {
  if (step === undefined) return { nodes: [], edges: [], fromRefs: false };
  const order = run.layerOrder({ topLevelOnly: true }).filter((l) => run.callsIn(l.id, step).some((c) => c.parent === undefined));
  const nodes: NetNode[] = order.map((layer) => {
    const forward = topLevel(run, layer.id, step, "forward");
    const backward = topLevel(run, layer.id, step, "backward");
    const grads = backward ? run.gradientNames(backward).filter((n) => n !== "dinputs") : [];
    const main = grads.includes("dweights") ? "dweights" : grads[0];
    const norm = main !== undefined ? backward?.tensors[main]?.stats.norm : undefined;
    return { layer, ...(forward ? { forward } : {}), ...(backward ? { backward } : {}), ...(main !== undefined && norm !== undefined ? { paramGradNorm: { name: main, norm } } : {}) };
  });
  const byLayer = new Map(nodes.map((n) => [n.layer.id, n]));
  const edges: NetEdge[] = [];
  let fromRefs = false;
  const seen = new Set<string>();
  const add = (e: NetEdge): void => {
    const k = `${e.direction}:${e.from}:${e.to}`;
    if (seen.has(k) || e.from === e.to) return;
    seen.add(k);
    edges.push(e);
  };
  for (const n of nodes) {
    const f = n.forward;
    if (f && "inputs" in f.tensors) {
      const o = run.origin(f.seq, "inputs");
      if (o && byLayer.has(o.call.layer)) {
        fromRefs = true;
        const t = f.tensors.inputs;
        add({ from: o.call.layer, to: n.layer.id, direction: "forward", made: o.name, used: "inputs", shape: t?.shape ?? [], norm: t?.stats.norm ?? NaN, known: true, fromSeq: o.call.seq, toSeq: f.seq });
      }
    }
    const b = n.backward;
    if (b && "dvalues" in b.tensors) {
      const o = run.origin(b.seq, "dvalues");
      // A loss layer receives its own forward output as dvalues (the book passes the softmax output): no gradient edge.
      if (o && o.call.phase === "backward" && byLayer.has(o.call.layer) && o.call.layer !== n.layer.id) {
        fromRefs = true;
        const t = b.tensors.dvalues;
        add({ from: o.call.layer, to: n.layer.id, direction: "backward", made: o.name, used: "dvalues", shape: t?.shape ?? [], norm: t?.stats.norm ?? NaN, known: true, fromSeq: o.call.seq, toSeq: b.seq });
      }
    }
  }
  if (!fromRefs) {
    // No references (version 1 trace, another producer): connect the layers in call order.
    for (let i = 0; i + 1 < nodes.length; i++) {
      const a = nodes[i] as NetNode;
      const c = nodes[i + 1] as NetNode;
      const out = a.forward?.tensors.output;
      if (a.forward && c.forward && out) add({ from: a.layer.id, to: c.layer.id, direction: "forward", made: "output", used: "inputs", shape: out.shape, norm: out.stats.norm, known: false, fromSeq: a.forward.seq, toSeq: c.forward.seq });
      const din = c.backward?.tensors.dinputs;
      if (a.backward && c.backward && din) add({ from: c.layer.id, to: a.layer.id, direction: "backward", made: "dinputs", used: "dvalues", shape: din.shape, norm: din.stats.norm, known: false, fromSeq: c.backward.seq, toSeq: a.backward.seq });
    }
  }
  return { nodes, edges, fromRefs };
}

/** One hop of a gradient: `layer.dvalues` is `from.dinputs` (the same tensor). */
export interface GradientHop {
  layer: LayerInfo;
  call: CallSummary;
  /** What this layer received (`dvalues`) and where it came from; undefined at the start of the chain (the loss). */
  from?: { layer: LayerInfo; call: CallSummary; name: string };
  norm: number;
  shape: number[];
}

/**
 * Follows a gradient back from a backward call's `dvalues` through the calls that produced it, to where
 * the backward pass started (the loss layer's backward, whose `dvalues` is its own output or nothing).
 * The first hop is the given call; each next hop is the layer whose `dinputs` the previous one received.
 */
export function gradientPath(run: RunModel, start: CallSummary): GradientHop[] {
  const hops: GradientHop[] = [];
  let call: CallSummary | undefined = start;
  const visited = new Set<number>();
  while (call && !visited.has(call.seq) && hops.length < 64) {
    visited.add(call.seq);
    const layer = run.layers.get(call.layer);
    if (!layer) break;
    const o: { call: CallSummary; name: string } | undefined = "dvalues" in call.tensors ? run.origin(call.seq, "dvalues") : undefined;
    // A loss layer's backward may receive its own forward output: that is where the gradient starts.
    const fromLayer: LayerInfo | undefined = o && o.call.phase === "backward" ? run.layers.get(o.call.layer) : undefined;
    const t = call.tensors.dvalues ?? call.tensors.dinputs;
    hops.push({ layer, call, ...(o && fromLayer ? { from: { layer: fromLayer, call: o.call, name: o.name } } : {}), norm: t?.stats.norm ?? NaN, shape: t?.shape ?? [] });
    call = o && fromLayer ? o.call : undefined;
  }
  return hops;
}

/** Stroke width of a gradient edge from its norm: log scale between 1 and 7 px over the edges shown. */
export function gradientWidth(norm: number, all: readonly number[]): number {
  const logs = all.filter((n) => n > 0 && Number.isFinite(n)).map((n) => Math.log10(n));
  if (!(norm > 0) || !Number.isFinite(norm) || logs.length === 0) return 1;
  const lo = Math.min(...logs);
  const hi = Math.max(...logs);
  return hi === lo ? 3 : 1 + (6 * (Math.log10(norm) - lo)) / (hi - lo);
}
