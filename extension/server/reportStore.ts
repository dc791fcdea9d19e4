/**
 * The server's state: the last run report of each model file, and for each report the lines it
 * refers to, followed through the user's edits (`lineShift.ts`). Answers "which layers are on this
 * line" for hovers, code lenses, inlay hints and `backpropLens/layerAt`. Pure: no connection.
 */
import type { SourceSite } from "../../core/trace/traceTypes";
import { type LineChange, type TrackedLine, shiftLine } from "./lineShift";
import type { LayerReport, LayerRole, RunReport } from "./lspProtocol";
import { fileKey } from "./paths";

/** A layer that a line of a document constructs or calls, as the last run saw it. */
export interface LayerOnLine {
  report: RunReport;
  layer: LayerReport;
  /** Construction first, then forward, then backward. */
  roles: LayerRole[];
  /** 0-based line in the current text. */
  line: number;
  /** The line was edited since the run. */
  changed: boolean;
}

/** Where a site is now: its line in the current text and whether it was edited; null when deleted. */
export type SiteNow = TrackedLine | null;

const ROLE_ORDER: Record<LayerRole, number> = { construction: 0, forward: 1, backward: 2 };

/** The lines of one report, per file: original 1-based line → where it is now. */
class LineTracker {
  private readonly files = new Map<string, Map<number, SiteNow>>();

  constructor(sites: readonly SourceSite[], key: (file: string) => string) {
    for (const s of sites) {
      const k = key(s.file);
      let lines = this.files.get(k);
      if (!lines) this.files.set(k, (lines = new Map()));
      if (!lines.has(s.line)) lines.set(s.line, { line: s.line - 1, edited: false });
    }
  }

  hasFile(key: string): boolean {
    return this.files.has(key);
  }

  /** Where original line `line` (1-based) of a file is now; untracked lines are assumed unmoved. */
  now(key: string, line: number): SiteNow {
    const t = this.files.get(key)?.get(line);
    return t === undefined ? { line: line - 1, edited: false } : t;
  }

  /** Applies one change to the file's tracked lines; true when any moved or became edited. */
  apply(key: string, change: LineChange, oldLine: (line: number) => string, lineCount: number): boolean {
    const lines = this.files.get(key);
    if (!lines) return false;
    let moved = false;
    for (const [orig, t] of lines) {
      if (t === null) continue;
      const next = shiftLine(t, change, oldLine, lineCount);
      if (next === null || next.line !== t.line || next.edited !== t.edited) {
        lines.set(orig, next);
        moved = true;
      }
    }
    return moved;
  }
}

interface Entry {
  report: RunReport;
  lines: LineTracker;
}

/** Every site a report refers to: constructions, calls, anomalies, the error and its frames. */
export function reportSites(report: RunReport): SourceSite[] {
  const out: SourceSite[] = [];
  for (const l of report.layers) {
    if (l.info.site) out.push(l.info.site);
    for (const c of l.callSites) out.push(c.site);
  }
  for (const a of report.anomalies) if (a.site) out.push(a.site);
  if (report.error?.site) out.push(report.error.site);
  for (const f of report.error?.frames ?? []) out.push(f);
  return out;
}

export class ReportStore {
  private readonly entries = new Map<string, Entry>();

  constructor(readonly keyOf: (file: string) => string = (f) => fileKey(f)) {}

  /** Stores a report, replacing the previous one of the same model file. */
  set(report: RunReport): void {
    this.entries.set(this.keyOf(report.file), { report, lines: new LineTracker(reportSites(report), this.keyOf) });
  }

  clear(): void {
    this.entries.clear();
  }

  /** The reports, newest first. */
  get reports(): RunReport[] {
    return [...this.entries.values()].map((e) => e.report).sort((a, b) => b.finishedAt - a.finishedAt || b.runId - a.runId);
  }

  /** Where a site of `report` is now (null when its line was deleted). */
  now(report: RunReport, site: SourceSite): SiteNow {
    const entry = this.entries.get(this.keyOf(report.file));
    if (!entry || entry.report !== report) return { line: site.line - 1, edited: false };
    return entry.lines.now(this.keyOf(site.file), site.line);
  }

  /** True when some report refers to the file. */
  tracks(file: string): boolean {
    const key = this.keyOf(file);
    for (const e of this.entries.values()) if (e.lines.hasFile(key)) return true;
    return false;
  }

  /**
   * Applies one incremental change of the document `file` to every report's lines in it.
   * `oldLine(n)` gives line n of the text before this change. True when any line moved or was edited.
   */
  applyChange(file: string, change: LineChange, oldLine: (line: number) => string, lineCount: number): boolean {
    const key = this.keyOf(file);
    let moved = false;
    for (const e of this.entries.values()) if (e.lines.apply(key, change, oldLine, lineCount)) moved = true;
    return moved;
  }

  /** Every layer construction and call in `file`, one item per (report, layer, line), newest report first. */
  layersInFile(file: string): LayerOnLine[] {
    const key = this.keyOf(file);
    const out: LayerOnLine[] = [];
    for (const report of this.reports) {
      for (const layer of report.layers) {
        const byLine = new Map<number, LayerOnLine>();
        const add = (site: SourceSite | undefined, role: LayerRole): void => {
          if (!site || this.keyOf(site.file) !== key) return;
          const now = this.now(report, site);
          if (now === null) return;
          const item = byLine.get(now.line);
          if (!item) {
            byLine.set(now.line, { report, layer, roles: [role], line: now.line, changed: now.edited });
          } else {
            if (!item.roles.includes(role)) item.roles.push(role);
            item.changed ||= now.edited;
          }
        };
        add(layer.info.site, "construction");
        for (const c of layer.callSites) add(c.site, c.phase);
        for (const item of byLine.values()) {
          item.roles.sort((x, y) => ROLE_ORDER[x] - ROLE_ORDER[y]);
          out.push(item);
        }
      }
    }
    return out;
  }

  /** The layers that line `line` (0-based) of `file` constructs or calls: constructions first, newest report first. */
  layersOnLine(file: string, line: number): LayerOnLine[] {
    const items = this.layersInFile(file).filter((x) => x.line === line);
    // stable sort: keeps newest-report-first and construction order within each group
    return items.sort((x, y) => ROLE_ORDER[x.roles[0] as LayerRole] - ROLE_ORDER[y.roles[0] as LayerRole]);
  }
}
