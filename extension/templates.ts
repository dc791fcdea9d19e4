/** The model templates of "New Model File": the examples, shipped in dist/templates. */
export interface Template {
  id: string;
  label: string;
  description: string;
  /** File in dist/templates (a copy of examples/). */
  file: string;
  /** The name a new file gets by default. */
  defaultName: string;
}

export const TEMPLATES: readonly Template[] = [
  { id: "single-neuron", label: "Single neuron", description: "x·w + b through ReLU with scalar values: the chain rule one operation at a time, and one SGD step", file: "01-single-neuron.ts", defaultName: "single-neuron.ts" },
  { id: "layer-batch", label: "Layer over a batch", description: "Dense(4, 3) on 3 samples: dinputs = dvalues·Wᵀ, dweights = Xᵀ·dvalues, dbiases = Σ dvalues", file: "02-layer-batch.ts", defaultName: "layer-batch.ts" },
  { id: "softmax-cce", label: "Softmax + cross-entropy", description: "The softmax Jacobian and why the combined gradient is (ŷ − y)/n", file: "03-softmax-jacobian.ts", defaultName: "softmax-cross-entropy.ts" },
  { id: "spiral-model", label: "Spiral model", description: "The chapter's full model: Dense(2, 3) → ReLU → Dense(3, 3) → softmax + cross-entropy, one pass", file: "04-spiral-model.ts", defaultName: "spiral-model.ts" },
  { id: "training-loop", label: "Training loop", description: "Dense(2, 64) → ReLU → Dense(64, 3) trained with Adam for 10,000 epochs", file: "05-spiral-training.ts", defaultName: "training-loop.ts" },
  { id: "custom-layer", label: "Custom layer", description: "Your own layer class with forward and backward, traced and gradient-checked like the built-in ones", file: "06-custom-layer.ts", defaultName: "custom-layer.ts" },
];
