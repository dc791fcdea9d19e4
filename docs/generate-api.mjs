#!/usr/bin/env node
// Writes docs/api.md from the doc comments of the engine's public surface (core/index.ts), with the
// TypeScript compiler API: every export, its signature, its comment, and for classes their public
// members. `node docs/generate-api.mjs --check` fails when docs/api.md is out of date (a unit test runs it).
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const entry = path.join(repo, "core", "index.ts");
const target = path.join(repo, "docs", "api.md");

const program = ts.createProgram([entry], { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, strict: true, lib: ["lib.es2022.d.ts"], types: [], noEmit: true });
const checker = program.getTypeChecker();
const source = program.getSourceFile(entry);
const moduleSymbol = checker.getSymbolAtLocation(source);

/** Plain text of a symbol's doc comment (with @tags as "tag: text"). */
function doc(symbol) {
  const text = ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim();
  const tags = symbol.getJsDocTags(checker).map((t) => `*${t.name}*: ${ts.displayPartsToString(t.text ?? [])}`);
  return [text, ...tags].filter(Boolean).join("\n\n");
}

/** A declaration's first line of source, without its body (what a reader needs to call it). */
function signature(decl) {
  if (ts.isFunctionDeclaration(decl) || ts.isMethodDeclaration(decl) || ts.isConstructorDeclaration(decl)) {
    const sig = checker.signatureToString(checker.getSignatureFromDeclaration(decl), undefined, ts.TypeFormatFlags.NoTruncation | ts.TypeFormatFlags.WriteArrowStyleSignature);
    const name = ts.isConstructorDeclaration(decl) ? "constructor" : decl.name.getText();
    const head = ts.isFunctionDeclaration(decl) ? `export function ${name}` : name;
    return `${head}${sig.replace(/ => /, ": ")};`;
  }
  const printer = ts.createPrinter({ removeComments: true });
  const file = decl.getSourceFile();
  let node = decl;
  if (ts.isVariableDeclaration(decl)) node = decl.parent.parent;
  let text = printer.printNode(ts.EmitHint.Unspecified, node, file);
  if (ts.isFunctionDeclaration(decl) || ts.isMethodDeclaration(decl) || ts.isConstructorDeclaration(decl)) text = text.replace(/\s*\{[\s\S]*$/, ";");
  if (ts.isClassDeclaration(decl)) text = text.replace(/\s*\{[\s\S]*$/, "");
  return text.replace(/\n\s*/g, " ").replace(/\s+/g, " ").trim();
}

function kindOf(decl) {
  if (ts.isClassDeclaration(decl)) return "class";
  if (ts.isFunctionDeclaration(decl)) return "function";
  if (ts.isInterfaceDeclaration(decl)) return "interface";
  if (ts.isTypeAliasDeclaration(decl)) return "type";
  if (ts.isVariableDeclaration(decl)) return "const";
  return "export";
}

/** Public members of a class, in source order, with their comments. */
function members(decl) {
  const out = [];
  for (const m of decl.members) {
    const mods = ts.getCombinedModifierFlags(m);
    if (mods & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) continue;
    if (m.name && ts.isPrivateIdentifier(m.name)) continue;
    const sym = m.name ? checker.getSymbolAtLocation(m.name) : undefined;
    if (ts.isConstructorDeclaration(m)) {
      const s = checker.getSymbolAtLocation(decl.name);
      out.push({ sig: signature(m).replace(/^constructor/, `new ${decl.name.text}`), doc: "" , s });
      for (const p of m.parameters) {
        if (ts.getCombinedModifierFlags(p) & ts.ModifierFlags.Readonly || ts.getCombinedModifierFlags(p) & ts.ModifierFlags.Public) {
          const ps = checker.getSymbolAtLocation(p.name);
          out.push({ sig: `${p.name.getText()}: ${p.type ? p.type.getText() : "unknown"}`, doc: ps ? doc(ps) : "" });
        }
      }
      continue;
    }
    if (!sym) continue;
    let sig;
    if (ts.isMethodDeclaration(m)) sig = signature(m).replace(/^(override\s+|abstract\s+)+/, "");
    else if (ts.isPropertyDeclaration(m)) sig = `${m.name.getText()}${m.questionToken ? "?" : ""}: ${m.type ? m.type.getText() : checker.typeToString(checker.getTypeOfSymbolAtLocation(sym, m))}`;
    else if (ts.isGetAccessorDeclaration(m)) sig = `get ${m.name.getText()}(): ${m.type ? m.type.getText() : "unknown"}`;
    else continue;
    out.push({ sig, doc: doc(sym) });
  }
  return out;
}

const sections = [];
for (const exp of checker.getExportsOfModule(moduleSymbol)) {
  const symbol = exp.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exp) : exp;
  const decl = symbol.declarations?.[0];
  if (!decl) continue;
  const file = path.relative(repo, decl.getSourceFile().fileName);
  const kind = kindOf(decl);
  let body = `### \`${exp.name}\` (${kind})\n\n\`\`\`ts\n${signature(decl)}\n\`\`\`\n\n${doc(symbol) || "_No description._"}\n\nDefined in [${file}](../${file}).\n`;
  if (ts.isClassDeclaration(decl)) {
    const ms = members(decl).filter((m) => m.sig);
    if (ms.length) body += `\n${ms.map((m) => `- \`${m.sig}\`${m.doc ? ` — ${m.doc.replace(/\n+/g, " ")}` : ""}`).join("\n")}\n`;
  }
  sections.push({ file, name: exp.name, body });
}

const groups = new Map();
for (const s of sections) {
  const g = s.file.replace(/^core\//, "").replace(/\.ts$/, "");
  if (!groups.has(g)) groups.set(g, []);
  groups.get(g).push(s);
}
let md = `# Engine API

The public surface of \`"backprop-lens"\` (\`core/index.ts\`), generated from the doc comments by
\`node docs/generate-api.mjs\`; do not edit by hand. Shapes are written \`[rows, cols]\`; every tensor is
float64. The guide to writing a model file is [writing-models.md](writing-models.md).

`;
md += [...groups.keys()].map((g) => `- [${g}](#${g.replace(/[^a-z0-9]+/gi, "-").toLowerCase()}): ${groups.get(g).map((s) => `\`${s.name}\``).join(", ")}`).join("\n") + "\n";
for (const [g, list] of groups) md += `\n## ${g}\n\n${list.map((s) => s.body).join("\n")}`;

if (process.argv.includes("--check")) {
  const current = fs.existsSync(target) ? fs.readFileSync(target, "utf8") : "";
  if (current !== md) {
    console.error("docs/api.md is out of date: run `node docs/generate-api.mjs`");
    process.exit(1);
  }
  console.log("docs/api.md is up to date");
} else {
  fs.writeFileSync(target, md);
  console.log(`wrote ${path.relative(repo, target)} (${sections.length} exports)`);
}
