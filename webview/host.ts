/**
 * The inspector's only door to VS Code: `acquireVsCodeApi()` is called once (in main.ts) and wrapped
 * in a `Host`, so the UI also runs in the dev page and in tests with a fake host.
 */
import { isEnvelope, type Envelope } from "../core/protocol";
import { parseViewState, type ViewState } from "./viewState";

export interface Host {
  post(e: Envelope, transfer?: Transferable[]): void;
  /** Subscribes to well-formed envelopes from the host; returns the unsubscribe function. */
  onMessage(cb: (e: Envelope) => void): () => void;
  /** The persisted view state, or undefined when there is none or its version differs. */
  loadViewState(): ViewState | undefined;
  saveViewState(s: ViewState): void;
}

/** What `acquireVsCodeApi()` returns (the part we use). */
export interface VsCodeApi {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  getState(): unknown;
  setState(state: unknown): void;
}

/** Where host messages arrive (`window` in a webview). */
export interface MessageTarget {
  addEventListener(type: "message", listener: (ev: MessageEvent) => void): void;
  removeEventListener(type: "message", listener: (ev: MessageEvent) => void): void;
}

/** The Host of a real webview (or of the dev page's shim, which provides the same `acquireVsCodeApi`). */
export function createVsCodeHost(api: VsCodeApi, target: MessageTarget): Host {
  return {
    post(e, transfer) {
      if (transfer && transfer.length > 0) api.postMessage(e, transfer);
      else api.postMessage(e);
    },
    onMessage(cb) {
      // Everything that crosses the boundary is unknown until the guard accepts it.
      const listener = (ev: MessageEvent): void => {
        if (isEnvelope(ev.data)) cb(ev.data);
      };
      target.addEventListener("message", listener);
      return () => target.removeEventListener("message", listener);
    },
    loadViewState() {
      return parseViewState(api.getState());
    },
    saveViewState(s) {
      api.setState(s);
    },
  };
}
