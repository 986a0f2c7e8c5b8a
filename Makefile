# Entry points. Everything installs what is missing: npm packages from the lockfile,
# and (through sandbox/servers) nats-server and FerretDB built with Go into the user cache.
.PHONY: install typecheck build test test-python sandbox bench check browser chaos

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

test: install typecheck check browser
	npx tsx sandbox/test-run.ts

# Chromium from Debian's packages for the web view's browser test, installed only when missing
# and only as root (a few minutes once); otherwise that test is skipped and says why.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || [ -n "$$CHROME_PATH" ] || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	  echo "make browser: Chromium is not installed and cannot be installed here (needs root and apt-get); the web view's browser test will be skipped"

# The Python openai package through the gateway (pip installs openai into .meshwork/python: needs the package index).
test-python: install
	npx tsx --test sandbox/python/python-sdk.check.ts

# Every actor conforms to the template (sandbox/check); prints each violation and fails.
check: install
	npx tsx sandbox/cli/mesh.ts check

# The whole mesh with demo traffic; DURATION=N stops after N seconds with a summary (0: until Ctrl-C).
sandbox: install
	npx tsx sandbox/run.ts --duration $(DURATION)

bench: install
	npx tsx sandbox/bench/run.ts

# The sandbox on a 3-node NATS cluster with replicas and a NATS node SIGKILLed at random for
# CHAOS_DURATION seconds (default 90; CHAOS_SEED repeats a run); prints one table, fails on any
# loss or double count (sandbox/chaos).
CHAOS_DURATION ?= 90
chaos: install
	CHAOS_DURATION=$(CHAOS_DURATION) npx tsx sandbox/chaos/run.ts
