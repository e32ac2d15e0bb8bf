/**
 * `ufb unpack <package> <out-dir>`: the package's weights as f32 tensors (model.safetensors, checkpoint names,
 * q8 dequantized) and its manifest config (package-config.json), for train/pipeline.py --init <out-dir>.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { encodeSafetensors } from "../weights/convert/safetensors.ts";
import { unpackTensors } from "../weights/convert/unpack.ts";
import { parse } from "./args.ts";
import { openPackageDir } from "./files.ts";

export const UNPACK_USAGE = `  unpack <package-dir> <out-dir>
      Write the package's weights as f32 tensors (model.safetensors under the checkpoint names, q8
      dequantized) and its config (package-config.json): train/pipeline.py --init <out-dir> continues from it.`;

export async function unpackCommand(argv: string[]): Promise<number> {
  const { positionals } = parse(argv, {}, ["package", "out-dir"]);
  const [dir, outDir] = positionals;
  const { pkg, close } = await openPackageDir(dir);
  try {
    const tensors = await unpackTensors(pkg);
    await mkdir(outDir, { recursive: true });
    await writeFile(join(outDir, "model.safetensors"), encodeSafetensors(tensors, { format: "pt", source: pkg.manifest.name }));
    await writeFile(join(outDir, "package-config.json"), JSON.stringify({ name: pkg.manifest.name, config: pkg.config }, null, 1) + "\n");
    const values = tensors.reduce((a, t) => a + t.data.length, 0);
    console.log(`ufb unpack: ${tensors.length} tensors, ${(values / 1e6).toFixed(2)} M values → ${join(outDir, "model.safetensors")}`);
    return 0;
  } finally {
    await close();
  }
}
