import { describe, expect, it } from "vitest";
import { type Kernel, fffAccumulateRef, fffDescendRef, fffQuantizeXRef } from "../../src/kernel/index.ts";
import { type FffRecord, fffRecordF32, fffRecordQ8, writeFffRecord } from "../../src/weights/format/records.ts";
import { type Dtype as FffDtype, recordBytes as fffRecordBytes } from "../../src/weights/format/spec.ts";
import { expectClose, expectEqualArrays, gaussian, newKernel, randn } from "./helpers.ts";

/** Relative f32 rounding slack of a dot of H terms (on Σ|x·w|). */
const DOT_F32_REL = 2e-6;
/** f32 accumulation vs float64 (on Σ|c·w| per element). */
const ACC_F32_REL = 2e-6;
/** GELU relative accuracy used in the accumulate bounds. */
const GELU_REL = 1e-6;

const k = newKernel();

interface Tree {
  H: number;
  levels: number;
  nodes: number;
  /** plain records, for the references */
  recs: FffRecord[];
  /** node table in kernel memory */
  table: number;
  /** record addresses, to punch holes and restore them */
  addr: Uint32Array;
}

/** Random f32 weights of a tree: wIn, wOut ~ N(0, 1/√H), bias ~ N(0, 0.1): both children occur. */
function treeWeights(H: number, levels: number, seed: number) {
  const nodes = 2 ** levels - 1;
  const g = gaussian(seed);
  const s = 1 / Math.sqrt(H);
  return Array.from({ length: nodes }, () => ({
    bias: 0.1 * g(),
    wIn: Float32Array.from({ length: H }, () => g() * s),
    wOut: Float32Array.from({ length: H }, () => g() * s),
  }));
}

/** Writes the records (in scrambled order, so addresses are not monotonic in the node index). */
function buildTree(kernel: Kernel, H: number, levels: number, dtype: FffDtype, seed: number): Tree {
  const w = treeWeights(H, levels, seed);
  const recs = w.map((n) => (dtype === "q8" ? fffRecordQ8(n.bias, n.wIn, n.wOut) : fffRecordF32(n.bias, n.wIn, n.wOut)));
  const nodes = recs.length;
  const rb = fffRecordBytes(H, dtype);
  const base = kernel.alloc(nodes * rb, 16);
  const table = kernel.alloc(4 * nodes, 4);
  const addr = new Uint32Array(nodes);
  for (let n = 0; n < nodes; n++) {
    const slot = (n * 7919) % nodes; // a permutation when nodes is not a multiple of 7919
    addr[n] = base + slot * rb;
    writeFffRecord(kernel.u8(0, kernel.memoryBytes), addr[n], recs[n], dtype);
  }
  kernel.u32(table, nodes).set(addr);
  return { H, levels, nodes, recs, table, addr };
}

interface Run {
  paths: Int32Array;
  logits: Float32Array;
  progress: Int32Array;
  blocked: number;
}

/** Buffers for T tokens; progress 0 and paths[t][0] = 0 unless `from` is given. */
function alloc(kernel: Kernel, T: number, levels: number, from?: Run) {
  const paths = kernel.alloc(4 * T * levels), logits = kernel.alloc(4 * T * levels), progress = kernel.alloc(4 * T);
  if (from) {
    kernel.i32(paths, T * levels).set(from.paths);
    kernel.f32(logits, T * levels).set(from.logits);
    kernel.i32(progress, T).set(from.progress);
  } else {
    kernel.i32(paths, T * levels).fill(0);
    kernel.i32(progress, T).fill(0);
  }
  return { paths, logits, progress };
}

function descend(kernel: Kernel, tree: Tree, dtype: FffDtype, x: Float32Array, T: number, from?: Run): Run {
  const m = kernel.mark();
  const px = kernel.allocCopy(x);
  const b = alloc(kernel, T, tree.levels, from);
  const blocked = kernel.fffDescend({ x: px, tokens: T, hidden: tree.H, levels: tree.levels, table: tree.table, dtype, ...b });
  const out = {
    paths: kernel.i32(b.paths, T * tree.levels).slice(),
    logits: kernel.f32(b.logits, T * tree.levels).slice(),
    progress: kernel.i32(b.progress, T).slice(),
    blocked,
  };
  kernel.release(m);
  return out;
}

