/**
 * A DOM for webview tests in Node (jsdom): installs `window`, `document` and the few browser globals the
 * inspector uses, a 2D canvas context that accepts every call (jsdom has none), and animation frames
 * that run when the test says (`flush`). Modules that touch the DOM when loaded (uPlot) must be
 * `require`d after `installDom()`.
 */
import { JSDOM } from "jsdom";

export interface TestDom {
  window: Window & typeof globalThis;
  document: Document;
  /** Runs the queued animation frames (and the frames they queue), `rounds` times at most. */
  flush(rounds?: number): void;
  /** Waits for pending promises (tensor replies), then flushes frames. */
  settle(): Promise<void>;
  remove(): void;
}

const GLOBALS = [
  "window",
  "document",
  "navigator",
  "HTMLElement",
  "HTMLCanvasElement",
  "HTMLButtonElement",
  "Element",
  "Node",
  "Text",
  "SVGElement",
  "MutationObserver",
  "CustomEvent",
  "Event",
  "KeyboardEvent",
  "MouseEvent",
  "getComputedStyle",
  "requestAnimationFrame",
  "cancelAnimationFrame",
  "CSS",
  "matchMedia",
  "devicePixelRatio",
  "ResizeObserver",
  "IntersectionObserver",
  "ImageData",
  "Path2D",
  "DOMRect",
] as const;

/** A CanvasRenderingContext2D stand-in: every method is a no-op, measureText measures nothing, image data is real. */
function fakeContext(canvas: HTMLCanvasElement): unknown {
  const calls: string[] = [];
  const target: Record<string, unknown> = {
    canvas,
    calls,
    measureText: (s: string) => ({ width: s.length * 6, actualBoundingBoxAscent: 8, actualBoundingBoxDescent: 2 }),
    createImageData: (w: number, h: number) => ({ width: w, height: h, data: new Uint8ClampedArray(w * h * 4) }),
    getImageData: (_x: number, _y: number, w: number, h: number) => ({ width: w, height: h, data: new Uint8ClampedArray(w * h * 4) }),
    putImageData: (img: { width: number; height: number; data: Uint8ClampedArray }) => {
      (canvas as unknown as { __image?: unknown }).__image = img;
    },
    createLinearGradient: () => ({ addColorStop: () => undefined }),
    getLineDash: () => [],
  };
  return new Proxy(target, {
    get(t, k: string) {
      if (k in t) return t[k];
      return (..._args: unknown[]) => {
        calls.push(k);
        return undefined;
      };
    },
    set(t, k: string, v) {
      t[k] = v;
      return true;
    },
  });
}

export function installDom(html = "<!DOCTYPE html><html><body></body></html>"): TestDom {
  const dom = new JSDOM(html, { pretendToBeVisual: true, url: "https://webview.test/" });
  const w = dom.window as unknown as Window & typeof globalThis & Record<string, unknown>;
  let frames: FrameRequestCallback[] = [];
  let next = 1;
  w.requestAnimationFrame = ((cb: FrameRequestCallback) => {
    frames.push(cb);
    return next++;
  }) as typeof requestAnimationFrame;
  w.cancelAnimationFrame = () => undefined;
  w.matchMedia = ((q: string) => ({ matches: false, media: q, addEventListener: () => undefined, removeEventListener: () => undefined, addListener: () => undefined, removeListener: () => undefined })) as unknown as typeof matchMedia;
  w.CSS = { escape: (s: string) => s.replace(/["\\\]]/g, "\\$&"), supports: () => false } as unknown as typeof CSS;
  w.Path2D = class {
    moveTo(): void {}
    lineTo(): void {}
    rect(): void {}
    arc(): void {}
    closePath(): void {}
    bezierCurveTo(): void {}
    quadraticCurveTo(): void {}
    addPath(): void {}
  } as unknown as typeof Path2D;
  // Layout does not exist here: observers never fire, which the app handles (it renders at its default width).
  w.ResizeObserver = class {
    observe(): void {}
    unobserve(): void {}
    disconnect(): void {}
  } as unknown as typeof ResizeObserver;
  delete (w as Record<string, unknown>).IntersectionObserver;
  (w.HTMLCanvasElement.prototype as unknown as { getContext: (k: string) => unknown }).getContext = function (this: HTMLCanvasElement) {
    const self = this as unknown as { __ctx?: unknown };
    return (self.__ctx ??= fakeContext(this));
  };
  const g = globalThis as unknown as Record<string, unknown>;
  const saved = new Map<string, PropertyDescriptor | undefined>();
  for (const k of GLOBALS) {
    saved.set(k, Object.getOwnPropertyDescriptor(g, k));
    Object.defineProperty(g, k, { value: k === "window" ? w : w[k], configurable: true, writable: true });
  }
  const flush = (rounds = 20): void => {
    for (let i = 0; i < rounds && frames.length > 0; i++) {
      const run = frames;
      frames = [];
      for (const f of run) f(0);
    }
  };
  return {
    window: w,
    document: w.document,
    flush,
    async settle() {
      for (let i = 0; i < 5; i++) {
        await new Promise((r) => setImmediate(r));
        flush();
      }
    },
    remove() {
      for (const [k, d] of saved) {
        if (d) Object.defineProperty(g, k, d);
        else delete g[k];
      }
      dom.window.close();
    },
  };
}
