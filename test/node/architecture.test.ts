/**
 * docs/architecture.md's room table is the allow-list of imports between rooms: every relative import of
 * every file of a room must land in the same room or in one its row lists under "may import".
 */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const REPO = fileURLToPath(new URL("../..", import.meta.url));

interface Room {
  path: string;
  mayImport: string[];
}

/** Rows of the table under "## Rooms": | `room` | job | `a`, `b` or — |. */
function readRooms(): Room[] {
  const doc = readFileSync(join(REPO, "docs/architecture.md"), "utf8");
  const section = doc.slice(doc.indexOf("## Rooms"), doc.indexOf("\n## ", doc.indexOf("## Rooms") + 1));
  const rooms: Room[] = [];
  for (const line of section.split("\n")) {
    const cells = line.split("|").map((c) => c.trim());
    const path = /^`([^`]+)`$/.exec(cells[1] ?? "")?.[1];
    if (!path) continue;
    rooms.push({ path, mayImport: [...(cells[3] ?? "").matchAll(/`([^`]+)`/g)].map((m) => m[1]) });
  }
  return rooms;
}

function filesOf(path: string): string[] {
  const abs = join(REPO, path);
  if (!statSync(abs).isDirectory()) return [path];
  return readdirSync(abs).flatMap((name) => {
    const child = join(path, name);
    if (statSync(join(REPO, child)).isDirectory()) return name === "build" ? [] : filesOf(child + "/");
    return name.endsWith(".ts") ? [child] : [];
  });
}

/** Relative specifiers of import/export statements and dynamic imports (comments stripped). */
function relativeImports(file: string): string[] {
  const text = readFileSync(join(REPO, file), "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  return [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)"(\.{1,2}\/[^"]+)"/gm)].map((m) => m[1]);
}

const rooms = readRooms();
const roomOf = (path: string): Room | undefined =>
  rooms.filter((r) => path === r.path || (r.path.endsWith("/") && path.startsWith(r.path))).sort((a, b) => b.path.length - a.path.length)[0];

describe("docs/architecture.md room table", () => {
  it("should list the rooms of src/ and wasm/", () => {
    expect(rooms.length).toBeGreaterThan(5);
    for (const file of [...filesOf("src/"), ...filesOf("wasm/")]) expect(roomOf(file)?.path, `${file} belongs to no room`).toBeDefined();
  });

  it.each(readRooms().map((r) => [r.path, r] as const))("%s should import only the rooms its row lists", (_path, room) => {
    const wrong: string[] = [];
    for (const file of filesOf(room.path)) {
      for (const spec of relativeImports(file)) {
        const target = relative(REPO, resolve(REPO, dirname(file), spec));
        const to = roomOf(target);
        if (to?.path === room.path) continue;
        if (!to || !room.mayImport.includes(to.path)) wrong.push(`${file} imports ${target} (room ${to?.path ?? "none"})`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
