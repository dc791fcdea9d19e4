/**
 * Message framing over a byte stream (a pipe between the host and a model process), robust against
 * anything the other end writes. Node's own IPC channel is not used on purpose: a child that writes
 * malformed bytes into it makes the *parent* throw an uncaught exception (measured on Node 20 with both
 * `json` and `advanced` serialization), and the parent here is the editor's extension host.
 *
 * - `encodeFrame(value)`: 4-byte big-endian length + `v8.serialize(value)` (structured clone: typed
 *   arrays travel as bytes, no JSON on either side).
 * - `FrameReader`: feeds stream chunks, yields decoded values; a bad length, a frame over the size cap
 *   or bytes that do not deserialize are reported once through `onError` and the reader stops.
 * - `LineReader`: newline-delimited JSON (the Python tracer's stream), each line capped in length,
 *   each parsed in a try/catch.
 */
import * as v8 from "node:v8";

/** Largest frame accepted (a batch of trace events with its tensors). */
export const MAX_FRAME_BYTES = 512 * 2 ** 20;

export function encodeFrame(value: unknown): Buffer {
  const body = v8.serialize(value);
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32BE(body.length, 0);
  return Buffer.concat([head, body], 4 + body.length);
}

export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private need = -1;
  private failed = false;

  constructor(
    private readonly onFrame: (value: unknown) => void,
    private readonly onError: (reason: string) => void,
    private readonly maxBytes = MAX_FRAME_BYTES,
  ) {}

  /** Bytes received but not yet decoded. */
  get pending(): number {
    return this.buffered;
  }

  push(chunk: Buffer): void {
    if (this.failed) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      if (this.need < 0) {
        if (this.buffered < 4) return;
        const head = this.take(4);
        this.need = head.readUInt32BE(0);
        if (this.need > this.maxBytes) return this.fail(`a message of ${this.need} bytes is over the limit of ${this.maxBytes}`);
      }
      if (this.buffered < this.need) return;
      const body = this.take(this.need);
      this.need = -1;
      let value: unknown;
      try {
        value = v8.deserialize(body);
      } catch (e) {
        return this.fail(`a message could not be read (${e instanceof Error ? e.message : String(e)})`);
      }
      this.onFrame(value);
      if (this.failed) return;
    }
  }

  private take(n: number): Buffer {
    let out: Buffer;
    const first = this.chunks[0] as Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let at = 0;
      while (at < n) {
        const c = this.chunks[0] as Buffer;
        const k = Math.min(c.length, n - at);
        c.copy(out, at, 0, k);
        at += k;
        if (k === c.length) this.chunks.shift();
        else this.chunks[0] = c.subarray(k);
      }
    }
    this.buffered -= n;
    return out;
  }

  private fail(reason: string): void {
    this.failed = true;
    this.chunks = [];
    this.buffered = 0;
    this.onError(reason);
  }
}

/** Longest line accepted from a JSON-lines producer. */
export const MAX_LINE_BYTES = 256 * 2 ** 20;

export class LineReader {
  private parts: Buffer[] = [];
  private length = 0;
  private failed = false;

  constructor(
    private readonly onValue: (value: unknown) => void,
    private readonly onError: (reason: string) => void,
    private readonly maxBytes = MAX_LINE_BYTES,
  ) {}

  push(chunk: Buffer): void {
    if (this.failed) return;
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      if (nl < 0) break;
      const piece = chunk.subarray(start, nl);
      const line = this.parts.length ? Buffer.concat([...this.parts, piece]) : piece;
      this.parts = [];
      this.length = 0;
      start = nl + 1;
      if (line.length > this.maxBytes) return this.fail(`a line of ${line.length} bytes is over the limit of ${this.maxBytes}`);
      const text = line.toString("utf8").trim();
      if (text === "") continue;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (e) {
        return this.fail(`a line is not JSON (${e instanceof Error ? e.message : String(e)}): ${JSON.stringify(text.slice(0, 80))}`);
      }
      this.onValue(value);
      if (this.failed) return;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this.length += rest.length;
      if (this.length > this.maxBytes) return this.fail(`a line is over the limit of ${this.maxBytes} bytes`);
      this.parts.push(rest);
    }
  }

  private fail(reason: string): void {
    this.failed = true;
    this.parts = [];
    this.onError(reason);
  }
}