function descendRef(tree: Tree, x: Float32Array, T: number, mode: "exact" | "f64", present = (_n: number) => true) {
  const paths = new Int32Array(T * tree.levels), logits = new Float32Array(T * tree.levels), progress = new Int32Array(T);
  const logits64 = new Float64Array(T * tree.levels);
  const blocked = fffDescendRef({
    x, T, H: tree.H, levels: tree.levels, record: (n) => (present(n) ? tree.recs[n] : null), paths, logits, progress, mode, logits64,
  });
  return { paths, logits, progress, blocked, logits64 };
}

function accumulate(kernel: Kernel, tree: Tree, dtype: FffDtype, run: Run, y0: Float32Array, T: number): Float32Array {
  const m = kernel.mark();
  const py = kernel.allocCopy(y0);
  const b = alloc(kernel, T, tree.levels, run);
  kernel.fffAccumulate({ y: py, tokens: T, hidden: tree.H, levels: tree.levels, table: tree.table, dtype, paths: b.paths, logits: b.logits });
  const y = kernel.f32(py, T * tree.H).slice();
  kernel.release(m);
  return y;
}

/** Σ_k |x[t][k]·wIn[k]·inScale| for the node token t visits at `lvl`. */
function absDot(tree: Tree, x: Float32Array, t: number, node: number): number {
  const r = tree.recs[node];
  let s = Math.abs(r.bias);
  for (let i = 0; i < tree.H; i++) s += Math.abs(x[t * tree.H + i] * r.wIn[i] * r.inScale);
  return s;
}

/**
 * Walks kernel and float64 paths together; where they split, the float64 logit must be within `slack`
 * of 0 (a legitimate near-tie). Returns how many tokens split.
 */
function comparePaths(tree: Tree, T: number, got: Run, ref: { paths: Int32Array; logits64: Float64Array }, slack: (t: number, node: number) => number): number {
  let splits = 0;
  for (let t = 0; t < T; t++) {
    for (let l = 0; l < tree.levels; l++) {
      const node = ref.paths[t * tree.levels + l];
      expect(got.paths[t * tree.levels + l], `token ${t} level ${l}`).toBe(node);
      if (l + 1 === tree.levels) break;
      if (got.paths[t * tree.levels + l + 1] !== ref.paths[t * tree.levels + l + 1]) {
        const l64 = ref.logits64[t * tree.levels + l];
        expect(Math.abs(l64), `token ${t} level ${l}: split at |logit| ${Math.abs(l64)}`).toBeLessThanOrEqual(slack(t, node));
        splits++;
        break;
      }
    }
  }
  return splits;
}

describe("fffQuantizeX (14-bit activations)", () => {
  for (const [T, H] of [[1, 1], [3, 768], [5, 37], [2, 8], [4, 15]]) {
    it(`should equal the exact replica for ${T}×${H}, zero padded to a multiple of 8`, () => {
      const x = randn(T * H, T * 13 + H, 2).map((v, i) => (i % 17 === 5 ? v * 40 : v));
      const Hp = Math.ceil(H / 8) * 8;
      const m = k.mark();
      const px = k.allocCopy(x), xq = k.alloc(2 * T * Hp), sx = k.alloc(4 * T);
      k.i16(xq, T * Hp).fill(-1);
      k.fffQuantizeX(px, T, H, xq, sx);
      const q = k.i16(xq, T * Hp).slice(), s = k.f32(sx, T).slice();
      k.release(m);
      const ref = fffQuantizeXRef(x, T, H);
      const unpadded = new Int16Array(T * H);
      for (let t = 0; t < T; t++) {
        for (let i = 0; i < H; i++) unpadded[t * H + i] = q[t * Hp + i];
        for (let i = H; i < Hp; i++) expect(q[t * Hp + i]).toBe(0);
      }
      expectEqualArrays(unpadded, ref.q, "xq");
      expectEqualArrays(s, ref.scale, "sx");
      for (const v of unpadded) expect(Math.abs(v)).toBeLessThanOrEqual(8191);
    });
  }
});

