/**
 * What a bucket should hold for a package version and what it does hold, compared object by object (size
 * and sha256 of the bytes, never metadata a writer could have got wrong), and the writes that repair the
 * difference, in the order the Worker needs: weights.bin and tokenizer.json before manifest.json (a version
 * with a manifest is complete), models/<name>/current last. The one comparison for `npm run dev`'s local
 * seeding (local-bucket.ts, through the R2 binding) and `npm run upload` (upload.ts, through wrangler).
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { fmtBytes } from "./package.ts";

/** An object's bytes, as far as the comparison needs them. */
export interface Digest {
  size: number;
  /** sha256 of the bytes, hex. */
  sha256: string;
}

export function digestOf(bytes: Uint8Array | string): Digest {
  const b = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
  return { size: b.length, sha256: createHash("sha256").update(b).digest("hex") };
}

/** A file's digest, streamed (a package's weights.bin may be large). */
export function digestOfFile(path: string): Promise<Digest> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    let size = 0;
    createReadStream(path)
      .on("data", (chunk) => {
        size += chunk.length;
        hash.update(chunk);
      })
      .once("error", reject)
      .once("end", () => resolve({ size, sha256: hash.digest("hex") }));
  });
}

/** null when the bucket holds exactly `want`; else what is wrong: "missing", or a size or sha256 mismatch. */
export function objectProblem(found: Digest | null, want: Digest): string | null {
  if (found === null) return "missing";
  if (found.size !== want.size) return `${found.size} bytes in the bucket, ${want.size} in the folder`;
  if (found.sha256 !== want.sha256) return `sha256 ${found.sha256.slice(0, 12)}… in the bucket, ${want.sha256.slice(0, 12)}… in the folder`;
  return null;
}

/** One object a version needs: its key, what it must hold, and (for the caller) where the bytes come from. */
export interface Wanted<T> {
  key: string;
  want: Digest;
  source: T;
}

export interface SyncStep<T> extends Wanted<T> {
  /** "missing", or what differs (objectProblem). */
  problem: string;
}

export interface SyncPlan<T> {
  /** The objects to write, in order; `repair` are the ones that were there but differed. */
  writes: SyncStep<T>[];
  repairs: SyncStep<T>[];
  /** Keys whose objects are already exactly right. */
  intact: string[];
}

const rank = (key: string) => (key.endsWith("/current") ? 2 : key.endsWith("/manifest.json") ? 1 : 0);

/**
 * The writes that make the bucket hold `wanted`, given what `found` says each key holds now (null: no such
 * object). Keys absent from `found` are an error (the caller must look at every object).
 */
export function planSync<T>(wanted: Wanted<T>[], found: ReadonlyMap<string, Digest | null>): SyncPlan<T> {
  const writes: SyncStep<T>[] = [];
  const intact: string[] = [];
  for (const w of wanted) {
    if (!found.has(w.key)) throw new Error(`planSync: ${w.key} was not looked at`);
    const problem = objectProblem(found.get(w.key)!, w.want);
    if (problem === null) intact.push(w.key);
    else writes.push({ ...w, problem });
  }
  // stable: weights and tokenizer in the given order, then the manifest, then the pointer
  writes.sort((a, b) => rank(a.key) - rank(b.key));
  return { writes, repairs: writes.filter((s) => s.problem !== "missing"), intact };
}

/** One line per write, as the scripts print it. */
export function describeStep(step: SyncStep<unknown>): string {
  return step.problem === "missing" ? `put ${step.key} (${fmtBytes(step.want.size)})` : `repair ${step.key}: ${step.problem}`;
}
