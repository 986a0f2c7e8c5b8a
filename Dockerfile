# syntax=docker/dockerfile:1
# One image for every actor and the test provider; compose.yaml picks the command
# (dist/actors/main.js <actor>, or dist/sandbox/provider/main.js).
# Checked by sandbox/dockerfile.test.ts (no Docker engine where the tests run).

# Build stage: every dependency, the TypeScript sources, a typecheck and `make build`.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY protocol ./protocol
COPY runtime ./runtime
COPY actors ./actors
COPY sandbox ./sandbox
RUN npx tsc --noEmit && npx tsx sandbox/build/build.ts

# Runtime stage: the compiled output only. The bundle holds the production dependencies it
# imports, so no node_modules, no TypeScript, no dev dependencies; tini as PID 1 forwards
# SIGTERM (docker stop, compose down, Kubernetes) to node, which drains and exits 0.
FROM node:20-bookworm-slim
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/dist ./dist
# Memory settings measured in sandbox/bench (sandbox/build/production-runtime.ts says why).
ENV NODE_ENV=production MALLOC_MMAP_THRESHOLD_=131072 MALLOC_TRIM_THRESHOLD_=131072 \
    METRICS_PORT=9464 METRICS_HOST=0.0.0.0
USER node
# Liveness of the actor's HTTP endpoint (compose.yaml asks /readyz for readiness).
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=5 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.METRICS_PORT}/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--", "node", "--max-semi-space-size=1"]
CMD ["dist/actors/main.js", "tenants"]
