/**
 * The InferenceService of the Worker: find the model a request names (the registry), run the task on its
 * engine (which tokenizes, streams the weights it needs and counts what it read), answer with the
 * model's info.
 */
import type { LoadedModel, ModelRegistry } from "./registry.ts";
import type { ClassifyResult, EmbedResult, FillMaskResult, InferenceService, MemoryReport, ModelInfo, PhaseTimer, ServiceOptions, Task, TokenizeResult, Usage } from "./types.ts";

export class WorkerInferenceService implements InferenceService {
  private readonly registry: ModelRegistry;

  constructor(registry: ModelRegistry) {
    this.registry = registry;
  }

  listModels(): Promise<ModelInfo[]> {
    return this.registry.list();
  }

  memory(): MemoryReport {
    const models = this.registry.loadedModels();
    const sum = (f: (m: MemoryReport["models"][number]) => number) => models.reduce((a, m) => a + f(m), 0);
    return { models, totals: { wasmBytes: sum((m) => m.wasmBytes), cacheBudgetBytes: sum((m) => m.cache.budgetBytes), cacheUsedBytes: sum((m) => m.cache.usedBytes) } };
  }

  modelInfo(model?: string): Promise<ModelInfo> {
    return this.registry.info(model);
  }

  classify(texts: string[], options: ServiceOptions & { topK?: number; explain?: boolean }): Promise<{ model: ModelInfo; results: ClassifyResult[]; usage: Usage }> {
    return this.onModel(options.model, options.timer, "classify", (m) => m.engine.classify(texts, options));
  }

  async tokenize(texts: string[], options: ServiceOptions): Promise<{ model: ModelInfo; results: TokenizeResult[] }> {
    const model = await this.registry.model(options.model, options.timer);
    return { model: model.info, results: model.engine.tokens(texts, options) };
  }

  embed(texts: (string | number[])[], options: ServiceOptions): Promise<{ model: ModelInfo; results: EmbedResult[]; usage: Usage }> {
    return this.onModel(options.model, options.timer, "embed", (m) => m.engine.embed(texts, options));
  }

  fillMask(texts: string[], options: ServiceOptions & { topK?: number }): Promise<{ model: ModelInfo; results: FillMaskResult[]; usage: Usage }> {
    return this.onModel(options.model, options.timer, "fill-mask", (m) => m.engine.fillMask(texts, options));
  }

  /**
   * Runs a task on the named model, or on the task's default; a failure that shows the model stale or stuck
   * drops it (registry.failed).
   */
  private async onModel<R extends object>(name: string | undefined, timer: PhaseTimer | undefined, task: Task, run: (m: LoadedModel) => Promise<R>): Promise<{ model: ModelInfo } & R> {
    const model = await this.registry.model(name, timer, task);
    try {
      return { model: model.info, ...(await run(model)) };
    } catch (e) {
      this.registry.failed(model, e);
      throw e;
    }
  }
}
