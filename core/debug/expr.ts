/**
 * The debugger's expression language: breakpoint conditions (`step == 500`, `dweights.norm > 10 && loss > 2`),
 * the Debug Console, Watch and hovers (`dense1.dweights[1][0]`, `activation1.output.zeros`).
 *
 * ```
 * expr    := or
 * or      := and ("||" and)*
 * and     := not ("&&" not)*
 * not     := "!" not | compare
 * compare := sum (("==" | "!=" | "<" | "<=" | ">" | ">=") sum)?
 * sum     := product (("+" | "-") product)*
 * product := unary (("*" | "/" | "%") unary)*
 * unary   := "-" unary | postfix
 * postfix := primary ("." name | "[" expr "]")*
 * primary := number | name | "(" expr ")"
 * ```
 *
 * The host parses (one parser, here) and sends the AST, plain JSON, to whoever evaluates it: the
 * model's worker (`evaluate.ts`) or the Python tracer. `true`, `false`, `NaN` and `Infinity` are names
 * the evaluator knows, so the AST never holds a non-finite number (JSON has none).
 */

export type BinaryOp = "||" | "&&" | "==" | "!=" | "<" | "<=" | ">" | ">=" | "+" | "-" | "*" | "/" | "%";

/** A parsed expression; `at` is the 0-based offset of the node in the source text (for messages). */
export type Expr =
  | { k: "num"; v: number; at: number }
  | { k: "name"; name: string; at: number }
  | { k: "member"; obj: Expr; name: string; at: number }
  | { k: "index"; obj: Expr; index: Expr; at: number }
  | { k: "unary"; op: "-" | "!"; arg: Expr; at: number }
  | { k: "binary"; op: BinaryOp; left: Expr; right: Expr; at: number };

/** A parse failure: where (0-based offset and 1-based column) and what was expected there. */
export class ExprSyntaxError extends Error {
  override name = "ExprSyntaxError";
  constructor(
    /** The whole sentence, e.g. `expected a number or a name after '>' at column 7`. */
    message: string,
    readonly offset: number,
    readonly expected: string,
  ) {
    super(message);
  }
  get column(): number {
    return this.offset + 1;
  }
}

type Token = { t: "num"; v: number; at: number; text: string } | { t: "name"; v: string; at: number; text: string } | { t: "op"; v: string; at: number; text: string } | { t: "end"; v: ""; at: number; text: string };

const OPERATORS = ["||", "&&", "==", "!=", "<=", ">=", "===", "!==", "<", ">", "+", "-", "*", "/", "%", "!", "(", ")", "[", "]", "."];

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const num = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(src.slice(i));
    if (num && !(c === "." && out.length > 0 && isPostfixEnd(out[out.length - 1] as Token))) {
      out.push({ t: "num", v: Number(num[0]), at: i, text: num[0] });
      i += num[0].length;
      continue;
    }
    const name = /^[A-Za-z_$][\w$]*/.exec(src.slice(i));
    if (name) {
      out.push({ t: "name", v: name[0], at: i, text: name[0] });
      i += name[0].length;
      continue;
    }
    const op = OPERATORS.filter((o) => src.startsWith(o, i)).sort((a, b) => b.length - a.length)[0];
    if (op !== undefined) {
      // JavaScript's strict operators mean the same here (there are no types to coerce).
      const v = op === "===" ? "==" : op === "!==" ? "!=" : op;
      out.push({ t: "op", v, at: i, text: op });
      i += op.length;
      continue;
    }
    if (c === "=") throw new ExprSyntaxError(`'=' at column ${i + 1} assigns; compare with '=='`, i, "'=='");
    if (c === "&" || c === "|") throw new ExprSyntaxError(`'${c}' at column ${i + 1}: write '${c}${c}' for ${c === "&" ? "and" : "or"}`, i, `'${c}${c}'`);
    throw new ExprSyntaxError(`unexpected '${c}' at column ${i + 1}`, i, "a number, a name or an operator");
  }
  out.push({ t: "end", v: "", at: src.length, text: "" });
  return out;
}

/** True when a token ends an operand (so a following `.5` is member access, not a number). */
function isPostfixEnd(t: Token): boolean {
  return t.t === "name" || t.t === "num" || (t.t === "op" && (t.v === ")" || t.v === "]"));
}

const COMPARE = new Set(["==", "!=", "<", "<=", ">", ">="]);

