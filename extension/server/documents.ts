/**
 * The open documents, synchronised incrementally. Changes are applied one at a time (LSP applies
 * each change of a `didChange` to the text the previous one produced), and a hook sees the text
 * before each change, so the report store can move its lines (`ReportStore.applyChange`).
 */
import { TextDocument } from "vscode-languageserver-textdocument";
import type { LineChange } from "./lineShift";
import { fileKey, uriToPath } from "./paths";

export interface OpenDocument {
  uri: string;
  /** Absolute path (file scheme only). */
  file: string;
  doc: TextDocument;
}

/** Line `line` of a document without its line break. */
export function lineOf(doc: TextDocument, line: number): string {
  if (line < 0 || line >= doc.lineCount) return "";
  const text = doc.getText({ start: { line, character: 0 }, end: { line: line + 1, character: 0 } });
  return text.replace(/\r?\n$|\r$/, "");
}

export class OpenDocuments {
  private readonly byUri = new Map<string, OpenDocument>();

  constructor(private readonly keyOf: (file: string) => string = (f) => fileKey(f)) {}

  /** Opens a document; false (and ignored) when it is not a file. */
  open(uri: string, languageId: string, version: number, text: string): boolean {
    const file = uriToPath(uri);
    if (file === undefined) return false;
    this.byUri.set(uri, { uri, file, doc: TextDocument.create(uri, languageId, version, text) });
    return true;
  }

  close(uri: string): void {
    this.byUri.delete(uri);
  }

  get(uri: string): OpenDocument | undefined {
    return this.byUri.get(uri);
  }

  /** The open document of a file path, if any. */
  byFile(file: string): OpenDocument | undefined {
    const key = this.keyOf(file);
    for (const d of this.byUri.values()) if (this.keyOf(d.file) === key) return d;
    return undefined;
  }

  /**
   * Applies a `didChange`'s content changes in order; `before(doc, change)` runs before each one
   * with the text it applies to. Returns the updated document (undefined when not open).
   */
  change(uri: string, version: number, changes: readonly LineChange[], before: (doc: OpenDocument, change: LineChange) => void): OpenDocument | undefined {
    const d = this.byUri.get(uri);
    if (!d) return undefined;
    let doc = d.doc;
    for (const change of changes) {
      before({ ...d, doc }, change);
      doc = TextDocument.update(doc, [change.range ? { range: change.range, text: change.text } : { text: change.text }], version);
    }
    const next = { ...d, doc };
    this.byUri.set(uri, next);
    return next;
  }
}
