import * as assert from "node:assert/strict";
import { ExprSyntaxError, type Expr, isExpr, namesOf, parseExpr, showExpr } from "../../core/debug/expr";
import { ExprEvalError, type DebugValue, evaluate, evaluateCondition, formatValue, objectValue, recordEnv, shortNumber, tensorProperty } from "../../core/debug/evaluate";

function syntaxError(src: string): ExprSyntaxError {
  try {
    parseExpr(src);
  } catch (e) {
    if (e instanceof ExprSyntaxError) return e;
    throw e;
  }
  throw new Error(`'${src}' parsed`);
}

/** dense1.dweights as in examples/02-layer-batch.ts: inputsᵀ · dvalues, [4, 3]. */
const dweights = { shape: [4, 3], data: Float64Array.from([14, 14, 14, 20.1, 20.1, 20.1, 10.9, 10.9, 10.9, 4.1, 4.1, 4.1]) };
const dinputs = { shape: [3, 4], data: Float64Array.from([0.44, -0.38, -0.07, 1.37, 0.88, -0.76, -0.14, 2.74, 1.32, -1.14, -0.21, 4.11]) };
const output = { shape: [3, 2], data: Float64Array.from([0, 1, 0, 2, 0, 0]) };
const env = recordEnv({
  step: 500,
  loss: 2.5,
  dweights,
  dense1: objectValue("dense1 = Dense(4, 3)", { dweights, dinputs, output }),
  bad: { shape: [2], data: Float64Array.from([NaN, Infinity]) },
});
const ev = (src: string): DebugValue => evaluate(parseExpr(src), env);

describe("debug expressions: parser", () => {
  it("parses comparisons, && and || with the usual precedence into a JSON AST", () => {
    const e = parseExpr("step == 500 && dweights.norm > 10 || !(loss < 2)");
    assert.equal(showExpr(e), "((step == 500) && (dweights.norm > 10)) || !(loss < 2)");
    // JSON round trip keeps it (the worker and the Python tracer get it as JSON)
    const back = JSON.parse(JSON.stringify(e)) as unknown;
    assert.ok(isExpr(back));
    assert.deepEqual(back, e);
  });

  it("parses element access and properties", () => {
    const e = parseExpr("dense1.dweights[1][0]");
    assert.equal(e.k, "index");
    assert.equal(showExpr(e), "dense1.dweights[1][0]");
    assert.deepEqual(namesOf(parseExpr("dense1.output.zeros + dense2.output.zeros > step")), ["dense1", "dense2", "step"]);
  });

  it("arithmetic binds tighter than comparison; unary minus", () => {
    assert.equal(showExpr(parseExpr("-a * 2 + 1 >= b % 3")), "((-a * 2) + 1) >= (b % 3)");
    assert.equal(evaluate(parseExpr("1 + 2 * 3 == 7"), recordEnv({})), true);
    assert.equal(evaluate(parseExpr("-2 * -3"), recordEnv({})), 6);
    assert.equal(evaluate(parseExpr("1e-3 < .01"), recordEnv({})), true);
  });

  it("=== and !== mean == and !=", () => {
    assert.equal(showExpr(parseExpr("step === 3")), "step == 3");
    assert.equal(showExpr(parseExpr("step !== 3")), "step != 3");
  });

  it("says where and what was expected", () => {
    let e = syntaxError("loss >");
    assert.equal(e.message, "expected a number or a name after '>' at the end");
    assert.equal(e.offset, 6);
    e = syntaxError("dweights.norm > > 10");
    assert.equal(e.message, "expected a number or a name at column 17 (found '>')");
    assert.equal(e.column, 17);
    assert.equal(e.expected, "a number or a name");
    e = syntaxError("step = 500");
    assert.match(e.message, /'=' at column 6 assigns; compare with '=='/);
    e = syntaxError("step == 1 & loss > 2");
    assert.match(e.message, /'&' at column 11: write '&&' for and/);
    e = syntaxError("(loss > 2");
    assert.equal(e.message, "expected ')' to close the '(' at column 1 at the end");
    e = syntaxError("dense1.dweights[1");
    assert.match(e.message, /expected '\]' to close the '\[' at column 16/);
    e = syntaxError("dense1.");
    assert.equal(e.message, "expected a property name after '.' at the end");
    e = syntaxError("loss 2");
    assert.equal(e.message, "expected an operator between 'loss' and '2' at column 6 (found '2')");
    e = syntaxError("1 < step < 5");
    assert.match(e.message, /comparisons do not chain.*'&&'/);
    e = syntaxError("   ");
    assert.equal(e.message, "the expression is empty");
    e = syntaxError("loss > 2 #");
    assert.equal(e.message, "unexpected '#' at column 10");
  });

  it("rejects malformed ASTs from a wire", () => {
    assert.equal(isExpr({ k: "num", v: 1, at: 0 }), true);
    assert.equal(isExpr({ k: "num", v: "1", at: 0 }), false);
    assert.equal(isExpr({ k: "binary", op: "**", left: { k: "num", v: 1, at: 0 }, right: { k: "num", v: 1, at: 0 }, at: 0 }), false);
    assert.equal(isExpr({ k: "call", at: 0 }), false);
  });
});

