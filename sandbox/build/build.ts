/** `make build`: the production JavaScript in dist/ (see production-build.ts). */
import { buildProduction, CHECKOUT_ROOT } from "./production-build.ts";
import { relative } from "node:path";

const started = performance.now();
const { outDir, files } = await buildProduction(process.argv[2]);
const entries = files.filter((file) => file.endsWith("main.js"));
process.stdout.write(`built ${files.length} files into ${relative(CHECKOUT_ROOT, outDir) || "."} in ${Math.round(performance.now() - started)} ms: ${entries.join(", ")}\n`);
