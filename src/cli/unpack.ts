/**
 * `ufb unpack <package> <out-dir>`: the package's weights as f32 tensors (model.safetensors, checkpoint names,
 * q8 dequantized), its manifest config (package-config.json) and its tokenizer.json, for train/pipeline.py
 * --init <out-dir> and as an ingredient of train/soup.py (which compares the tokenizers byte for byte).
 */
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { encodeSafetensors } from "../weights/convert/safetensors.ts";
import { unpackTensors } from "../weights/convert/unpack.ts";
import { parse } from "./args.ts";
import { openPackageDir } from "./files.ts";

export const UNPACK_USAGE = `  unpack <package-dir> <out-dir>
      Write the package's weights as f32 tensors (model.safetensors under the checkpoint names, q8
      dequantized), its config (package-config.json) and tokenizer.json: train/pipeline.py --init <out-dir>
      continues from it, train/soup.py averages it with checkpoints of the same model.`;

export async function unpackCommand(argv: string[]): Promise<number> {
  const { positionals } = parse(argv, {}, ["package", "out-dir"]);
  const [dir, outDir] = positionals;
  const { pkg, close } = await openPackageDir(dir);
  try {
    const tensors = await unpackTensors(pkg);
    await mkdir(outDir, { recursive: true });
    await writeFile(join(outDir, "model.safetensors"), encodeSafetensors(tensors, { format: "pt", source: pkg.manifest.name }));
    await copyFile(join(dir, "tokenizer.json"), join(outDir, "tokenizer.json"));
    await writeFile(join(outDir, "package-config.json"), JSON.stringify({ name: pkg.manifest.name, config: pkg.config }, null, 1) + "\n");
    const values = tensors.reduce((a, t) => a + t.data.length, 0);
    console.log(`ufb unpack: ${tensors.length} tensors, ${(values / 1e6).toFixed(2)} M values → ${join(outDir, "model.safetensors")}`);
    return 0;
  } finally {
    await close();
  }
}
