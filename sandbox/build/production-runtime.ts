/**
 * How production runs node (the Dockerfile's ENTRYPOINT and ENV; sandbox/dockerfile.test.ts
 * keeps them equal to these, and the bench measures replicas with them):
 * - `--max-semi-space-size=1`: V8's young generation at 1 MB per semi-space instead of 16 MB.
 *   An idle replica otherwise keeps about 8 MB of touched young-generation pages resident;
 *   measured 83 -> 75 MB for tenants. Scavenges run more often, on few live objects.
 * - glibc's malloc returns freed blocks over 128 KB to the system instead of keeping them (its
 *   default threshold grows after the first large free): start-up's large temporary buffers
 *   (module source, the tokenizer's ranks) no longer stay resident; measured 121 -> 115 MB for llm.
 */
export const PRODUCTION_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=1"];

/**
 * Node flags of one actor's replicas, passed after PRODUCTION_NODE_FLAGS (V8 takes the last
 * value of a flag). The llm actor allocates far more per request than the others: with 1 MB
 * semi-spaces a busy replica collected its young generation every megabyte and spent 1.5 ms of
 * CPU per completion, against 0.84 ms with 8 MB and 0.94 with 4 (sandbox/bench/README.md, "The
 * young generation of a busy llm replica"). compose.yaml and the Kubernetes manifests pass them.
 */
const ACTOR_NODE_FLAGS: Readonly<Record<string, readonly string[]>> = { llm: ["--max-semi-space-size=8"] };

export function actorNodeFlags(actor: string): readonly string[] {
  return ACTOR_NODE_FLAGS[actor] ?? [];
}

export const PRODUCTION_ENV: Readonly<Record<string, string>> = {
  NODE_ENV: "production",
  MALLOC_MMAP_THRESHOLD_: "131072",
  MALLOC_TRIM_THRESHOLD_: "131072",
};
