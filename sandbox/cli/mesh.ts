#!/usr/bin/env -S node --import tsx
/**
 * The `mesh` operator CLI: `npx mesh <command>` or `npm run mesh -- <command>`.
 * Commands: status, scale, req, dlq, new, check (see `mesh --help` and sandbox/README.md).
 */
import { processIo } from "./cli-io.ts";
import { runMesh } from "./program.ts";

const code = await runMesh(process.argv.slice(2), processIo());
process.exit(code);