describe("debug expressions: evaluator", () => {
  it("reads names, members, rows and elements", () => {
    assert.equal(ev("step"), 500);
    assert.equal(ev("dense1.dweights[1][0]"), 20.1);
    assert.equal(ev("dense1.dinputs[0][3]"), 1.37);
    assert.equal(ev("dense1.dinputs[-1][0]"), 1.32);
    assert.deepEqual(Array.from((ev("dense1.dinputs[0]") as { data: ArrayLike<number> }).data), [0.44, -0.38, -0.07, 1.37]);
    assert.deepEqual(ev("dweights.shape"), [4, 3]);
    assert.equal(ev("dweights.shape[0]"), 4);
  });

  it("computes tensor properties", () => {
    const norm = Math.sqrt(3 * (14 ** 2 + 20.1 ** 2 + 10.9 ** 2 + 4.1 ** 2));
    assert.ok(Math.abs((ev("dweights.norm") as number) - norm) < 1e-12);
    assert.equal(ev("dweights.max"), 20.1);
    assert.equal(ev("dweights.min"), 4.1);
    assert.ok(Math.abs((ev("dweights.mean") as number) - (14 + 20.1 + 10.9 + 4.1) / 4) < 1e-12);
    assert.equal(ev("dense1.output.zeros"), 4);
    assert.equal(ev("bad.nonFinite"), 2);
    assert.ok(Number.isNaN(ev("bad.max") as number));
    assert.equal(ev("dweights.size"), 12);
    assert.equal(ev("dweights.rows"), 4);
    assert.equal(ev("dweights.cols"), 3);
    assert.equal(tensorProperty({ shape: [2], data: [-3, 2] }, "maxAbs"), 3);
    assert.ok(Math.abs((tensorProperty({ shape: [2], data: [1, 3] }, "std") as number) - 1) < 1e-12);
  });

  it("evaluates conditions", () => {
    const c = (s: string): boolean => evaluateCondition(parseExpr(s), env);
    assert.equal(c("step == 500"), true);
    assert.equal(c("step == 501"), false);
    assert.equal(c("dweights.norm > 10"), true);
    assert.equal(c("loss > 2 && step % 100 == 0"), true);
    assert.equal(c("loss > 3 || !(step < 100)"), true);
    assert.equal(c("bad.nonFinite > 0"), true);
    assert.equal(c("bad[0] != bad[0]"), true); // NaN ≠ NaN
    assert.equal(c("bad[1] == Infinity"), true);
    assert.equal(c("true && !false"), true);
    assert.equal(c("step"), true); // a non-zero number is true
  });

  it("explains what cannot be evaluated", () => {
    const msg = (s: string): string => {
      try {
        ev(s);
      } catch (e) {
        if (e instanceof ExprEvalError) return e.message;
        throw e;
      }
      return "no error";
    };
    assert.equal(msg("dens1.output"), "'dens1' is not known here (did you mean 'dense1'?)");
    // Two letters swapped count as one edit (core/suggest.ts's editDistance, shared with the file's own hints).
    assert.equal(msg("dnese1.output"), "'dnese1' is not known here (did you mean 'dense1'?)");
    assert.match(msg("zzz > 1"), /'zzz' is not known here; known here: step, loss, dweights, dense1, bad/);
    assert.match(msg("dweights > 10"), /'>' needs a number, and this is a tensor \[4, 3\]: use one of its numbers \(t\[0\]\[0\]\) or a property \(\.norm/);
    assert.match(msg("dense1.dbiases"), /'dense1' has no 'dbiases' here; it has dweights, dinputs, output/);
    assert.match(msg("dweights.frobenius"), /a tensor has no property 'frobenius'; it has norm, max/);
    assert.equal(msg("dweights[4]"), "index 4 is out of range for rows 0..3 of a tensor [4, 3]");
    assert.equal(msg("dweights[0.5]"), "an index must be a whole number, not the number 0.5");
    assert.match(msg("dweights && true"), /a tensor \[4, 3\] is not true or false/);
    assert.equal(msg("step.norm"), "the number 500 has no properties (asked for 'norm')");
  });

  it("formats values for the debugger's views", () => {
    assert.equal(formatValue({ shape: [300, 64], data: new Float64Array(300 * 64).fill(1e-6) }), `[300, 64] ‖·‖ ${shortNumber(Math.sqrt(300 * 64) * 1e-6)}`);
    assert.equal(shortNumber(Math.sqrt(300 * 64) * 1e-6), "1.4e-4");
    assert.equal(formatValue(ev("dense1.dinputs[0]")), "[0.44, -0.38, -0.07, 1.37]");
    assert.equal(formatValue(ev("bad")), "[NaN, Infinity]");
    assert.equal(formatValue({ shape: [3, 2], data: [1, NaN, 0, 0, 0, 0] }), "[3, 2] ‖·‖ NaN ⚠ 1 non-finite");
    assert.equal(shortNumber(2.5), "2.5");
    assert.equal(shortNumber(1234567.5), "1.2e6");
    assert.equal(shortNumber(-0.00012), "-1.2e-4");
    assert.equal(formatValue(true), "true");
  });

  it("a parsed AST evaluates the same after a JSON round trip", () => {
    const e = JSON.parse(JSON.stringify(parseExpr("dense1.dweights[1][0] * 2 - loss"))) as Expr;
    assert.equal(evaluate(e, env), 20.1 * 2 - 2.5);
  });
});
