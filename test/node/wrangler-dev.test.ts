/**
 * scripts/lib/wrangler-dev.ts against a real `wrangler dev`: a port taken between choosing it and wrangler
 * binding it (the race that once failed CI's playground test) costs one more start, not the run. And
 * scripts/lib/inspector.ts (bench:load --heap) through that server's inspector.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { IsolateInspector } from "../../scripts/lib/inspector.ts";
import { type DevServer, freePort, startDevOnFreePort } from "../../scripts/lib/wrangler-dev.ts";

const tmp = mkdtempSync(join(tmpdir(), "ufb-wrangler-dev-"));
const logFile = join(tmp, "wrangler.log");
let squatter: Server | undefined;
let server: DevServer | undefined;
let inspected: DevServer | undefined;

afterAll(async () => {
  await server?.stop();
  await inspected?.stop();
  squatter?.close();
  rmSync(tmp, { recursive: true, force: true });
});

it("starts again on another port when the chosen one was taken meanwhile", async () => {
  const taken = await freePort();
  squatter = createServer();
  await new Promise<void>((resolve) => squatter!.listen(taken, "127.0.0.1", resolve));
  const offered: number[] = [];
  const pickPort = async () => {
    const port = offered.length === 0 ? taken : await freePort();
    offered.push(port);
    return port;
  };
  server = await startDevOnFreePort({ output: { logFile }, args: ["--persist-to", join(tmp, "state"), "--log-level", "warn"] }, 180, 3, pickPort);
  expect(offered.length).toBe(2);
  expect(offered[1]).not.toBe(taken);
  expect(server.url).toBe(`http://127.0.0.1:${offered[1]}`);
  expect(readFileSync(logFile, "utf8")).toContain(`Address already in use (127.0.0.1:${taken})`);
  const res = await fetch(`${server.url}/healthz`);
  expect(res.status).toBe(200);
}, 300_000);

it("gives up with wrangler's own words when every try fails", async () => {
  const taken = await freePort();
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(taken, "127.0.0.1", resolve));
  try {
    const err = await startDevOnFreePort({ output: { logFile: join(tmp, "always-taken.log") }, args: ["--log-level", "warn"] }, 180, 2, async () => taken).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/wrangler dev exited \(code 1\) before it answered/);
    expect((err as Error).message).toContain("Address already in use");
  } finally {
    blocker.close();
  }
}, 300_000);

it("reads the Worker isolate's live JS heap through the inspector, one client at a time", async () => {
  inspected = await startDevOnFreePort({ output: { logFile: join(tmp, "inspected.log") }, args: ["--persist-to", join(tmp, "state2"), "--log-level", "warn"], inspector: true }, 180);
  expect(inspected.inspectorPort).toBeGreaterThan(0);
  const inspector = await IsolateInspector.connect(inspected.inspectorPort!);
  try {
    // the proxy takes one client: a second connection is turned away while the first holds it
    await expect(IsolateInspector.connect(inspected.inspectorPort!)).rejects.toThrow(/1013/);
    for (let i = 0; i < 20; i++) expect((await fetch(`${inspected.url}/healthz`)).status).toBe(200);
    const before = await inspector.heapUsage();
    expect(before.usedBytes).toBeGreaterThan(0);
    expect(before.totalBytes).toBeGreaterThanOrEqual(before.usedBytes);
    let pokes = 0;
    const live = await inspector.liveHeapBytes(async () => {
      pokes++;
      await (await fetch(`${inspected!.url}/healthz`)).arrayBuffer();
    });
    // an idle isolate runs the GC only once a request enters it
    expect(pokes).toBeGreaterThan(0);
    expect(live).toBeGreaterThan(0);
    expect(live).toBeLessThan(128 * 1024 * 1024);
  } finally {
    inspector.close();
  }
}, 300_000);
