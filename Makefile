# Entry points. Everything installs what is missing: npm packages from the lockfile,
# and (through sandbox/servers) nats-server and FerretDB built with Go into the user cache.
.PHONY: install typecheck build test sandbox bench check

DURATION ?= 0

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

install: node_modules/.package-lock.json

typecheck: install
	npx tsc --noEmit

# The production JavaScript in dist/ (esbuild bundle with source maps; sandbox/build). Production
# runs `node dist/actors/main.js <actor>`; tsx stays the runner of the sandbox, tests and bench.
build: install
	npx tsx sandbox/build/build.ts

test: install typecheck check
	npx tsx sandbox/test-run.ts

# Every actor conforms to the template (sandbox/check); prints each violation and fails.
check: install
	npx tsx sandbox/cli/mesh.ts check

# The whole mesh with demo traffic; DURATION=N stops after N seconds with a summary (0: until Ctrl-C).
sandbox: install
	npx tsx sandbox/run.ts --duration $(DURATION)

bench: install
	npx tsx sandbox/bench/run.ts
