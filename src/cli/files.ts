/**
 * Node file access for the CLI: a WeightSource and a ByteSink over files, reading a checkpoint folder,
 * and writing / opening a package folder.
 */
import { constants } from "node:fs";
import { type FileHandle, access, mkdir, open, readFile, rename, rm, stat, writeFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import type { CheckpointFiles } from "../weights/convert/checkpoint.ts";
import { UfbError } from "../errors.ts";
import { type Manifest, manifestJson } from "../weights/format/manifest.ts";
import { WeightPackage } from "../weights/read/package.ts";
import { type ByteSink, type WeightSource, checkLength, checkRange } from "../weights/read/sources.ts";
import { type PackageInput, type WriteOptions, writePackage } from "../weights/convert/writer.ts";

export class FileSource implements WeightSource {
  readonly name: string;
  readonly size: number;
  private readonly handle: FileHandle;
  private constructor(path: string, handle: FileHandle, size: number) {
    this.name = path;
    this.handle = handle;
    this.size = size;
  }
  static async open(path: string): Promise<FileSource> {
    const handle = await open(path, "r").catch((e: NodeJS.ErrnoException) => {
      throw new UfbError("io", `${path}: ${e.code === "ENOENT" ? "no such file" : e.message}`);
    });
    return new FileSource(path, handle, (await handle.stat()).size);
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this, offset, length);
    const buf = new Uint8Array(length);
    let got = 0;
    while (got < length) {
      const { bytesRead } = await this.handle.read(buf, got, length - got, offset + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    checkLength(this, offset, length, got);
    return buf;
  }
  close(): Promise<void> {
    return this.handle.close();
  }
}

export class FileSink implements ByteSink {
  private readonly handle: FileHandle;
  private constructor(handle: FileHandle) {
    this.handle = handle;
  }
  static async create(path: string): Promise<FileSink> {
    return new FileSink(await open(path, "w"));
  }
  async write(chunk: Uint8Array): Promise<void> {
    let done = 0;
    while (done < chunk.length) done += (await this.handle.write(chunk, done, chunk.length - done)).bytesWritten;
  }
  close(): Promise<void> {
    return this.handle.close();
  }
}

const exists = (path: string) => access(path, constants.F_OK).then(() => true, () => false);

async function readOptional(path: string): Promise<Uint8Array | undefined> {
  return (await exists(path)) ? new Uint8Array(await readFile(path)) : undefined;
}

/** The files of a checkpoint folder; the caller closes `weights`. */
export async function readCheckpointDir(dir: string): Promise<CheckpointFiles & { weights: FileSource }> {
  const isDir = await stat(dir).then((s) => s.isDirectory(), () => false);
  if (!isDir) throw new UfbError("bad_checkpoint", `${dir}: not a directory`);
  const safetensors = join(dir, "model.safetensors");
  if (!(await exists(safetensors))) throw new UfbError("bad_checkpoint", `${dir}: missing model.safetensors`);
  const tokenizer = await readOptional(join(dir, "tokenizer.json"));
  if (!tokenizer) throw new UfbError("bad_checkpoint", `${dir}: missing tokenizer.json`);
  const config = await readOptional(join(dir, "config.json"));
  const modelConfig = await readOptional(join(dir, "model_config.json"));
  if (!config && !modelConfig) throw new UfbError("bad_checkpoint", `${dir}: missing config.json (or model_config.json)`);
  return { config, modelConfig, tokenizer, weights: await FileSource.open(safetensors) };
}

/**
 * Writes a package folder: weights.bin (through a temporary name), tokenizer.json, then manifest.json
 * last, so a folder with a manifest is always complete.
 */
export async function writePackageDir(outDir: string, input: PackageInput, options: WriteOptions & { force?: boolean }): Promise<Manifest> {
  if (await exists(join(outDir, "manifest.json"))) {
    if (!options.force) throw new UfbError("bad_argument", `${outDir}: already holds a package (manifest.json); use --force to replace it`);
    await rm(join(outDir, "manifest.json"));
  } else if (await exists(outDir)) {
    const isDir = await stat(outDir).then((s) => s.isDirectory());
    if (!isDir) throw new UfbError("bad_argument", `${outDir}: exists and is not a directory`);
    const entries = (await readdir(outDir)).filter((e) => !["weights.bin", "tokenizer.json", "weights.bin.partial"].includes(e));
    if (entries.length > 0 && !options.force) throw new UfbError("bad_argument", `${outDir}: not empty (${entries.slice(0, 3).join(", ")}); use --force to write there`);
  }
  await mkdir(outDir, { recursive: true });
  const partial = join(outDir, "weights.bin.partial");
  const sink = await FileSink.create(partial);
  let manifest: Manifest;
  try {
    manifest = await writePackage(input, sink, options);
  } catch (e) {
    await sink.close();
    await rm(partial, { force: true });
    throw e;
  }
  await sink.close();
  await rename(partial, join(outDir, "weights.bin"));
  await writeFile(join(outDir, "tokenizer.json"), input.tokenizer);
  await writeFile(join(outDir, "manifest.json.partial"), manifestJson(manifest));
  await rename(join(outDir, "manifest.json.partial"), join(outDir, "manifest.json"));
  return manifest;
}

/** Opens a package folder; `close()` releases the weights file. */
export async function openPackageDir(dir: string, options: { maxGap?: number } = {}): Promise<{ pkg: WeightPackage; close: () => Promise<void> }> {
  const manifestPath = join(dir, "manifest.json");
  if (!(await exists(manifestPath))) {
    throw new UfbError("bad_package", (await exists(dir)) ? `${dir}: no manifest.json (not a package, or an unfinished one)` : `${dir}: no such directory`);
  }
  const manifest = await readFile(manifestPath);
  const weights = await FileSource.open(join(dir, "weights.bin"));
  try {
    const pkg = await WeightPackage.open({
      manifest: new Uint8Array(manifest),
      tokenizer: async () => new Uint8Array(await readFile(join(dir, "tokenizer.json")).catch(() => {
        throw new UfbError("io", `${join(dir, "tokenizer.json")}: no such file`);
      })),
      weights,
      maxGap: options.maxGap,
    });
    return { pkg, close: () => weights.close() };
  } catch (e) {
    await weights.close();
    if (e instanceof UfbError && e.message.startsWith("manifest.json")) {
      throw new UfbError(e.code, `${manifestPath}${e.message.slice("manifest.json".length)}`);
    }
    throw e;
  }
}
