/**
 * Bump arena over a WebAssembly.Memory (architecture §1). Regions are handed out upwards from `base`;
 * `mark()` / `release(mark)` free everything allocated after the mark (per-call scratch). The memory
 * grows on demand; every typed view made before a grow is detached, so make views right before use.
 */
import { KernelError } from "../errors.ts";
const PAGE = 65536;

export class Arena {
  readonly memory: WebAssembly.Memory;
  readonly base: number;
  #top: number;
  #high: number;
  readonly #maxPages: number;

  /** base: first usable byte (after the module's static data); maxPages: the memory's maximum. */
  constructor(memory: WebAssembly.Memory, base: number, maxPages: number) {
    this.memory = memory;
    this.base = alignUp(base, 64);
    this.#top = this.base;
    this.#high = this.base;
    this.#maxPages = maxPages;
  }

  /** Reserves `bytes` at a multiple of `align` (a power of two, default 64); grows the memory if needed. */
  alloc(bytes: number, align = 64): number {
    if (!(bytes >= 0) || !Number.isInteger(bytes)) throw new KernelError(`alloc: bytes must be an integer ≥ 0, got ${bytes}`);
    if (!(align > 0) || (align & (align - 1)) !== 0) throw new KernelError(`alloc: align must be a power of two, got ${align}`);
    const ptr = alignUp(this.#top, align);
    const end = ptr + bytes;
    this.#ensure(end);
    this.#top = end;
    if (end > this.#high) this.#high = end;
    return ptr;
  }

  /** The current top, to pass to `release`. */
  mark(): number {
    return this.#top;
  }

  /** Frees everything allocated since `mark` was taken. */
  release(mark: number): void {
    if (mark < this.base || mark > this.#top) {
      throw new KernelError(`release: mark ${mark} is outside the arena [${this.base}, ${this.#top}]`);
    }
    this.#top = mark;
  }

  /** Highest address ever reached (static data included), in bytes. */
  get highWaterBytes(): number {
    return this.#high;
  }

  /** Current size of the linear memory, in bytes. */
  get memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }

  #ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    const pages = Math.ceil((end - have) / PAGE);
    const havePages = have / PAGE;
    if (havePages + pages > this.#maxPages) {
      throw new KernelError(`alloc: needs ${havePages + pages} pages of 64 KiB, the memory maximum is ${this.#maxPages}`);
    }
    this.memory.grow(pages);
  }
}

export function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}
