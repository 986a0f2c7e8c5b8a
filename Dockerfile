# One image for every actor and the test provider; compose.yaml picks the command.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY protocol ./protocol
COPY runtime ./runtime
COPY actors ./actors
COPY sandbox ./sandbox
COPY tsconfig.json ./
ENV NODE_ENV=production METRICS_PORT=9464 METRICS_HOST=0.0.0.0
# actors/main.ts drains on SIGTERM (docker stop), then exits 0.
ENTRYPOINT ["npx", "tsx"]
CMD ["actors/main.ts", "tenants"]
