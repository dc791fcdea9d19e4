/**
 * Decodes the Python tracer's output stream (python/backprop_lens_tracer/wire.py; docs/trace-format.md,
 * "The Python producer") into frames: a 12-byte header (`BPL1`, JSON length, binary length, both
 * uint32 little-endian), the JSON object, then the frame's tensors as raw little-endian float64.
 * Tensors inside an event are `{ shape, bin: [byteOffset, count], dtype? }` and become
 * `{ shape, data: Float64Array, dtype? }`; `{ "$num": "NaN" | "Infinity" | "-Infinity" }` becomes the number.
 */

export const MAGIC = "BPL1";
const HEADER_BYTES = 12;
/** A frame larger than this is not from the tracer (the stream is corrupted). */
const MAX_FRAME_BYTES = 2 ** 31 - 1;

export interface Frame {
  k: string;
  [key: string]: unknown;
}

export class WireError extends Error {
  override name = "WireError";
}

export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  /** Adds bytes from the stream; returns the frames now complete, in order. */
  push(chunk: Buffer): Frame[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: Frame[] = [];
    for (;;) {
      if (this.buffered < HEADER_BYTES) break;
      const head = this.peek(HEADER_BYTES);
      const magic = head.toString("latin1", 0, 4);
      if (magic !== MAGIC) {
        throw new WireError(`the Python tracer's stream is corrupted (expected a frame, got ${JSON.stringify(head.toString("latin1", 0, 12))})`);
      }
      const jlen = head.readUInt32LE(4);
      const blen = head.readUInt32LE(8);
      const total = HEADER_BYTES + jlen + blen;
      if (total > MAX_FRAME_BYTES) throw new WireError(`the Python tracer sent a frame of ${total} bytes`);
      if (this.buffered < total) break;
      const frame = this.take(total);
      const json = frame.toString("utf8", HEADER_BYTES, HEADER_BYTES + jlen);
      const bin = frame.subarray(HEADER_BYTES + jlen, total);
      out.push(decodeFrame(json, bin));
    }
    return out;
  }

  /** Bytes received but not yet part of a complete frame. */
  get pending(): number {
    return this.buffered;
  }

  private peek(n: number): Buffer {
    if (this.chunks.length > 1 && (this.chunks[0] as Buffer).length < n) this.chunks = [Buffer.concat(this.chunks)];
    return (this.chunks[0] as Buffer).subarray(0, n);
  }

  private take(n: number): Buffer {
    if ((this.chunks[0] as Buffer).length < n) this.chunks = [Buffer.concat(this.chunks)];
    const first = this.chunks[0] as Buffer;
    const out = first.subarray(0, n);
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.buffered -= n;
    return out;
  }
}

/** Parses one frame's JSON, resolving tensor references into `bin` and boxed non-finite numbers. */
export function decodeFrame(json: string, bin: Buffer): Frame {
  const value = JSON.parse(json, (_key, v: unknown) => {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return v;
    const o = v as Record<string, unknown>;
    if (typeof o.$num === "string" && Object.keys(o).length === 1) return Number(o.$num);
    if (Array.isArray(o.bin) && Array.isArray(o.shape)) {
      const [offset, count] = o.bin as [number, number];
      if (!Number.isInteger(offset) || !Number.isInteger(count) || offset < 0 || count < 0 || offset + count * 8 > bin.length) {
        throw new WireError(`a tensor of the Python tracer points outside its frame (${offset}+${count}·8 > ${bin.length})`);
      }
      // A copy into a fresh, aligned buffer (the frame's bytes may sit at any offset).
      const data = new Float64Array(count);
      Buffer.from(data.buffer).set(bin.subarray(offset, offset + count * 8));
      if (!littleEndian) byteSwap(data);
      return { shape: o.shape as number[], data, ...(typeof o.dtype === "string" ? { dtype: o.dtype } : {}) };
    }
    return v;
  }) as unknown;
  if (value === null || typeof value !== "object" || typeof (value as Frame).k !== "string") throw new WireError("a frame of the Python tracer has no kind");
  return value as Frame;
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function byteSwap(a: Float64Array): void {
  const v = new DataView(a.buffer);
  for (let i = 0; i < a.length; i++) a[i] = v.getFloat64(i * 8, true);
}
