/**
 * The learning-rate blow-up rule: a training run whose loss jumps and stays up (SGD at learning rate
 * 50 takes the spiral model from 1.1 to 10.7 in five steps and kills every ReLU unit) is reported at
 * the step where the loss jumped, with the evidence and the likely cause:
 *
 * - the loss jump: the loss rose above 1.5× (and 0.1 above) the lowest loss so far;
 * - the update-to-weight ratio of each parameter, `‖ΔW‖/‖W‖` (for plain SGD `lr·‖dW‖/‖W‖`): healthy
 *   training moves weights by about 0.1 % per step, a ratio near or above 1 replaces them;
 * - exploding gradients: how far a gradient norm grew from its first value;
 * - the learning rate that was used, named as the likely cause, with a smaller one to try.
 *
 * A loss that jumps above where it started and then comes back (Adam at a large learning rate) is a
 * note ("loss-spike"); a loss that is still up at the end is a warning ("diverging"). The recorder feeds
 * one observation per step (`observe`) and asks for the anomalies when the run ends (`finish`).
 * The rule itself (`DivergenceWatch`) is pure over observations, so any producer's steps can be fed to
 * it; `recorderObservation` is the recorder's side.
 */
import { shortNumber } from "../format";
import { type CallRecord, safeParams } from "./callRecord";
import { l2norm } from "./stats";
import type { Anomaly, SourceSite } from "./traceTypes";

/** One parameter of one layer in one step. */
export interface ParamObservation {
  layer: number;
  /** `dense1`. */
  layerName: string;
  /** `weights`. */
  name: string;
  /** ‖W‖ before the step's update. */
  weightNorm: number;
  /** ‖dW‖ of the step. */
  gradNorm: number;
  /** ‖ΔW‖ of the step's update (W after − W before), when the update was seen. */
  updateNorm?: number;
}

export interface StepObservation {
  step: number;
  loss?: number;
  learningRate?: number;
  /** The optimizer's kind (`SGD`, `Adam`) and whether it uses momentum (then ‖ΔW‖ ≠ lr·‖dW‖). */
  optimizer?: { kind: string; momentum?: boolean; site?: SourceSite };
  params: readonly ParamObservation[];
}

/** Thresholds of the rule (exported for tests and for the docs). */
export const DIVERGENCE = {
  /** A loss above `jumpFactor` × the lowest so far (and `minRise` above it) has jumped. */
  jumpFactor: 1.5,
  minRise: 0.1,
  /** An update-to-weight ratio above this is named as evidence. */
  largeUpdate: 0.1,
  /** Observed steps before the jump whose updates and gradients are its evidence. */
  lookback: 20,
} as const;

interface Peak {
  step: number;
  ratio: number;
  layer: number;
  layerName: string;
  name: string;
  /** lr·‖dW‖/‖W‖ parts, for plain SGD. */
  lr?: number;
  gradNorm: number;
  weightNorm: number;
  updateNorm?: number;
}

export class DivergenceWatch {
  private firstLoss: { step: number; loss: number } | undefined;
  private min: { step: number; loss: number } | undefined;
  private last: { step: number; loss: number } | undefined;
  /** The first jump (the onset) and the highest loss after it. */
  private onset: { step: number; loss: number; from: { step: number; loss: number } } | undefined;
  private peakLoss: { step: number; loss: number } | undefined;
  /** Largest update-to-weight ratio seen up to the onset (or so far, before one). */
  private bigUpdate: Peak | undefined;
  private bigWeightUpdate: Peak | undefined;
  private growth: { key: string; layer: number; layerName: string; name: string; from: { step: number; norm: number }; to: { step: number; norm: number }; factor: number } | undefined;
  private lr: number | undefined;
  private optimizer: StepObservation["optimizer"];

  /** The last `DIVERGENCE.lookback` observed steps before the onset: their largest updates and their gradient norms. */
  private recent: { step: number; weight?: Peak; other?: Peak; norms: Map<string, { norm: number; layer: number; layerName: string; name: string }> }[] = [];
  /** Gradient norms just before the onset (the oldest step looked back on), the baseline of the growth. */
  private baseline: Map<string, { step: number; norm: number }> | undefined;

