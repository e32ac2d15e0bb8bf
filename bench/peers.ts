/**
 * `npm run bench:peers`: our encoder against onnxruntime-web (wasm, 1 thread, the pinned devDependency)
 * in one process, interleaved run by run, at seq 16/64/128, batch 1.
 *
 *   ours: the synthetic UltraFastBERT 12 × 768, FFF 1×11, q8, all weights resident (bench/encoder.ts's
 *         package), engine.run → hidden states;
 *   peer: a BERT-base-shaped graph (12 × 768, 12 heads, FF 3072, vocab 30522) from seeded random weights,
 *         written by bench/peers/onnx.ts in fp32 and in int8 the way quantize_dynamic makes it, cached in
 *         .data/peers/ (git-ignored); output last_hidden_state.
 *
 * Options: --quick (fewer runs), --no-fp32 (skip the fp32 peer, the slowest part). Medians of ≥ 20 runs
 * after warm-up (--quick: 5). Writes bench/results/peers.json
 * [{ name: "encoder.s16", ours_ms, peer: "ort-web-int8", peer_ms, ratio: peer_ms / ours_ms }, …] and prints
 * the table. A benchmark, not a test: CI does not run it (test/node/peers-graph.test.ts checks the graph).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import * as ort from "onnxruntime-web";
import { Engine } from "../src/model/engine.ts";
import { randomIds, synthPackage } from "./encoder.ts";
import { median } from "./harness.ts";
import { BERT_BASE, buildBert } from "./peers/onnx.ts";
import { loadKernel } from "./wasm.node.ts";

const GRAPH_VERSION = 1; // bump when buildBert changes, so cached graphs are rebuilt
const CACHE = new URL("../.data/peers/", import.meta.url);
const RESULTS = new URL("./results/peers.json", import.meta.url);

interface Row {
  name: string;
  ours_ms: number;
  peer: string;
  peer_ms: number;
  ratio: number;
}

function graph(dtype: "fp32" | "int8"): Uint8Array {
  const file = new URL(`bert-base-${dtype}-v${GRAPH_VERSION}.onnx`, CACHE);
  if (existsSync(file)) return new Uint8Array(readFileSync(file));
  console.log(`  building the BERT-base ${dtype} graph (seeded random weights) into .data/peers/ …`);
  const bytes = buildBert(BERT_BASE, dtype);
  mkdirSync(CACHE, { recursive: true });
  writeFileSync(file, bytes);
  return bytes;
}

async function main(argv: string[]): Promise<void> {
  const quick = argv.includes("--quick");
  const withFp32 = !argv.includes("--no-fp32");
  const runs = quick ? 5 : 21;
  const warmup = quick ? 2 : 5;
  console.log(`# bench:peers (node ${process.version}, onnxruntime-web ${ort.env.versions.web}, wasm, 1 thread; load ${loadavg().map((l) => l.toFixed(2)).join(" ")})`);

  ort.env.wasm.numThreads = 1;
  const peers: { name: string; session: ort.InferenceSession }[] = [];
  for (const dtype of withFp32 ? (["int8", "fp32"] as const) : (["int8"] as const)) {
    const session = await ort.InferenceSession.create(graph(dtype), { executionProviders: ["wasm"], graphOptimizationLevel: "all" });
    peers.push({ name: `ort-web-${dtype}`, session });
  }
  console.log("  generating our synthetic ultrafastbert-1x11-12l package in memory …");
  const pkg = await synthPackage("ultrafastbert-1x11-12l");
  const engine = await Engine.create(pkg, loadKernel());

  // onnxruntime's 14 MB module starts in Liftoff and tiers up in the background (baselines.md §7.3):
  // run every peer for a few seconds before the first measurement
  const warmIds = new ort.Tensor("int64", BigInt64Array.from(randomIds(16, BERT_BASE.vocab, 1).map(BigInt)), [1, 16]);
  for (const p of peers) for (const t0 = performance.now(); performance.now() - t0 < (quick ? 1000 : 4000);) await p.session.run({ input_ids: warmIds });

  const rows: Row[] = [];
  for (const seq of [16, 64, 128]) {
    const ids = randomIds(seq, pkg.config.vocabSize, seq);
    const peerIds = new ort.Tensor("int64", BigInt64Array.from(randomIds(seq, BERT_BASE.vocab, seq).map(BigInt)), [1, seq]);
    const ours = async () => {
      const t = performance.now();
      await engine.run({ sequences: [{ ids }], hidden: true });
      return performance.now() - t;
    };
    const peer = (s: ort.InferenceSession) => async () => {
      const t = performance.now();
      await s.run({ input_ids: peerIds });
      return performance.now() - t;
    };
    const fns = [ours, ...peers.map((p) => peer(p.session))];
    for (let i = 0; i < warmup; i++) for (const f of fns) await f();
    // interleaved: one run of each per round, so load drift hits all alike
    const samples = fns.map(() => [] as number[]);
    for (let r = 0; r < runs; r++) for (let j = 0; j < fns.length; j++) samples[j].push(await fns[j]());
    const oursMs = median(samples[0]);
    peers.forEach((p, j) => {
      const peerMs = median(samples[j + 1]);
      rows.push({ name: `encoder.s${seq}`, ours_ms: round(oursMs), peer: p.name, peer_ms: round(peerMs), ratio: round(peerMs / oursMs) });
    });
    console.log(`  seq ${seq}: ours ${oursMs.toFixed(1)} ms, ` + peers.map((p, j) => `${p.name} ${median(samples[j + 1]).toFixed(1)} ms`).join(", "));
  }
  console.log("\n| name | ours (ms) | peer | peer (ms) | peer ÷ ours |\n| --- | ---: | --- | ---: | ---: |");
  for (const r of rows) console.log(`| ${r.name} | ${r.ours_ms} | ${r.peer} | ${r.peer_ms} | ${r.ratio} |`);
  console.log(`\n(medians of ${runs} interleaved runs after ${warmup} warm-up runs each; load after: ${loadavg().map((l) => l.toFixed(2)).join(" ")})`);
  mkdirSync(new URL("./", RESULTS), { recursive: true });
  writeFileSync(RESULTS, `${JSON.stringify(rows, null, 1)}\n`);
  console.log("wrote bench/results/peers.json");
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}

main(process.argv.slice(2)).catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
