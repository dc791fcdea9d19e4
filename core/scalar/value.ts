/**
 * Scalar values for the single-neuron walk-through of chapter 9: each multiplication, sum and
 * `max(z, 0)` is an atomic operation that records its local derivatives, and `backward()` applies
 * the chain rule from the output back to every input, yielding each intermediate with the book's
 * name (`drelu_dz`, `drelu_dxw0`, `drelu_dx0`, …) in the order the book computes them.
 *
 * Gradients accumulate (`grad += …`, so a value used twice gets both contributions) and are cleared
 * on purpose with `zeroGrad()`.
 */
import { ArgumentError } from "../errors";
import { runtime } from "../runtime";
import type { ChainStep } from "../trace/traceTypes";

/** The atomic operations; a leaf (an input, a weight, a bias) has op `""`. */
export type ScalarOp = "" | "mul" | "sum" | "relu";

let nextId = 0;

/** A scalar in a computation graph: its value, its gradient, and how it was made. */
export class Value {
  /** Unique within the run; the trace refers to values by id. */
  readonly id = nextId++;
  /** ∂output/∂this, filled by `backward()` on a value computed from this one. */
  grad = 0;

  constructor(
    /** The forward value. */
    public data: number,
    /** The name used in chain-rule steps (`x0`, `w0`, `xw0`, `z`, …). */
    public label: string,
    /** The operation that produced this value. */
    readonly op: ScalarOp = "",
    /** The operands, in order. */
    readonly inputs: readonly Value[] = [],
    /** The local derivatives ∂this/∂inputs[i], taken at forward time. */
    readonly local: readonly number[] = [],
  ) {
    if (typeof data !== "number") throw new ArgumentError(`value(${String(data)}): a scalar value must be a number`);
    runtime.tracer?.scalarOp(this);
  }

  /** `this · other`, with ∂/∂this = other and ∂/∂other = this. */
  mul(other: Value | number, label?: string): Value {
    return mul(this, other, label);
  }

  /** `this + other`, a sum with local derivatives 1. */
  add(other: Value | number, label?: string): Value {
    return sum([this, other], label);
  }

  /** `max(this, 0)`, with local derivative 1 if this > 0 else 0. */
  relu(label?: string): Value {
    return relu(this, label);
  }

  /**
   * Backpropagates `dvalue` (∂L/∂this, 1 by default: "the gradient from the next layer") to every value
   * this one was computed from, and returns the chain-rule products in the order they were applied.
   */
  backward(dvalue = 1): ChainStep[] {
    this.grad += dvalue;
    const rootName = this.op === "" ? this.label : this.op;
    const steps: ChainStep[] = [];
    const seen = new Set<number>();
    // Kahn's algorithm from the output: a value is expanded once all its consumers have passed their
    // gradient to it, and ready values are taken in operand order, which is the book's order
    // (drelu_dz; drelu_dxw0, drelu_dxw1, drelu_dxw2, drelu_db; drelu_dx0, drelu_dw0, …).
    const pending = new Map<number, number>();
    for (const v of topologicalOrder(this)) for (const c of v.inputs) pending.set(c.id, (pending.get(c.id) ?? 0) + 1);
    const queue: Value[] = [this];
    for (let q = 0; q < queue.length; q++) {
      const node = queue[q] as Value;
      node.inputs.forEach((input, i) => {
        const local = node.local[i] as number;
        const product = node.grad * local;
        const accumulated = seen.has(input.id);
        seen.add(input.id);
        input.grad += product;
        steps.push({
          target: input.id,
          node: node.id,
          name: `d${rootName}_d${input.label}`,
          upstream: node === this ? { name: "dvalue", value: dvalue } : { name: `d${rootName}_d${node.label}`, value: node.grad },
          // The book names local derivatives dsum_dxw0, dmul_dx0; at the output the product takes that
          // name (drelu_dz), so its local factor is written ∂relu/∂z to keep the two apart.
          local: { name: node === this ? `∂${node.op || node.label}/∂${input.label}` : `d${node.op}_d${input.label}`, value: local },
          value: product,
          accumulated,
        });
        const left = (pending.get(input.id) ?? 1) - 1;
        pending.set(input.id, left);
        if (left === 0) queue.push(input);
      });
    }
    runtime.tracer?.scalarBackward(this, dvalue, steps);
    return steps;
  }

  /** Sets `grad = 0` on this value and everything it was computed from. */
  zeroGrad(): void {
    for (const v of topologicalOrder(this)) v.grad = 0;
  }

  toString(): string {
    return `Value(${this.label}=${this.data}, grad=${this.grad})`;
  }
}

/** Values in an order where every value comes after its inputs (the root is last). */
export function topologicalOrder(root: Value): Value[] {
  const out: Value[] = [];
  const visited = new Set<number>();
  const stack: [Value, number][] = [[root, 0]];
  visited.add(root.id);
  // Iterative depth-first search: long chains must not overflow the call stack.
  while (stack.length > 0) {
    const top = stack[stack.length - 1] as [Value, number];
    const [v, i] = top;
    if (i < v.inputs.length) {
      top[1] = i + 1;
      const c = v.inputs[i] as Value;
      if (!visited.has(c.id)) {
        visited.add(c.id);
        stack.push([c, 0]);
      }
    } else {
      stack.pop();
      out.push(v);
    }
  }
  return out;
}

function lift(x: Value | number): Value {
  return x instanceof Value ? x : new Value(x, String(x));
}

/** A leaf value: an input, a weight or a bias. */
export function value(data: number, label: string): Value {
  return new Value(data, label);
}

/** `a · b`. The default label joins the names the way the book does: x0 · w0 → `xw0`. */
export function mul(a: Value | number, b: Value | number, label?: string): Value {
  const x = lift(a);
  const y = lift(b);
  return new Value(x.data * y.data, label ?? productLabel(x.label, y.label), "mul", [x, y], [y.data, x.data]);
}

/** `Σ terms` (the weighted inputs plus the bias), every local derivative 1. */
export function sum(terms: readonly (Value | number)[], label = "z"): Value {
  if (terms.length === 0) throw new ArgumentError("sum([]): nothing to add");
  const xs = terms.map(lift);
  let s = 0;
  for (const t of xs) s += t.data;
  return new Value(s, label, "sum", xs, xs.map(() => 1));
}

/** `max(z, 0)`, the ReLU of one neuron, with local derivative `1 if z > 0 else 0`. */
export function relu(z: Value, label = "y"): Value {
  return new Value(Math.max(z.data, 0), label, "relu", [z], [z.data > 0 ? 1 : 0]);
}

/** `max(z, 0)` written as in the book; only 0 is accepted as the second operand. */
export function max(z: Value, zero: 0, label = "y"): Value {
  if (zero !== 0) throw new ArgumentError(`max(z, ${String(zero)}): only max(z, 0), the ReLU, is an atomic operation here`);
  return relu(z, label);
}

function productLabel(a: string, b: string): string {
  const ma = /^([A-Za-z_]+)(\d*)$/.exec(a);
  const mb = /^([A-Za-z_]+)(\d*)$/.exec(b);
  if (ma && mb && ma[2] === mb[2]) return `${ma[1]}${mb[1]}${ma[2]}`;
  return `${a}·${b}`;
}
