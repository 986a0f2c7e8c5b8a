import { test } from "node:test";
import assert from "node:assert/strict";
import { runtimeConfigFromEnv } from "./config.ts";

test("configuration is parsed once from the environment, with defaults, and frozen", () => {
  const config = runtimeConfigFromEnv({ NATS_URL: "nats://10.0.0.1:4222", METRICS_PORT: "9464", MESHWORK_DB_PREFIX: "" });
  assert.equal(config.natsUrl, "nats://10.0.0.1:4222");
  assert.equal(config.metricsPort, 9464);
  assert.equal(config.databasePrefix, undefined, "an empty prefix means none (databases named after the actor)");
  assert.equal(config.logLevel, "info");
  assert.equal(config.streamReplicas, 1, "one copy of each stream on a single server");
  assert.equal(runtimeConfigFromEnv({ MESHWORK_STREAM_REPLICAS: "3" }).streamReplicas, 3);
  assert.ok(Object.isFrozen(config));
});

test("bad configuration fails at start with a message naming the setting", () => {
  assert.throws(() => runtimeConfigFromEnv({ METRICS_PORT: "eighty" }), /metricsPort/);
  assert.throws(() => runtimeConfigFromEnv({ LOG_LEVEL: "loud" }), /logLevel/);
  assert.throws(() => runtimeConfigFromEnv({ MESHWORK_DB_PREFIX: "bad-prefix!" }), /databasePrefix/);
  assert.throws(() => runtimeConfigFromEnv({ MESHWORK_STREAM_REPLICAS: "7" }), /streamReplicas/);
  assert.throws(() => runtimeConfigFromEnv({ MESHWORK_STREAM_REPLICAS: "three" }), /streamReplicas/);
});