  observe(o: StepObservation): void {
    if (o.learningRate !== undefined) this.lr = o.learningRate;
    if (o.optimizer) this.optimizer = o.optimizer;
    const loss = o.loss;
    const before = this.onset;
    if (loss !== undefined) {
      const here = { step: o.step, loss };
      this.firstLoss ??= here;
      this.last = here;
      const min = this.min;
      if (min !== undefined && (Number.isNaN(loss) || (loss > DIVERGENCE.jumpFactor * min.loss && loss - min.loss > DIVERGENCE.minRise))) {
        this.onset ??= { step: o.step, loss, from: min };
        if (this.peakLoss === undefined || !(this.peakLoss.loss >= loss)) this.peakLoss = here;
      }
      if (Number.isFinite(loss) && (min === undefined || loss < min.loss)) this.min = here;
    }
    if (before === undefined && this.onset !== undefined) {
      // The jump: its evidence is the steps just before it (a step's update follows its loss), not
      // the first steps of training, where a fresh network's tiny weights make every ratio large.
      for (const r of this.recent) {
        if (r.weight && !(r.weight.ratio <= (this.bigWeightUpdate?.ratio ?? 0))) this.bigWeightUpdate = r.weight;
        if (r.other && !(r.other.ratio <= (this.bigUpdate?.ratio ?? 0))) this.bigUpdate = r.other;
      }
      const oldest = this.recent[0];
      this.baseline = new Map([...(oldest?.norms ?? new Map())].map(([k, v]) => [k, { step: oldest?.step ?? 0, norm: v.norm }]));
      this.recent = [];
    }
    if (this.onset === undefined) {
      // Weights are preferred as evidence: biases start at 0, so their ratio says little.
      const entry: (typeof this.recent)[number] = { step: o.step, norms: new Map() };
      for (const p of o.params) {
        if (Number.isFinite(p.gradNorm) && p.gradNorm > 0) entry.norms.set(`${p.layer}:${p.name}`, { norm: p.gradNorm, layer: p.layer, layerName: p.layerName, name: p.name });
        const ratio = updateRatio(p, o);
        if (ratio === undefined) continue;
        const slot = p.name === "weights" ? "weight" : "other";
        if (!(ratio > (entry[slot]?.ratio ?? 0))) continue;
        entry[slot] = {
          step: o.step,
          ratio,
          layer: p.layer,
          layerName: p.layerName,
          name: p.name,
          gradNorm: p.gradNorm,
          weightNorm: p.weightNorm,
          ...(p.updateNorm !== undefined ? { updateNorm: p.updateNorm } : {}),
          ...(o.learningRate !== undefined ? { lr: o.learningRate } : {}),
        };
      }
      if (o.params.length > 0) {
        this.recent.push(entry);
        if (this.recent.length > DIVERGENCE.lookback) this.recent.shift();
      }
      return;
    }
    // After the jump: how far each gradient grew from just before it.
    for (const p of o.params) {
      const key = `${p.layer}:${p.name}`;
      const from = this.baseline?.get(key);
      if (!from || !Number.isFinite(p.gradNorm)) continue;
      const factor = p.gradNorm / from.norm;
      if (factor > (this.growth?.factor ?? 1)) this.growth = { key, layer: p.layer, layerName: p.layerName, name: `d${p.name}`, from, to: { step: o.step, norm: p.gradNorm }, factor };
    }
  }

