/**
 * The InferenceService of the Worker: find the model a request names (the registry), run the task on its
 * engine (which tokenizes, streams the weights it needs and counts what it read), answer with the
 * model's info.
 */
import type { ModelRegistry } from "./registry.ts";
import type { ClassifyResult, EmbedResult, FillMaskResult, InferenceService, ModelInfo, ServiceOptions, TokenizeResult, Usage } from "./types.ts";

export class WorkerInferenceService implements InferenceService {
  private readonly registry: ModelRegistry;

  constructor(registry: ModelRegistry) {
    this.registry = registry;
  }

  listModels(): Promise<ModelInfo[]> {
    return this.registry.list();
  }

  async classify(texts: string[], options: ServiceOptions & { topK?: number; explain?: boolean }): Promise<{ model: ModelInfo; results: ClassifyResult[]; usage: Usage }> {
    const model = await this.registry.model(options.model, options.timer);
    return { model: model.info, ...(await model.engine.classify(texts, options)) };
  }

  modelInfo(model?: string): Promise<ModelInfo> {
    return this.registry.info(model);
  }

  async tokenize(texts: string[], options: ServiceOptions): Promise<{ model: ModelInfo; results: TokenizeResult[] }> {
    const model = await this.registry.model(options.model, options.timer);
    return { model: model.info, results: model.engine.tokens(texts, options) };
  }

  async embed(texts: (string | number[])[], options: ServiceOptions): Promise<{ model: ModelInfo; results: EmbedResult[]; usage: Usage }> {
    const model = await this.registry.model(options.model, options.timer);
    return { model: model.info, ...(await model.engine.embed(texts, options)) };
  }

  async fillMask(texts: string[], options: ServiceOptions & { topK?: number }): Promise<{ model: ModelInfo; results: FillMaskResult[]; usage: Usage }> {
    const model = await this.registry.model(options.model, options.timer);
    return { model: model.info, ...(await model.engine.fillMask(texts, options)) };
  }
}