describe("fffDescend", () => {
  const cases: Array<[number, number, number]> = [
    // [H, levels, T]
    [768, 12, 37],
    [37, 6, 13],
    [8, 4, 5],
    [15, 3, 9],
    [1, 5, 4],
    [64, 1, 3],
  ];
  for (const [H, levels, T] of cases) {
    it(`q8: paths and logits should equal the exact replica bit for bit (H=${H}, levels=${levels}, T=${T})`, () => {
      const m = k.mark();
      const tree = buildTree(k, H, levels, "q8", H * 31 + levels);
      const x = randn(T * H, H + T);
      const got = descend(k, tree, "q8", x, T);
      k.release(m);
      const ref = descendRef(tree, x, T, "exact");
      expect(got.blocked).toBe(0);
      expectEqualArrays(got.paths, ref.paths, "paths");
      expectEqualArrays(got.logits, ref.logits, "logits");
      expectEqualArrays(got.progress, new Int32Array(T).fill(levels), "progress");
    });
  }

  for (const dtype of ["q8", "f32"] as const) {
    it(`${dtype}: paths should equal the float64 reference except at near-zero logits (H=768, 12 levels, 128 tokens)`, () => {
      const [H, levels, T] = [768, 12, 128];
      const m = k.mark();
      const tree = buildTree(k, H, levels, dtype, 7);
      const x = randn(T * H, 8);
      const got = descend(k, tree, dtype, x, T);
      k.release(m);
      const ref = descendRef(tree, x, T, "f64");
      const xq = fffQuantizeXRef(x, T, H);
      const slack = (t: number, node: number) => {
        const r = tree.recs[node];
        let l1 = 0;
        for (let i = 0; i < H; i++) l1 += Math.abs(r.wIn[i] * r.inScale);
        // q8: rounding x to 14 bits moves the logit by ≤ (sx/2)·Σ|w|; both: f32 rounding
        return (dtype === "q8" ? (xq.scale[t] / 2) * l1 : 0) + DOT_F32_REL * absDot(tree, x, t, node);
      };
      const splits = comparePaths(tree, T, got, ref, slack);
      expect(splits).toBeLessThanOrEqual(dtype === "q8" ? 4 : 1);
      // the data exercise the tree: both children at the root's children, many distinct leaves
      const leaves = new Set<number>();
      for (let t = 0; t < T; t++) leaves.add(got.paths[t * levels + levels - 1]);
      expect(leaves.size).toBeGreaterThan(100);
      const level1 = new Set<number>();
      for (let t = 0; t < T; t++) level1.add(got.paths[t * levels + 1]);
      expect(level1.size).toBe(2);
      for (let t = 0; t < T; t++) {
        for (let l = 0; l < levels; l++) {
          const i = t * levels + l;
          if (got.paths[i] !== ref.paths[i]) break;
          expect(Math.abs(got.logits[i] - ref.logits64[i])).toBeLessThanOrEqual(slack(t, got.paths[i]) + 1e-7);
        }
      }
    });
  }

  it("should resume after missing records are filled, and count the blocked tokens", () => {
    const [H, levels, T] = [24, 7, 40];
    const m = k.mark();
    const tree = buildTree(k, H, levels, "q8", 99);
    const x = randn(T * H, 100);
    const full = descend(k, tree, "q8", x, T);
    // punch holes: all of level 2, and every third node of level 5
    const table = k.u32(tree.table, tree.nodes);
    const hole = (n: number) => (n >= 3 && n <= 6) || (n >= 31 && n <= 62 && n % 3 === 0);
    for (let n = 0; n < tree.nodes; n++) if (hole(n)) table[n] = 0;
    const first = descend(k, tree, "q8", x, T);
    expect(first.blocked).toBe(T); // everyone needs a level-2 node
    for (let t = 0; t < T; t++) {
      expect(first.progress[t]).toBe(2);
      expect(hole(first.paths[t * levels + 2])).toBe(true);
    }
    // the reference agrees on the partial state
    const refPartial = descendRef(tree, x, T, "exact", (n) => !hole(n));
    expect(refPartial.blocked).toBe(T);
    expectEqualArrays(first.progress, refPartial.progress, "progress after holes");
    // fill level 2 only: some tokens stop at the level-5 holes
    for (let n = 3; n <= 6; n++) k.u32(tree.table, tree.nodes)[n] = tree.addr[n];
    const second = descend(k, tree, "q8", x, T, first);
    const expectBlocked = Array.from({ length: T }, (_, t) => full.paths[t * levels + 5]).filter(hole).length;
    expect(expectBlocked).toBeGreaterThan(0);
    expect(second.blocked).toBe(expectBlocked);
    for (let t = 0; t < T; t++) {
      if (second.progress[t] < levels) {
        expect(second.progress[t]).toBe(5);
        expect(hole(second.paths[t * levels + 5])).toBe(true);
      }
    }
    // fill everything: the result equals the one-shot descent
    k.u32(tree.table, tree.nodes).set(tree.addr);
    const third = descend(k, tree, "q8", x, T, second);
    expect(third.blocked).toBe(0);
    expectEqualArrays(third.paths, full.paths, "resumed paths");
    expectEqualArrays(third.logits, full.logits, "resumed logits");
    // a finished descent is left as it is
    const again = descend(k, tree, "q8", x, T, third);
    expect(again.blocked).toBe(0);
    expectEqualArrays(again.paths, third.paths, "idempotent");
    k.release(m);
  });
});

