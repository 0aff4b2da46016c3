// Reassembles a recording that arrives in pieces (from the helper's pipe)
// into whole chunks, so only one chunk is held at a time: a 10 s recording of
// a busy JVM is hundreds of MB, its chunks ~12 MB each (JFR's maxchunksize).
import { FormatError } from '../../errors.js';
import { CHUNK_HEADER_SIZE, chunkHeader } from './recording.js';

/** JFR's own maximum chunk size is configurable; beyond this we refuse rather than hold it. */
export const MAX_CHUNK_BYTES = 256 * 1024 * 1024;

export class ChunkAssembler {
  private head = Buffer.alloc(CHUNK_HEADER_SIZE);
  private headFill = 0;
  private chunk: Buffer | undefined;
  private fill = 0;
  /** Bytes consumed so far (for error offsets). */
  private offset = 0;
  chunks = 0;

  constructor(private readonly maxChunk = MAX_CHUNK_BYTES) {}

  /** Feeds bytes; calls onChunk with every chunk completed by them (a Buffer holding exactly one chunk). */
  push(data: Buffer, onChunk: (chunk: Buffer) => void): void {
    let i = 0;
    while (i < data.length) {
      if (!this.chunk) {
        const n = Math.min(CHUNK_HEADER_SIZE - this.headFill, data.length - i);
        data.copy(this.head, this.headFill, i, i + n);
        this.headFill += n;
        i += n;
        if (this.headFill < CHUNK_HEADER_SIZE) break;
        // The size field is checked against the cap before any allocation.
        const size = this.head.readBigInt64BE(8);
        if (size < BigInt(CHUNK_HEADER_SIZE) || size > BigInt(this.maxChunk)) {
          if (this.head.readUInt32BE(0) !== 0x464c5200) throw new FormatError(`malformed JFR recording: not a JFR chunk (no FLR magic) at byte ${this.offset}`);
          throw new FormatError(`malformed JFR recording: chunk size ${size} at byte ${this.offset} is outside 68..${this.maxChunk}`);
        }
        this.chunk = Buffer.allocUnsafe(Number(size));
        this.head.copy(this.chunk, 0);
        this.fill = CHUNK_HEADER_SIZE;
        chunkHeader(this.head, 0, Number(size)); // magic, version, offsets: fail early
      }
      const n = Math.min(this.chunk.length - this.fill, data.length - i);
      data.copy(this.chunk, this.fill, i, i + n);
      this.fill += n;
      i += n;
      if (this.fill === this.chunk.length) {
        const c = this.chunk;
        this.offset += c.length;
        this.chunk = undefined;
        this.headFill = 0;
        this.chunks++;
        onChunk(c);
      }
    }
  }

  /** At the end of input: throws when a chunk was left incomplete. */
  end(): void {
    if (this.chunk || this.headFill > 0) {
      throw new FormatError(`malformed JFR recording: cut short in the chunk at byte ${this.offset} (${this.chunk ? this.fill : this.headFill} of ${this.chunk?.length ?? CHUNK_HEADER_SIZE} bytes)`);
    }
    if (this.chunks === 0) throw new FormatError('malformed JFR recording: empty');
  }
}
