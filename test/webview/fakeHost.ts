/** A Host for tests: records what the webview posts, lets the test deliver host messages, keeps view state in memory. */
import type { Envelope } from "../../core/protocol";
import type { Host } from "../../webview/host";
import { parseViewState, type ViewState } from "../../webview/viewState";

export class FakeHost implements Host {
  readonly posted: Envelope[] = [];
  stored: unknown;
  private readonly listeners = new Set<(e: Envelope) => void>();

  post(e: Envelope): void {
    this.posted.push(e);
  }

  onMessage(cb: (e: Envelope) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  deliver(e: Envelope): void {
    for (const l of this.listeners) l(e);
  }

  loadViewState(): ViewState | undefined {
    return parseViewState(this.stored);
  }

  saveViewState(s: ViewState): void {
    this.stored = JSON.parse(JSON.stringify(s));
  }

  /** The `trace/tensor` requests posted so far. */
  requests(): { id: number; params: { runId: number; seq: number; name: string } }[] {
    return this.posted.flatMap((e) => (e.kind === "request" ? [{ id: e.id, params: e.params as { runId: number; seq: number; name: string } }] : []));
  }
}

/** Timers under the test's control. */
export class FakeTimers {
  now = 0;
  private next = 1;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();
  set = (fn: () => void, ms: number): unknown => {
    const id = this.next++;
    this.timers.set(id, { at: this.now + ms, fn });
    return id;
  };
  clear = (h: unknown): void => void this.timers.delete(h as number);
  advance(ms: number): void {
    this.now += ms;
    for (const [id, t] of [...this.timers].sort((a, b) => a[1].at - b[1].at)) {
      if (t.at > this.now) continue;
      this.timers.delete(id);
      t.fn();
    }
  }
  get count(): number {
    return this.timers.size;
  }
}