describe("fffAccumulate", () => {
  /** per element bound for q8: coefficient rounding (cs/2 per level) + GELU and f32 slack */
  function q8Bound(tree: Tree, run: Run, T: number, t: number, i: number, y: number): number {
    const { levels, H } = tree;
    let cmax = 0, absSum = 0, qsum = 0;
    for (let l = 0; l < levels; l++) {
      const r = tree.recs[run.paths[t * levels + l]];
      const g = Math.abs(run.logits[t * levels + l]) + 1; // |GELU(z)| ≤ |z|
      cmax = Math.max(cmax, Math.abs(g * r.outScale));
      absSum += g * r.outScale * Math.abs(r.wOut[i]);
      qsum += Math.abs(r.wOut[i]);
    }
    void T;
    return ((cmax / 32767) / 2) * qsum + (GELU_REL + ACC_F32_REL) * absSum + 2e-7 * Math.abs(y);
  }

  for (const [H, levels, T] of [[768, 12, 33], [37, 5, 7], [8, 1, 3], [13, 4, 6], [20, 2, 5]] as const) {
    for (const dtype of ["q8", "f32"] as const) {
      it(`${dtype}: should match the float64 reference (H=${H}, levels=${levels}, T=${T})`, () => {
        const m = k.mark();
        const tree = buildTree(k, H, levels, dtype, H + levels * 3);
        const x = randn(T * H, 5 + H);
        const run = descend(k, tree, dtype, x, T);
        const y0 = randn(T * H, 6, 0.5);
        const got = accumulate(k, tree, dtype, run, y0, T);
        k.release(m);
        const want = y0.slice();
        fffAccumulateRef({ y: want, T, H, levels, record: (n) => tree.recs[n], paths: run.paths, logits: run.logits });
        if (dtype === "f32") {
          const absSum = new Float64Array(T * H);
          for (let t = 0; t < T; t++) {
            for (let l = 0; l < levels; l++) {
              const r = tree.recs[run.paths[t * levels + l]];
              const c = Math.abs(run.logits[t * levels + l]) + 1;
              for (let i = 0; i < H; i++) absSum[t * H + i] += c * Math.abs(r.wOut[i]);
            }
          }
          for (let i = 0; i < T * H; i++) {
            expect(Math.abs(got[i] - want[i]), `element ${i}`).toBeLessThanOrEqual((GELU_REL + ACC_F32_REL) * absSum[i] + 2e-7 * Math.abs(y0[i]) + 1e-12);
          }
        } else {
          for (let t = 0; t < T; t++) {
            for (let i = 0; i < H; i++) {
              const j = t * H + i;
              expect(Math.abs(got[j] - want[j]), `token ${t} element ${i}`).toBeLessThanOrEqual(q8Bound(tree, run, T, t, i, y0[j]));
            }
          }
        }
        // the update is not a no-op
        let moved = 0;
        for (let i = 0; i < T * H; i++) moved = Math.max(moved, Math.abs(got[i] - y0[i]));
        expect(moved).toBeGreaterThan(1e-3);
      });
    }
  }

  it("should sum several trees into y, writing nothing past T×H", () => {
    const [H, levels, T] = [50, 6, 9];
    const m = k.mark();
    const trees = [buildTree(k, H, levels, "q8", 1), buildTree(k, H, levels, "q8", 2), buildTree(k, H, levels, "q8", 3)];
    const x = randn(T * H, 77);
    const py = k.alloc(4 * (T * H + 8));
    k.f32(py, T * H + 8).fill(0);
    k.f32(py + 4 * T * H, 8).fill(5);
    const want = new Float32Array(T * H);
    for (const tree of trees) {
      const run = descend(k, tree, "q8", x, T);
      const b = alloc(k, T, levels, run);
      k.fffAccumulate({ y: py, tokens: T, hidden: H, levels, table: tree.table, dtype: "q8", paths: b.paths, logits: b.logits });
      fffAccumulateRef({ y: want, T, H, levels, record: (n) => tree.recs[n], paths: run.paths, logits: run.logits });
    }
    const got = k.f32(py, T * H).slice();
    expect(Array.from(k.f32(py + 4 * T * H, 8))).toEqual(new Array(8).fill(5));
    k.release(m);
    let scale = 0;
    for (const v of want) scale = Math.max(scale, Math.abs(v));
    expect(scale).toBeGreaterThan(0.1);
    expectClose(got, want, { abs: 2e-3 * scale }, "three trees");
  });
});

