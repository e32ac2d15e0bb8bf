/**
 * A shipped classifier package as a distillation teacher: its logits (the engine's, int8 weights) over the sentences
 * of distill.u16.xz (prepare_reviews.ts distill), written as a float32 .npy [sentences, labels] in the order of the
 * file — the layout pipeline.py --label writes and --distill reads, so packages and GPU-trained teachers can be
 * averaged into one ensemble teacher (train/ensemble_logits.py).
 *
 *   npx node train/label.ts weights/ufb-sst2-2x9 --sentences .data/distill/distill.u16.xz --out .data/label/2x9.npy
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { openPackageDir } from "../src/cli/files.ts";
import { loadKernel } from "../src/cli/kernel.ts";
import { Engine } from "../src/model/engine.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    sentences: { type: "string" },
    out: { type: "string" },
    batch: { type: "string", default: "32" },
    limit: { type: "string" },
  },
});
if (positionals.length !== 1 || !values.sentences || !values.out) {
  console.error("usage: npx node train/label.ts <package dir> --sentences <distill.u16.xz> --out <logits.npy> [--batch 32] [--limit N]");
  process.exit(2);
}

/** The byte-plane uint16 stream of prepare_reviews.ts (all low bytes, then all high bytes), xz-compressed. */
function readU16Xz(path: string): Uint16Array {
  const planes = execFileSync("xz", ["-dc", path], { maxBuffer: 1 << 30 });
  const n = planes.length / 2;
  const ids = new Uint16Array(n);
  for (let i = 0; i < n; i++) ids[i] = planes[i] | (planes[n + i] << 8);
  return ids;
}

/** The sentences of a stream in which each starts at <cls>. */
function splitAt(ids: Uint16Array, cls: number): number[][] {
  const starts: number[] = [];
  ids.forEach((id, i) => { if (id === cls) starts.push(i); });
  return starts.map((s, k) => Array.from(ids.subarray(s, k + 1 < starts.length ? starts[k + 1] : ids.length)));
}

/** numpy's .npy v1.0 layout for a little-endian float32 matrix. */
function npyFloat32(data: Float32Array, rows: number, cols: number): Buffer {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows}, ${cols}), }`;
  header += " ".repeat(64 - ((10 + header.length + 1) % 64)) + "\n";
  const head = Buffer.alloc(10);
  head.write("\x93NUMPY", 0, "latin1");
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  return Buffer.concat([head, Buffer.from(header, "latin1"), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}

const { pkg, close } = await openPackageDir(positionals[0]);
const engine = await Engine.create(pkg, await loadKernel());
const labels = engine.config.labels?.length ?? 0;
if (labels === 0) throw new Error(`${positionals[0]}: not a classifier package`);
let sentences = splitAt(readU16Xz(values.sentences), engine.tokenizer.special.cls!);
if (values.limit) sentences = sentences.slice(0, Number(values.limit));
const out = new Float32Array(sentences.length * labels);
const batch = Number(values.batch);
const t0 = Date.now();
for (let i = 0; i < sentences.length; i += batch) {
  const chunk = sentences.slice(i, i + batch);
  const { logits } = await engine.run({ sequences: chunk.map((ids) => ({ ids })), logits: true });
  logits!.forEach((l, b) => out.set(l, (i + b) * labels));
  if ((i / batch) % 500 === 0) console.error(`${i + chunk.length}/${sentences.length} sentences, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}
writeFileSync(values.out, npyFloat32(out, sentences.length, labels));
console.log(`${values.out}: ${sentences.length} × ${labels} logits of ${positionals[0]} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
await close();
