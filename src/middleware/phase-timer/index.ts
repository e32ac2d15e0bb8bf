/**
 * @module
 * Phase timer middleware: gives the inference service a `PhaseTimer` and reports the phases as
 * Server-Timing metrics through `hono/timing`.
 */
import type { MiddlewareHandler } from "hono";
import { setMetric } from "hono/timing";
import type { AppEnv } from "../../http/env.ts";
import type { PhaseTimer } from "../../service/types.ts";

type Phase = Parameters<PhaseTimer["start"]>[0];
export type { Phase };

export type PhaseTimerOptions = {
  /** Description (`desc=`) of each phase in the Server-Timing header. */
  descriptions?: Partial<Record<Phase, string>>;
  /** Digits after the decimal point of `dur=`. */
  precision?: number;
  /** Clock in milliseconds; `performance.now()` by default. */
  now?: () => number;
};

/** Order of the metrics in the header, whatever order the service entered them. */
const PHASES: readonly Phase[] = ["load", "tokenize", "fetch", "compute"];

/**
 * Which open phase a moment belongs to when spans nest: a load or a weight fetch inside a run is not
 * compute time, so the innermost kind wins (load, then fetch, then tokenize, then compute).
 */
const PRECEDENCE: readonly Phase[] = ["load", "fetch", "tokenize", "compute"];

const DESCRIPTIONS: Record<Phase, string> = {
  load: "Model load (package open, R2 reads, cache fill)",
  tokenize: "Tokenize",
  fetch: "Weight fetch (R2 and cache)",
  compute: "Encoder and head (without fetch)",
};

/**
 * Wall time per phase, without overlap: every moment is counted once, for the phase of highest
 * precedence that is open then (a fetch inside compute pauses compute). Overlapping spans of one phase
 * (reads in flight together) count once. So the phases add up to the time any phase was open.
 */
export class PhaseClock implements PhaseTimer {
  readonly #now: () => number;
  readonly #depth = new Map<Phase, number>();
  #active: Phase | undefined;
  #since = 0;
  readonly totals = new Map<Phase, number>();

  constructor(now: () => number) {
    this.#now = now;
  }

  /** Gives the time since the last change to the phase that was active, then picks the active one. */
  #switch(change: () => void): void {
    const now = this.#now();
    if (this.#active !== undefined) this.totals.set(this.#active, (this.totals.get(this.#active) ?? 0) + (now - this.#since));
    change();
    this.#since = now;
    this.#active = PRECEDENCE.find((p) => (this.#depth.get(p) ?? 0) > 0);
  }

  start(phase: Phase): void {
    if (!this.totals.has(phase)) this.totals.set(phase, 0);
    this.#switch(() => this.#depth.set(phase, (this.#depth.get(phase) ?? 0) + 1));
  }

  end(phase: Phase): void {
    const depth = this.#depth.get(phase) ?? 0;
    if (depth === 0) return; // end without start: ignore rather than throw inside the service
    this.#switch(() => this.#depth.set(phase, depth - 1));
  }

  /** Ends every open span (a phase interrupted by an error) and returns the totals. */
  close(): Map<Phase, number> {
    this.#switch(() => this.#depth.clear());
    return this.totals;
  }
}

/**
 * Sets `c.var.phaseTimer` (a `PhaseTimer` to pass to the service) and, after the handler — also when it
 * threw — adds one Server-Timing metric per phase that was started, e.g.
 * `tokenize;dur=0.4;desc="Tokenize", fetch;dur=31.2;desc="Weight fetch (R2 and cache)"`. A phase the
 * service enters several times (fetch between layers) is summed. Needs `timing()` earlier in the chain.
 * In production, Workers' clocks advance only on I/O, so CPU-only phases read ≈ 0 (edge-stack §6.3).
 *
 * @param {PhaseTimerOptions} [options] - The options for the middleware.
 * @param {Partial<Record<Phase, string>>} [options.descriptions] - Metric descriptions per phase.
 * @param {number} [options.precision=1] - Decimal digits of the durations.
 * @param {() => number} [options.now] - The clock (for tests).
 * @returns {MiddlewareHandler} The middleware handler function.
 *
 * @example
 * ```ts
 * app.use("*", timing())
 * app.use("/v1/classify", phaseTimer())
 * app.post("/v1/classify", async (c) => c.json(await service.classify(texts, { timer: c.var.phaseTimer })))
 * ```
 */
export const phaseTimer = (options: PhaseTimerOptions = {}): MiddlewareHandler<AppEnv> => {
  const descriptions = { ...DESCRIPTIONS, ...options.descriptions };
  const now = options.now ?? (() => performance.now());

  return async function phaseTimer(c, next) {
    const clock = new PhaseClock(now);
    c.set("phaseTimer", clock);
    try {
      await next();
    } finally {
      const totals = clock.close();
      for (const phase of PHASES) {
        const ms = totals.get(phase);
        if (ms !== undefined) setMetric(c, phase, ms, descriptions[phase], options.precision ?? 1);
      }
    }
  };
};