describe("q8 vs f32 records", () => {
  it("should agree on paths for most tokens and on outputs where the paths agree", () => {
    const [H, levels, T] = [768, 12, 64];
    const m = k.mark();
    const tq = buildTree(k, H, levels, "q8", 2024);
    const tf = buildTree(k, H, levels, "f32", 2024);
    const x = randn(T * H, 2025);
    const rq = descend(k, tq, "q8", x, T);
    const rf = descend(k, tf, "f32", x, T);
    const yq = accumulate(k, tq, "q8", rq, new Float32Array(T * H), T);
    const yf = accumulate(k, tf, "f32", rf, new Float32Array(T * H), T);
    k.release(m);
    let same = 0;
    for (let t = 0; t < T; t++) {
      let eq = true;
      for (let l = 0; l < levels; l++) eq &&= rq.paths[t * levels + l] === rf.paths[t * levels + l];
      // logits agree to q8 precision
      for (let l = 0; l < levels && eq; l++) expect(Math.abs(rq.logits[t * levels + l] - rf.logits[t * levels + l])).toBeLessThan(0.05);
      if (!eq) continue;
      same++;
      let num = 0, den = 0;
      for (let i = 0; i < H; i++) {
        num += (yq[t * H + i] - yf[t * H + i]) ** 2;
        den += yf[t * H + i] ** 2;
      }
      expect(Math.sqrt(num / den), `token ${t} relative L2`).toBeLessThan(0.02);
    }
    expect(same).toBeGreaterThanOrEqual(T * 0.75);
  });
});
