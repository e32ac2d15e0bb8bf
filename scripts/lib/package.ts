/**
 * A package folder (docs/format.md §2) as it goes into a bucket: the content version and the keys of
 * the layout the Worker reads (src/service/registry.ts):
 *
 *   models/<name>/<version>/weights.bin
 *   models/<name>/<version>/tokenizer.json
 *   models/<name>/<version>/manifest.json     written after the two above: a version with a manifest is complete
 *   models/<name>/current                      the version a bare name means; written last
 *
 * The default version is a content version: the first 12 hex digits of sha256(manifest.json). The manifest
 * holds the sha256 of the tokenizer and of every piece of weights.bin, so a changed package gets a new
 * version and a version never changes (the Worker caches versions forever and pins reads to an etag).
 */
import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseManifest } from "../../src/weights/format/manifest.ts";
import { UsageError as PackageDirError } from "../../src/errors.ts";
import { NAME, type PackageFileName } from "../../src/weights/format/bucket.ts";

export { NAME, currentKey, objectKey, versionPrefix } from "../../src/weights/format/bucket.ts";

export interface PackageFile {
  /** File name inside the package folder and inside models/<name>/<version>/. */
  file: PackageFileName;
  path: string;
  bytes: number;
  contentType: string;
}

export interface PackageDir {
  dir: string;
  /** sha256 of manifest.json, hex. */
  manifestSha256: string;
  /** The content version: manifestSha256.slice(0, 12). */
  contentVersion: string;
  /** In upload order: weights, tokenizer, manifest last. */
  files: PackageFile[];
  /** manifest.name (the preset or checkpoint name; the bucket name of the model may differ). */
  manifestName: string;
  totalBytes: number;
}

/** A package folder or a command line the scripts cannot use (exit status 2): the project's UsageError. */
export { UsageError as PackageDirError } from "../../src/errors.ts";

/** Reads and checks a package folder: manifest parses, the two other files exist with the sizes it names. */
export function readPackageDir(dir: string): PackageDir {
  const abs = resolve(dir);
  const manifestPath = join(abs, "manifest.json");
  let raw: Buffer;
  try {
    raw = readFileSync(manifestPath);
  } catch {
    throw new PackageDirError(`${dir}: no manifest.json (expected a package folder: manifest.json, tokenizer.json, weights.bin)`);
  }
  let manifest;
  try {
    manifest = parseManifest(new Uint8Array(raw));
  } catch (e) {
    throw new PackageDirError(`${manifestPath}: ${(e as Error).message}`);
  }
  const files: PackageFile[] = [];
  const expect = [
    { file: "weights.bin" as const, bytes: manifest.weights.bytes, contentType: "application/octet-stream" },
    { file: "tokenizer.json" as const, bytes: manifest.tokenizer.bytes, contentType: "application/json" },
  ];
  for (const e of expect) {
    const path = join(abs, e.file);
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      throw new PackageDirError(`${path}: missing`);
    }
    if (size !== e.bytes) throw new PackageDirError(`${path}: ${size} bytes, manifest.json says ${e.bytes}`);
    files.push({ file: e.file, path, bytes: size, contentType: e.contentType });
  }
  files.push({ file: "manifest.json", path: manifestPath, bytes: raw.length, contentType: "application/json" });
  const manifestSha256 = createHash("sha256").update(raw).digest("hex");
  return {
    dir: abs,
    manifestSha256,
    contentVersion: manifestSha256.slice(0, 12),
    files,
    manifestName: manifest.name,
    totalBytes: files.reduce((n, f) => n + f.bytes, 0),
  };
}


export function checkName(what: string, value: string): string {
  if (!NAME.test(value)) throw new PackageDirError(`${what} ${JSON.stringify(value)}: expected 1-64 characters of [A-Za-z0-9._-], starting with a letter or digit`);
  return value;
}

// one byte formatter for the CLI and the scripts
export { fmtBytes } from "../../src/cli/report.ts";