/** Parses an expression; throws `ExprSyntaxError` naming the column and what was expected. */
export function parseExpr(src: string): Expr {
  const tokens = tokenize(src);
  let p = 0;
  const peek = (): Token => tokens[p] as Token;
  const next = (): Token => tokens[p++] as Token;
  const isOp = (v: string): boolean => {
    const t = peek();
    return t.t === "op" && t.v === v;
  };
  const describe = (t: Token): string => (t.t === "end" ? "the end" : `'${t.text}' at column ${t.at + 1}`);
  const fail = (expected: string, after?: Token): never => {
    const t = peek();
    const where = t.t === "end" ? (after ? `after '${after.text}' at the end` : "at the end") : `at column ${t.at + 1} (found '${t.text}')`;
    throw new ExprSyntaxError(`expected ${expected} ${where}`, t.at, expected);
  };

  const binaryLevel = (ops: readonly string[], sub: () => Expr): (() => Expr) => {
    return () => {
      let left = sub();
      while (peek().t === "op" && ops.includes(peek().v as string)) {
        const op = next();
        const right = operand(sub, op);
        left = { k: "binary", op: op.v as BinaryOp, left, right, at: op.at };
      }
      return left;
    };
  };
  const operand = (sub: () => Expr, op: Token): Expr => {
    const t = peek();
    if (t.t === "end" || (t.t === "op" && (t.v === ")" || t.v === "]" || COMPARE.has(t.v) || t.v === "&&" || t.v === "||" || t.v === "*" || t.v === "/" || t.v === "%"))) {
      fail("a number or a name", op);
    }
    return sub();
  };

  const primary = (): Expr => {
    const t = peek();
    if (t.t === "num") {
      next();
      return { k: "num", v: t.v, at: t.at };
    }
    if (t.t === "name") {
      next();
      return { k: "name", name: t.v, at: t.at };
    }
    if (t.t === "op" && t.v === "(") {
      next();
      const e = expr();
      if (!isOp(")")) fail(`')' to close the '(' at column ${t.at + 1}`);
      next();
      return e;
    }
    return fail("a number, a name or '('");
  };
  const postfix = (): Expr => {
    let e = primary();
    for (;;) {
      if (isOp(".")) {
        const dot = next();
        const n = peek();
        if (n.t !== "name") fail("a property name", dot);
        next();
        e = { k: "member", obj: e, name: n.v as string, at: n.at };
      } else if (isOp("[")) {
        const open = next();
        if (isOp("]")) fail("an index inside '[]'", open);
        const index = expr();
        if (!isOp("]")) fail(`']' to close the '[' at column ${open.at + 1}`);
        next();
        e = { k: "index", obj: e, index, at: open.at };
      } else {
        return e;
      }
    }
  };
  const unary = (): Expr => {
    if (isOp("-")) {
      const op = next();
      return { k: "unary", op: "-", arg: operand(unary, op), at: op.at };
    }
    if (isOp("+")) {
      const op = next();
      return operand(unary, op);
    }
    return postfix();
  };
  const product = binaryLevel(["*", "/", "%"], unary);
  const sum = binaryLevel(["+", "-"], product);
  const compare = (): Expr => {
    const left = sum();
    if (peek().t === "op" && COMPARE.has(peek().v as string)) {
      const op = next();
      const right = operand(sum, op);
      if (peek().t === "op" && COMPARE.has(peek().v as string)) {
        const again = peek();
        throw new ExprSyntaxError(`comparisons do not chain: ${describe(again)} follows '${op.text}'; join two comparisons with '&&'`, again.at, "'&&' or '||'");
      }
      return { k: "binary", op: op.v as BinaryOp, left, right, at: op.at };
    }
    return left;
  };
  const not = (): Expr => {
    if (isOp("!")) {
      const op = next();
      return { k: "unary", op: "!", arg: operand(not, op), at: op.at };
    }
    return compare();
  };
  const and = binaryLevel(["&&"], not);
  const or = binaryLevel(["||"], and);
  const expr = or;

  if (peek().t === "end") throw new ExprSyntaxError("the expression is empty", 0, "an expression");
  const e = expr();
  const rest = peek();
  if (rest.t !== "end") {
    const prev = tokens[p - 1] as Token;
    const hint = rest.t === "name" || rest.t === "num" ? `an operator between '${prev.text}' and '${rest.text}'` : "an operator or the end";
    throw new ExprSyntaxError(`expected ${hint} at column ${rest.at + 1} (found '${rest.text}')`, rest.at, hint);
  }
  return e;
}

/** The source form of an AST (for messages and labels). */
export function showExpr(e: Expr): string {
  switch (e.k) {
    case "num":
      return String(e.v);
    case "name":
      return e.name;
    case "member":
      return `${showExpr(e.obj)}.${e.name}`;
    case "index":
      return `${showExpr(e.obj)}[${showExpr(e.index)}]`;
    case "unary":
      return `${e.op}${wrap(e.arg)}`;
    case "binary":
      return `${wrap(e.left)} ${e.op} ${wrap(e.right)}`;
  }
}

function wrap(e: Expr): string {
  return e.k === "binary" ? `(${showExpr(e)})` : showExpr(e);
}

/** The names an expression reads at its top level (`dense1` in `dense1.dweights.norm`), in order. */
export function namesOf(e: Expr): string[] {
  const out: string[] = [];
  const walk = (x: Expr): void => {
    switch (x.k) {
      case "name":
        if (!out.includes(x.name)) out.push(x.name);
        break;
      case "member":
        walk(x.obj);
        break;
      case "index":
        walk(x.obj);
        walk(x.index);
        break;
      case "unary":
        walk(x.arg);
        break;
      case "binary":
        walk(x.left);
        walk(x.right);
        break;
      case "num":
        break;
    }
  };
  walk(e);
  return out;
}

/** Accepts a well-formed AST that came over a wire (the worker trusts nothing it did not parse). */
export function isExpr(x: unknown, depth = 0): x is Expr {
  if (depth > 200 || typeof x !== "object" || x === null) return false;
  const o = x as Record<string, unknown>;
  if (typeof o.at !== "number") return false;
  switch (o.k) {
    case "num":
      return typeof o.v === "number";
    case "name":
      return typeof o.name === "string";
    case "member":
      return typeof o.name === "string" && isExpr(o.obj, depth + 1);
    case "index":
      return isExpr(o.obj, depth + 1) && isExpr(o.index, depth + 1);
    case "unary":
      return (o.op === "-" || o.op === "!") && isExpr(o.arg, depth + 1);
    case "binary":
      return typeof o.op === "string" && ["||", "&&", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%"].includes(o.op) && isExpr(o.left, depth + 1) && isExpr(o.right, depth + 1);
    default:
      return false;
  }
}