  /** The anomalies of the run so far (call once, when it ends). */
  finish(): Anomaly[] {
    const onset = this.onset;
    const last = this.last;
    const min = this.onset?.from;
    if (!onset || !last || !min) return [];
    const stillUp = !Number.isFinite(last.loss) || (last.loss > DIVERGENCE.jumpFactor * min.loss && last.loss - min.loss > DIVERGENCE.minRise);
    const peak = this.peakLoss ?? onset;
    // A jump that came back and never went above the starting loss is ordinary noise of training.
    if (!stillUp && !(this.firstLoss !== undefined && peak.loss > this.firstLoss.loss)) return [];
    const parts: string[] = [];
    parts.push(
      `${stillUp ? "the training diverged" : "the loss spiked"}: the loss jumped from ${num(min.loss)} (step ${min.step}) to ${num(onset.loss)} at step ${onset.step}` +
        (peak.step !== onset.step ? `, up to ${num(peak.loss)} at step ${peak.step}` : "") +
        (stillUp ? (last.step !== onset.step ? `, and was ${num(last.loss)} at the last step (${last.step})` : "") : `, then came back down (${num(last.loss)} at step ${last.step})`),
    );
    const u = this.bigWeightUpdate !== undefined && this.bigWeightUpdate.ratio > DIVERGENCE.largeUpdate ? this.bigWeightUpdate : this.bigUpdate;
    if (u && u.ratio > DIVERGENCE.largeUpdate) {
      const plain = this.optimizer?.kind === "SGD" && !this.optimizer.momentum && u.lr !== undefined;
      const formula = plain ? `lr·‖dW‖/‖W‖ = ${num(u.lr as number)}·${num(u.gradNorm)}/${num(u.weightNorm)}` : `‖ΔW‖/‖W‖ = ${num(u.updateNorm ?? NaN)}/${num(u.weightNorm)}`;
      parts.push(`one update at step ${u.step} moved ${u.layerName}.${u.name} by ${pct(u.ratio)} of its size (${formula} = ${num(u.ratio)}; healthy updates are around 0.001)`);
    }
    const g = this.growth;
    if (g && g.factor >= 10) parts.push(`‖${g.layerName}.${g.name}‖ grew ${num(g.factor)}× from ${num(g.from.norm)} at step ${g.from.step} to ${num(g.to.norm)} at step ${g.to.step}`);
    const lr = u?.lr ?? this.lr;
    const kind = this.optimizer?.kind;
    parts.push(
      lr !== undefined
        ? `the likely cause is the learning rate (${num(lr)}${kind ? `, ${kind}` : ""}): try ${num(lr / 10)}`
        : "the likely cause is a learning rate that is too large: try a smaller one",
    );
    const layer = u?.layer ?? g?.layer;
    const site = this.optimizer?.site;
    return [
      {
        code: stillUp ? "diverging" : "loss-spike",
        severity: stillUp ? "warning" : "information",
        step: onset.step,
        ...(layer !== undefined ? { layer } : {}),
        ...(u ? { tensor: u.name } : {}),
        ...(site ? { site } : {}),
        message: parts.join("; "),
      },
    ];
  }
}

/** ‖ΔW‖/‖W‖ when the update was seen, else lr·‖dW‖/‖W‖; undefined when it cannot be told. */
export function updateRatio(p: ParamObservation, o: Pick<StepObservation, "learningRate">): number | undefined {
  if (!(p.weightNorm > 0) || !Number.isFinite(p.weightNorm)) return undefined;
  if (p.updateNorm !== undefined && Number.isFinite(p.updateNorm)) return p.updateNorm / p.weightNorm;
  if (o.learningRate !== undefined && Number.isFinite(p.gradNorm)) return (o.learningRate * p.gradNorm) / p.weightNorm;
  return undefined;
}

function num(v: number): string {
  return shortNumber(v, 4);
}

function pct(r: number): string {
  return r >= 10 ? `${num(r)}×` : `${num(r * 100)} %`;
}

/**
 * The recorder's observation of a step (its hook): the loss, the learning rate and, on steps whose
 * gradient norms are summarised, every top-level layer's parameters: ‖W‖ as its forward used it (the
 * snapshot in the forward record), ‖dW‖ from `gradNorms` and ‖ΔW‖ = ‖W now − W then‖ (the step's
 * update has run by the time the next step starts).
 */
export function recorderObservation(
  step: number,
  records: readonly CallRecord[],
  gradNorms: ReadonlyMap<number, Record<string, number>> | undefined,
  loss: number | undefined,
  optimizer: { kind: string; currentLearningRate: number; momentum?: number } | undefined,
  optimizerSite: SourceSite | undefined,
  nameOf: (rec: CallRecord) => string,
): StepObservation {
  const params: ParamObservation[] = [];
  if (gradNorms) {
    const seen = new Set<number>();
    for (const rec of records) {
      if (rec.phase !== "forward" || rec.parent !== undefined || seen.has(rec.layer)) continue;
      const norms = gradNorms.get(rec.layer);
      if (!norms) continue;
      seen.add(rec.layer);
      for (const p of safeParams(rec.state.layer)) {
        const then = rec.tensors[p.name];
        const g = norms[`d${p.name}`];
        if (!then || g === undefined || then.data.length !== p.value.data.length) continue;
        const delta = new Float64Array(then.data.length);
        for (let i = 0; i < delta.length; i++) delta[i] = (p.value.data[i] as number) - (then.data[i] as number);
        params.push({ layer: rec.layer, layerName: nameOf(rec), name: p.name, weightNorm: l2norm(then), gradNorm: g, updateNorm: l2norm({ shape: then.shape, data: delta }) });
      }
    }
  }
  return {
    step,
    ...(loss !== undefined ? { loss } : {}),
    ...(optimizer ? { learningRate: optimizer.currentLearningRate, optimizer: { kind: optimizer.kind, momentum: (optimizer.momentum ?? 0) > 0, ...(optimizerSite ? { site: optimizerSite } : {}) } } : {}),
    params,
  };
}
