/**
 * The Worker isolate's JavaScript heap, read through `wrangler dev`'s inspector (the Chrome DevTools Protocol
 * proxy on --inspector-port, 9229 by default). `/healthz?verbose=1` sees kernel memory and the block cache, and a
 * process's RSS sees the whole local simulator; this sees the isolate's own objects, after a full GC, which is
 * what a leak in our TypeScript would grow.
 *
 * Two facts of the proxy shape the code: it accepts one client at a time (a second gets close code 1013, so
 * DevTools must be closed), and it wants an Origin header it trusts (localhost). workerd runs a GC request
 * only when something enters the isolate, so `liveHeapBytes` pokes it with a request until the GC answers.
 */

interface Reply { id: number; result?: Record<string, unknown>; error?: { message: string } }

export interface HeapUsage { usedBytes: number; totalBytes: number }

export class IsolateInspector {
  private nextId = 0;
  private readonly pending = new Map<number, (reply: Reply) => void>();
  private readonly ws: WebSocket;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.addEventListener("message", (ev) => {
      const reply = JSON.parse(String(ev.data)) as Reply;
      this.pending.get(reply.id)?.(reply);
      this.pending.delete(reply.id);
    });
    // the proxy may accept the connection and close it at once (1013: another client holds it)
    ws.addEventListener("close", (ev) => {
      for (const [id, answer] of this.pending) answer({ id, error: { message: `the inspector closed the connection: ${ev.code} ${ev.reason}` } });
      this.pending.clear();
    });
  }

  /** Connects to the inspector on `port` and enables the domains the heap calls need. */
  static async connect(port: number, host = "127.0.0.1", timeoutMs = 10_000): Promise<IsolateInspector> {
    // Node's WebSocket takes headers as an extension of the standard constructor
    const init = { headers: { Origin: "http://localhost" } } as unknown as string[];
    const ws = new WebSocket(`ws://${host}:${port}/ws`, init);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`inspector ws://${host}:${port}/ws: no connection within ${timeoutMs} ms`)), timeoutMs);
      ws.addEventListener("open", () => (clearTimeout(timer), resolve()), { once: true });
      ws.addEventListener("error", () => (clearTimeout(timer), reject(new Error(`inspector ws://${host}:${port}/ws: connection failed`))), { once: true });
      ws.addEventListener("close", (ev) => (clearTimeout(timer), reject(new Error(`inspector ws://${host}:${port}/ws closed: ${ev.code} ${ev.reason}`))), { once: true });
    });
    const inspector = new IsolateInspector(ws);
    await inspector.call("Runtime.enable");
    await inspector.call("HeapProfiler.enable");
    return inspector;
  }

  private call(method: string, timeoutMs = 10_000): Promise<Record<string, unknown>> {
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => (this.pending.delete(id), reject(new Error(`inspector: ${method} got no answer within ${timeoutMs} ms`))), timeoutMs);
      this.pending.set(id, (reply) => {
        clearTimeout(timer);
        if (reply.error) reject(new Error(`inspector: ${method}: ${reply.error.message}`));
        else resolve(reply.result ?? {});
      });
      this.ws.send(JSON.stringify({ id, method }));
    });
  }

  /** The heap as it is now, garbage included. */
  async heapUsage(): Promise<HeapUsage> {
    const r = await this.call("Runtime.getHeapUsage");
    return { usedBytes: Number(r.usedSize), totalBytes: Number(r.totalSize) };
  }

  /**
   * Bytes the isolate's heap still holds after a full garbage collection. `poke` must make the isolate run
   * (one cheap request, e.g. GET /healthz); it is called every 250 ms until the collection has run.
   */
  async liveHeapBytes(poke: () => Promise<void>, timeoutMs = 20_000): Promise<number> {
    let collected = false;
    const gc = this.call("HeapProfiler.collectGarbage", timeoutMs).then(() => (collected = true));
    const t0 = performance.now();
    while (!collected && performance.now() - t0 < timeoutMs) {
      await Promise.race([gc, new Promise((r) => setTimeout(r, 250))]);
      if (!collected) await poke().catch(() => {});
    }
    await gc;
    return (await this.heapUsage()).usedBytes;
  }

  close(): void {
    this.ws.close();
  }
}
