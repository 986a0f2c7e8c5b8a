import { EventEmitter, once } from "node:events";
import { z } from "zod";

export const DEFAULT_MODELS: readonly string[] = ["gpt-4o-mini", "gpt-4o", "small-model", "large-model", "unpriced-model"];

const ModelName = z.string().min(1).max(256);

/** How the provider treats completion requests, globally or for one model. */
export const ModelBehaviour = z.strictObject({
  latencyMs: z.number().int().nonnegative().max(600_000),
  /** Fraction of requests answered with HTTP 500, spread evenly (0.5 fails every second request). */
  errorRate: z.number().min(0).max(1),
  rateLimited: z.strictObject({
    retryAfterSeconds: z.number().nonnegative().max(86_400),
    limitRequests: z.number().int().positive().optional(),
  }).nullable(),
  insufficientQuota: z.boolean(),
  /** Accept requests and answer none until the behaviour changes or the provider stops. */
  hang: z.boolean(),
  /** With `stream: true`: the wait before each content chunk after the first (a stream a client can stop mid-way). */
  chunkDelayMs: z.number().int().nonnegative().max(60_000),
});
export type ModelBehaviour = z.infer<typeof ModelBehaviour>;

/** Body of `POST /admin/behaviour`: any subset of fields, merged into what is set; `model` scopes it. */
export const BehaviourPatch = ModelBehaviour.partial().extend({
  model: ModelName.optional(),
  models: z.array(ModelName).max(100).optional(),
}).refine((patch) => patch.model === undefined || patch.models === undefined, {
  message: "models is the provider's model list and cannot be scoped to one model",
  path: ["models"],
});
export type BehaviourPatch = z.input<typeof BehaviourPatch>;

export const DEFAULT_BEHAVIOUR: ModelBehaviour = Object.freeze({
  latencyMs: 0,
  errorRate: 0,
  rateLimited: null,
  insufficientQuota: false,
  hang: false,
  chunkDelayMs: 0,
});

export interface BehaviourSnapshot {
  readonly models: readonly string[];
  readonly global: ModelBehaviour;
  /** Only the fields set for each model; they override `global`. */
  readonly byModel: Readonly<Record<string, Partial<ModelBehaviour>>>;
}

/** The provider's current behaviour; `nextChange` lets hung requests wait for the next update. */
export class BehaviourStore {
  readonly #defaultModels: readonly string[];
  #models: readonly string[];
  #global: ModelBehaviour = DEFAULT_BEHAVIOUR;
  #byModel = new Map<string, Partial<ModelBehaviour>>();
  readonly #changes = new EventEmitter().setMaxListeners(0);

  constructor(models: readonly string[] = DEFAULT_MODELS) {
    this.#defaultModels = Object.freeze([...models]);
    this.#models = this.#defaultModels;
  }

  /** Applies an already validated patch. */
  apply(patch: z.output<typeof BehaviourPatch>): void {
    const { model, models, ...fields } = patch;
    const defined = Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as Partial<ModelBehaviour>;
    if (model === undefined) this.#global = { ...this.#global, ...defined };
    else this.#byModel.set(model, { ...this.#byModel.get(model), ...defined });
    if (models !== undefined) this.#models = Object.freeze([...new Set(models)]);
    this.#changes.emit("change");
  }

  reset(): void {
    this.#global = DEFAULT_BEHAVIOUR;
    this.#byModel.clear();
    this.#models = this.#defaultModels;
    this.#changes.emit("change");
  }

  forModel(model: string): ModelBehaviour {
    return { ...this.#global, ...this.#byModel.get(model) };
  }

  isKnownModel(model: string): boolean {
    return this.#models.includes(model);
  }

  get models(): readonly string[] {
    return this.#models;
  }

  snapshot(): BehaviourSnapshot {
    return { models: this.#models, global: this.#global, byModel: Object.fromEntries(this.#byModel) };
  }

  /** Resolves at the next update; rejects with an AbortError when `signal` aborts first. */
  async nextChange(signal: AbortSignal): Promise<void> {
    await once(this.#changes, "change", { signal });
  }
}
