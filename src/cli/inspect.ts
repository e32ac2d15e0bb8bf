/**
 * `ufb inspect <package>`: config, sizes per segment, neurons and bytes a token touches per layer, and
 * hash verification (header, tokenizer, dense by default; every block and tile with --verify-all).
 */
import { parse } from "./args.ts";
import { openPackageDir } from "./files.ts";
import { describeModel, describeQuantization, fmtBytes, perTokenCosts } from "./report.ts";

export const INSPECT_OPTIONS = {
  "verify-all": { type: "boolean" },
  json: { type: "boolean" },
} as const;

export async function inspectCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, INSPECT_OPTIONS, ["package"]);
  const [dir] = positionals;
  const { pkg, close } = await openPackageDir(dir);
  try {
    const m = pkg.manifest;
    // verification first: a package that fails it is reported as an error, not described
    await pkg.readHeader();
    await pkg.readTokenizer();
    await pkg.readDense();
    const verified: Record<string, number | boolean> = { header: true, tokenizer: true, dense: true };
    if (values["verify-all"]) {
      pkg.resetStats();
      const { pieces } = await pkg.verifyAll();
      verified.embeddingBlocks = pkg.embeddings.blocks.length;
      verified.fffTiles = pkg.fffSegments.length * pkg.fff.trees * pkg.fff.tilesPerTree;
      verified.pieces = pieces;
    }
    const cost = perTokenCosts(m);
    const g = cost.geometry;
    const segments = m.segments.map((s) => ({
      name: s.name,
      offset: s.offset,
      length: s.length,
      pieces: s.kind === "dense" ? `${m.tensors.length} tensors, 1 hash` : s.kind === "embeddings" ? `${s.blocks.length} blocks of ${s.rowsPerBlock} rows × ${s.rowBytes} B` : `${s.trees} × ${s.tilesPerTree} tiles`,
    }));
    if (values.json) {
      console.log(JSON.stringify({
        package: dir,
        format: m.format,
        version: m.version,
        name: m.name,
        dtype: m.quantization.dtype,
        config: m.config,
        specialTokens: m.specialTokens,
        quantization: m.quantization,
        created: m.created,
        weightsBytes: m.weights.bytes,
        tokenizerBytes: m.tokenizer.bytes,
        segments,
        fff: {
          tileDepth: g.tileDepth,
          tiers: g.tiers.map((t) => ({ levels: t.levels, tiles: t.tiles, tileBytes: t.tileBytes })),
          recordBytes: g.recordBytes,
          neuronsPerLayer: cost.neuronsPerLayer,
          neuronsPerToken: cost.neuronsPerToken,
          recordBytesPerToken: cost.recordBytesPerToken,
          tilesPerToken: cost.tilesPerToken,
          tileBytesPerToken: cost.tileBytesPerToken,
        },
        embeddings: { rowBytes: cost.embeddingRowBytes, blockBytes: cost.embeddingBlockBytes },
        verified,
      }, null, 2));
      return 0;
    }
    const out: string[] = [];
    out.push(`package    ${dir}: ${m.format} v${m.version}, ${m.quantization.dtype === "q8" ? "int8 (q8)" : "f32"}`);
    out.push(`created    by ${m.created.by}${m.created.at ? ` at ${m.created.at}` : ""} from ${JSON.stringify(m.created.from)}`);
    out.push(describeModel(m));
    const sp = Object.entries(m.specialTokens).map(([k, v]) => `${k}=${v}`).join(" ");
    out.push(`  specials   ${sp || "(none)"}`);
    const q = describeQuantization(m);
    if (q) out.push(q);
    out.push(`files      manifest.json, tokenizer.json ${fmtBytes(m.tokenizer.bytes)}, weights.bin ${fmtBytes(m.weights.bytes)}`);
    out.push(`  segment        offset       length  pieces`);
    for (const s of segments) out.push(`  ${s.name.padEnd(12)} ${String(s.offset).padStart(10)} ${String(s.length).padStart(12)}  ${s.pieces}`);
    const fffTotal = m.segments.filter((s) => s.kind === "fff").reduce((a, s) => a + s.length, 0);
    out.push(`  totals: embeddings ${fmtBytes(pkg.embeddings.length)}, dense ${fmtBytes(pkg.dense.length)}, fff ${fmtBytes(fffTotal)}`);
    const pct = ((100 * cost.neuronsPerToken) / cost.neuronsPerLayer).toFixed(2);
    out.push(`per layer  FFF neurons ${cost.neuronsPerLayer} total, ${cost.neuronsPerToken} per token (${pct} %); record ${g.recordBytes} B`);
    out.push(`           per token path: ${cost.recordsPerToken} records = ${fmtBytes(cost.recordBytesPerToken)} touched; ${cost.tilesPerToken} tiles read = ${fmtBytes(cost.tileBytesPerToken)}`);
    out.push(`           tiles: depth ${g.tileDepth}, ${g.tiers.map((t) => `tier ${t.tier}: ${t.tiles} × ${t.levels} levels (${t.recordsPerTile} records, ${t.tileBytes} B)`).join("; ")}`);
    out.push(`per token  embedding row ${cost.embeddingRowBytes} B (block ${fmtBytes(cost.embeddingBlockBytes)}); dense ${fmtBytes(pkg.dense.length)} read once`);
    out.push(
      values["verify-all"]
        ? `verified   header, tokenizer, dense, ${verified.embeddingBlocks} embedding blocks, ${verified.fffTiles} fff tiles: all sha256 match`
        : `verified   header, tokenizer, dense: sha256 match (--verify-all checks every block and tile)`,
    );
    console.log(out.join("\n"));
    return 0;
  } finally {
    await close();
  }
}
