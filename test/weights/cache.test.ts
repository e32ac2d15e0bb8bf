import { describe, expect, it } from "vitest";
import { CacheFullError } from "../../src/errors.ts";
import { BlockCache } from "../../src/weights/read/cache.ts";

function region(bytes: number) {
  const memory = new Uint8Array(bytes + 64);
  return { memory, cache: new BlockCache({ base: 64, bytes, write: (at, data) => memory.set(data, at) }) };
}
const piece = (n: number, fill: number) => new Uint8Array(n).fill(fill);

describe("BlockCache", () => {
  it("stores bytes at the returned address and hits afterwards", async () => {
    const { memory, cache } = region(1024);
    const at = await cache.get("a", async () => piece(100, 7));
    expect(Array.from(memory.subarray(at, at + 100))).toEqual(Array(100).fill(7));
    expect(await cache.get("a", async () => piece(100, 9))).toBe(at);
    expect(cache.stats).toMatchObject({ hits: 1, misses: 1, entries: 1, usedBytes: 100 });
  });

  it("evicts the least recently used entry, calling its onEvict", async () => {
    const { cache } = region(3 * 256);
    const evicted: string[] = [];
    for (const k of ["a", "b", "c"]) await cache.get(k, async () => piece(256, 1), () => evicted.push(k));
    cache.lookup("a"); // a is now the most recent; b the least
    await cache.get("d", async () => piece(256, 2));
    expect(evicted).toEqual(["b"]);
    expect(cache.has("a") && cache.has("c") && cache.has("d")).toBe(true);
  });

  it("never evicts a pinned entry and says so when nothing can go", async () => {
    const { cache } = region(2 * 256);
    await cache.get("a", async () => piece(256, 1));
    await cache.get("b", async () => piece(256, 1));
    cache.pin("a");
    cache.pin("b");
    await expect(cache.get("c", async () => piece(256, 1))).rejects.toBeInstanceOf(CacheFullError);
    cache.unpin("a");
    await cache.get("c", async () => piece(256, 1));
    expect(cache.has("a")).toBe(false);
    expect(cache.has("b")).toBe(true);
  });

  it("shares one load between concurrent requests for a key", async () => {
    const { cache } = region(1024);
    let loads = 0;
    const load = async () => {
      loads++;
      await new Promise((r) => setTimeout(r, 5));
      return piece(64, 3);
    };
    const [x, y, z] = await Promise.all([cache.get("k", load), cache.get("k", load), cache.get("k", load)]);
    expect(loads).toBe(1);
    expect(x).toBe(y);
    expect(y).toBe(z);
  });

  it("caches nothing when the load fails, and loads again next time", async () => {
    const { cache } = region(1024);
    await expect(cache.get("k", async () => Promise.reject(new Error("bad bytes")))).rejects.toThrow("bad bytes");
    expect(cache.has("k")).toBe(false);
    await cache.get("k", async () => piece(16, 1));
    expect(cache.has("k")).toBe(true);
  });

  it("merges freed neighbours so that a larger piece fits after small ones leave", async () => {
    const { cache } = region(4 * 256);
    for (const k of ["a", "b", "c", "d"]) await cache.get(k, async () => piece(256, 1));
    // needs 512 contiguous bytes: evicting a then b frees two adjacent slots that merge
    await cache.get("big", async () => piece(512, 5));
    expect(cache.has("a") || cache.has("b")).toBe(false);
    expect(cache.has("c") && cache.has("d")).toBe(true);
    expect(cache.stats.freeBytes).toBe(0);
  });
});
