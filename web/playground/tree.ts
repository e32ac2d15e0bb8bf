/**
 * One FFF path as an SVG picture. Node indices are heap order (root 0, children 2n+1 left and 2n+2 right,
 * the rule of fffDescend). The top levels are drawn as the whole tree with the visited nodes lit; below them
 * a full tree would need 2^depth columns (512 for depth 9), so each deeper level is one row showing only the
 * two children of the node above, the taken one lit. That keeps depth 9–11 trees about 250 px tall.
 */
export const TOP_LEVELS = 4;
const W = 240;
const ROW = 24;
const R = 6;
const PAD = 14;

/** x of a node drawn in the full top tree. */
function topX(node: number, level: number): number {
  const pos = node - (2 ** level - 1);
  return PAD + ((pos + 0.5) * (W - 2 * PAD)) / 2 ** level;
}

/** The SVG markup for `path` (visited node indices, root first); only numbers go into it. */
export function pathSvg(path: readonly number[], attrs: { layer: number; tree: number }): string {
  const levels = path.length;
  const top = Math.min(levels, TOP_LEVELS);
  const y = (l: number) => PAD + l * ROW;
  const onPath = new Set(path);
  const edges: string[] = [];
  const nodes: string[] = [];
  const circle = (x: number, l: number, n: number, lit: boolean) =>
    nodes.push(`<circle class="node${lit ? " lit" : ""}" data-level="${l}" data-node="${n}" cx="${x.toFixed(1)}" cy="${y(l)}" r="${R}"><title>level ${l}, node ${n}</title></circle>`);
  const edge = (x1: number, l1: number, x2: number, lit: boolean) =>
    edges.push(`<line class="edge${lit ? " lit" : ""}" x1="${x1.toFixed(1)}" y1="${y(l1)}" x2="${x2.toFixed(1)}" y2="${y(l1 + 1)}"/>`);

  for (let l = 0; l < top; l++) {
    for (let n = 2 ** l - 1; n < 2 ** (l + 1) - 1; n++) {
      const lit = path[l] === n;
      circle(topX(n, l), l, n, lit);
      if (l > 0) {
        const parent = (n - 1) >> 1;
        edge(topX(parent, l - 1), l - 1, topX(n, l), lit && onPath.has(parent));
      }
    }
  }
  // deeper levels: the two children of the previous visited node, around its x
  let px = topX(path[top - 1], top - 1);
  for (let l = top; l < levels; l++) {
    const parent = path[l - 1];
    const cx = Math.min(W - PAD - 16, Math.max(PAD + 20, px)); // room for the level number on the left
    let litX = cx;
    for (const [n, x] of [[2 * parent + 1, cx - 14], [2 * parent + 2, cx + 14]] as const) {
      const lit = path[l] === n;
      if (lit) litX = x;
      edge(px, l - 1, x, lit);
      circle(x, l, n, lit);
    }
    nodes.push(`<text x="2" y="${y(l) + 3}">${l}</text>`);
    px = litX;
  }
  const h = y(levels - 1) + PAD;
  return `<svg xmlns="http://www.w3.org/2000/svg" class="fff-path" data-layer="${attrs.layer}" data-tree="${attrs.tree}" width="${W}" height="${h}" viewBox="0 0 ${W} ${h}" role="img" aria-label="layer ${attrs.layer + 1}, tree ${attrs.tree + 1}: ${path.map((n, i) => (i === 0 ? "root" : n % 2 ? "left" : "right")).join(" ")}">${edges.join("")}${nodes.join("")}</svg>`;
}
