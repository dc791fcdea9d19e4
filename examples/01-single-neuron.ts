// Chapter 9, the single neuron: x · w + b through ReLU, then the chain rule back to every input,
// weight and bias, one atomic operation at a time, and one SGD step.
import { max, mul, sum, value } from "backprop-lens";

// Forward pass
const x0 = value(1.0, "x0"), x1 = value(-2.0, "x1"), x2 = value(3.0, "x2"); // input values
const w0 = value(-3.0, "w0"), w1 = value(-1.0, "w1"), w2 = value(2.0, "w2"); // weights
const b = value(1.0, "b"); // bias

// Multiplying inputs by weights
const xw0 = mul(x0, w0);
const xw1 = mul(x1, w1);
const xw2 = mul(x2, w2);
console.log(xw0.data, xw1.data, xw2.data, b.data);

// Adding weighted inputs and a bias
const z = sum([xw0, xw1, xw2, b], "z");
// ReLU activation function
const y = max(z, 0, "y");
console.log(y.data); // 6

// Backward pass: the derivative from the next layer is 1
const steps = y.backward(1.0);
for (const s of steps) console.log(`${s.name} = ${s.upstream.name} · ${s.local.name} = ${s.value}`);

const dx = [x0.grad, x1.grad, x2.grad]; // [-3, -1, 2]
const dw = [w0.grad, w1.grad, w2.grad]; // [1, -2, 3]
const db = b.grad; // 1
console.log(dw, db);

// One step of gradient descent on the weights and the bias, then the forward pass again
const learningRate = 0.001;
const w = [w0, w1, w2].map((wi) => wi.data - learningRate * wi.grad);
const bNew = b.data - learningRate * db;
console.log(w, bNew); // [-3.001, -0.998, 1.997] 0.999

const x = [x0, x1, x2].map((xi) => xi.data);
const z2 = sum(x.map((xi, i) => mul(value(xi, `x${i}`), value(w[i]!, `w${i}`))).concat([value(bNew, "b")]), "z");
const y2 = max(z2, 0, "y");
console.log(y2.data); // 5.985: the output went down, as minimising it asked
void dx;
