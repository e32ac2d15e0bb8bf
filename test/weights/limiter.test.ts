/**
 * LimitedSource on its own (the cross-request hand-over in workerd is in test/worker/isolation.test.ts):
 * never more reads in flight than its limit, a failed read gives its slot back, and a waiter gives up at
 * its own deadline instead of waiting for ever.
 */
import { describe, expect, it } from "vitest";
import { UfbError } from "../../src/errors.ts";
import { LimitedSource } from "../../src/weights/read/limiter.ts";

/** An inner source whose reads wait until the test answers them; counts the reads in flight. */
function heldSource() {
  const pending: { offset: number; answer: () => void; fail: (e: Error) => void }[] = [];
  const seen = { now: 0, most: 0, started: [] as number[] };
  const source = {
    name: "held",
    read: async (offset: number, length: number) => {
      seen.now++;
      seen.most = Math.max(seen.most, seen.now);
      seen.started.push(offset);
      try {
        await new Promise<void>((answer, fail) => pending.push({ offset, answer, fail }));
        return new Uint8Array(length).fill(offset);
      } finally {
        seen.now--;
      }
    },
  };
  return { source, pending, seen };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("LimitedSource", () => {
  it("keeps at most `limit` reads in flight, also when a caller arrives between a release and a waiter's turn", async () => {
    // the caller is started at every microtask depth after the release: one of them lands in the gap
    // between a read ending and the first waiter resuming (a resolver queue let it through: 2 with limit 1)
    for (let depth = 0; depth < 8; depth++) {
      const { source, pending, seen } = heldSource();
      const limited = new LimitedSource(source, 1);
      const reads = [limited.read(1, 4), limited.read(2, 4)];
      await settle();
      expect(pending.map((p) => p.offset)).toEqual([1]);
      pending.shift()!.answer();
      let chain: Promise<unknown> = Promise.resolve();
      for (let i = 0; i < depth; i++) chain = chain.then(() => {});
      chain.then(() => reads.push(limited.read(3, 4)));
      for (let i = 0; i < 2; i++) {
        await settle();
        expect(seen.now, `depth ${depth}`).toBe(1);
        expect(limited.inFlight).toBe(1);
        pending.shift()?.answer();
      }
      expect((await Promise.all(reads)).map((b) => b[0])).toEqual([1, 2, 3]);
      expect(seen.most, `depth ${depth}`).toBe(1);
      expect(limited.inFlight).toBe(0);
    }
  });

  it("serves waiters in the order they came", async () => {
    const { source, pending, seen } = heldSource();
    const limited = new LimitedSource(source, 2);
    const reads = [1, 2, 3, 4, 5].map((o) => limited.read(o, 1));
    await settle();
    expect(limited.queued).toBe(3);
    while (pending.length > 0) {
      pending.shift()!.answer();
      await settle();
    }
    await Promise.all(reads);
    expect(seen.started).toEqual([1, 2, 3, 4, 5]);
    expect(seen.most).toBe(2);
  });

  it("a read that fails gives its slot back: the reads queued behind it run, and so do later ones", async () => {
    const { source, pending } = heldSource();
    const limited = new LimitedSource(source, 1);
    const first = limited.read(1, 4);
    const second = limited.read(2, 4);
    await settle();
    pending.shift()!.fail(new UfbError("io", "boom"));
    await expect(first).rejects.toThrow("boom");
    await settle();
    pending.shift()!.answer();
    expect((await second)[0]).toBe(2);
    const third = limited.read(3, 4);
    await settle();
    pending.shift()!.answer();
    expect((await third)[0]).toBe(3);
    expect(limited.inFlight).toBe(0);
    expect(limited.queued).toBe(0);
  });

  it("a waiter gives up at its own deadline when no slot frees (UfbError io), and leaves the queue", async () => {
    const { source, pending } = heldSource();
    const limited = new LimitedSource(source, 1, { waitTimeoutMs: 20 });
    const stuck = limited.read(1, 4);
    const waiter = limited.read(2, 4);
    const err = await waiter.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UfbError);
    expect((err as UfbError).code).toBe("io");
    expect((err as UfbError).message).toMatch(/no read slot free within 20 ms/);
    expect(limited.queued).toBe(0);
    expect(limited.inFlight).toBe(1);
    pending.shift()!.answer();
    expect((await stuck)[0]).toBe(1);
    expect(limited.inFlight).toBe(0);
  });
});
