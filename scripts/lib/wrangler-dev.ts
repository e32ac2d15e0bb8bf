/**
 * Starting and stopping `wrangler dev` from a script (edge-stack.md §11). We spawn wrangler's real CLI
 * (node_modules/wrangler/wrangler-dist/cli.js) with this Node (24, from the `node` devDependency), not the
 * npx/bin wrapper, so the PID we hold is the one whose SIGTERM takes workerd and esbuild down with it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, existsSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { REPO } from "./config.ts";

export const WRANGLER_CLI = join(REPO, "node_modules/wrangler/wrangler-dist/cli.js");

export interface DevOptions {
  ip?: string;
  port?: number;
  /** The inspector's port (`--inspector-port`; wrangler's default is 9229, or the next free one). */
  inspectorPort?: number;
  /** Extra `--var KEY:VALUE` pairs (override wrangler.toml [vars] and .dev.vars). */
  vars?: Record<string, string>;
  /** Further wrangler dev arguments. */
  args?: string[];
  /** "inherit" (npm run dev), or a log file path (benchmarks). */
  output: "inherit" | { logFile: string };
  /** Seconds to wait for GET /healthz (default 120: the first start bundles the Worker). */
  readyTimeoutS?: number;
}

export interface DevServer {
  child: ChildProcess;
  url: string;
  /** SIGTERM to wrangler's CLI process (stops workerd too), SIGKILL after `graceMs`; resolves when it exited. */
  stop(graceMs?: number): Promise<void>;
  exited: Promise<number | null>;
  /** Where its output goes, when not inherited. */
  logFile?: string;
  /** The inspector's port, when the options chose one (scripts/lib/inspector.ts connects to it). */
  inspectorPort?: number;
}

export function startDev(o: DevOptions): DevServer {
  const ip = o.ip ?? "127.0.0.1";
  const port = o.port ?? 8787;
  const args = ["--no-warnings", WRANGLER_CLI, "dev", "--ip", ip, "--port", String(port)];
  if (o.inspectorPort !== undefined) args.push("--inspector-port", String(o.inspectorPort));
  for (const [k, v] of Object.entries(o.vars ?? {})) args.push("--var", `${k}:${v}`);
  args.push(...(o.args ?? []));
  const env = { ...process.env, WRANGLER_SEND_METRICS: "false" };
  let child: ChildProcess;
  if (o.output === "inherit") {
    child = spawn(process.execPath, args, { cwd: REPO, env, stdio: "inherit" });
  } else {
    const log = createWriteStream(o.output.logFile, { flags: "a" });
    child = spawn(process.execPath, [...args, "--show-interactive-dev-session=false"], { cwd: REPO, env, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout!.pipe(log, { end: false });
    child.stderr!.pipe(log, { end: false });
  }
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code, signal) => resolve(code ?? (signal ? 128 : null))));
  const url = `http://${ip.includes(":") ? `[${ip}]` : ip}:${port}`;
  return {
    child,
    url,
    exited,
    logFile: o.output === "inherit" ? undefined : o.output.logFile,
    inspectorPort: o.inspectorPort,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Polls GET /healthz until it answers 200; fails early when wrangler exits. */
export async function waitReady(server: DevServer, timeoutS = 120): Promise<number> {
  const t0 = performance.now();
  let exited = false;
  void server.exited.then(() => (exited = true));
  while (performance.now() - t0 < timeoutS * 1000) {
    if (exited) throw new Error(`wrangler dev exited (code ${await server.exited}) before it answered ${server.url}/healthz${logTail(server)}`);
    try {
      const res = await fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) return performance.now() - t0;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`wrangler dev did not answer ${server.url}/healthz within ${timeoutS} s${logTail(server)}`);
}

/**
 * `startDev` + `waitReady` on a port that was free a moment ago. Between freePort() closing its probe and
 * wrangler binding the port, another process can take it (a test run starts dozens of workerd processes on
 * random ports): wrangler then exits with "Address already in use", and we try again on a new port. Any
 * other failure is thrown as it is. `inspector: true` chooses the inspector's port the same way (each try anew).
 */
export async function startDevOnFreePort(
  o: Omit<DevOptions, "port" | "output" | "inspectorPort"> & { output: { logFile: string }; inspector?: boolean },
  readyTimeoutS = 120,
  attempts = 3,
  pickPort: (ip?: string) => Promise<number> = freePort,
): Promise<DevServer> {
  for (let attempt = 1; ; attempt++) {
    const logStart = existsSync(o.output.logFile) ? statSync(o.output.logFile).size : 0;
    const port = await pickPort(o.ip);
    const server = startDev({ ...o, port, inspectorPort: o.inspector ? await pickPort(o.ip) : undefined });
    try {
      await waitReady(server, readyTimeoutS);
      return server;
    } catch (e) {
      await server.stop();
      const logged = existsSync(o.output.logFile) ? readFileSync(o.output.logFile).subarray(logStart).toString("utf8") : "";
      if (attempt >= attempts || !logged.includes("Address already in use")) throw e;
    }
  }
}

/** The last lines wrangler wrote, for an error message (its own words say why it stopped). */
function logTail(server: DevServer, lines = 30): string {
  if (!server.logFile || !existsSync(server.logFile)) return "";
  const tail = readFileSync(server.logFile, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  return tail ? `; the end of ${server.logFile}:\n${tail}` : "";
}

/** A TCP port that is free on `ip` right now. */
export function freePort(ip = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, ip, () => {
      const a = s.address();
      s.close(() => (a && typeof a === "object" ? resolve(a.port) : reject(new Error("no port"))));
    });
  });
}

/** Whether something already listens on ip:port. */
export function portInUse(port: number, ip = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(true));
    s.listen(port, ip, () => s.close(() => resolve(false)));
  });
}
