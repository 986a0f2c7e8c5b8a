import { rm } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Metafile } from "esbuild";

/** The checkout root, whatever the caller's working directory. */
export const CHECKOUT_ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
export const DEFAULT_OUT_DIR = join(CHECKOUT_ROOT, "dist");

/**
 * What a deployed process runs: one replica of an actor, and the test provider that compose.yaml
 * also runs. Output paths mirror the sources: dist/actors/main.js, dist/sandbox/provider/main.js.
 */
export const ENTRY_POINTS = ["actors/main.ts", "sandbox/provider/main.ts"] as const;

/**
 * Optional packages the mongodb driver `require`s inside try/catch (Kerberos, compression, AWS
 * and GCP auth, client-side encryption, SOCKS). None is installed; left external, the driver's
 * own "not installed" handling runs exactly as it does without a bundle.
 */
const OPTIONAL_DRIVER_PACKAGES = [
  "kerberos", "snappy", "@mongodb-js/zstd", "@aws-sdk/credential-providers", "gcp-metadata",
  "socks", "aws4", "mongodb-client-encryption",
];

// How production runs node lives in production-runtime.ts (no esbuild there, so the manifest
// generator does not load it); re-exported for the build's own users.
export { actorNodeFlags, PRODUCTION_ENV, PRODUCTION_NODE_FLAGS } from "./production-runtime.ts";

export interface BuildResult {
  readonly outDir: string;
  /** Every file written, relative to outDir. */
  readonly files: readonly string[];
  /** esbuild's account of the outputs: which inputs each holds and how they import each other. */
  readonly metafile: Metafile;
}

/**
 * Compiles the production entry points into `outDir` (emptied first) with esbuild: TypeScript
 * to ES2023 JavaScript, bundled with the packages they import (no node_modules at run time),
 * split into chunks at each dynamic import so a replica loads only its own actor's chunk
 * (actors/index.ts), with source maps. Type checking stays `tsc --noEmit` (`make typecheck`).
 *
 * Why a bundle rather than tsc's file-per-module emit: a replica then reads a handful of files
 * instead of about 450 (the mongodb driver alone is 250), which took start-up of one replica
 * from about 1.3 s to 0.7 s on this machine under load (see sandbox/bench/README.md). Most of
 * what remains of start-up is reading and compiling the bundle: a tenants replica enters
 * startActor 250-650 ms after the process starts and is ready 50-250 ms later.
 */
export async function buildProduction(outDir: string = DEFAULT_OUT_DIR): Promise<BuildResult> {
  await rm(outDir, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: CHECKOUT_ROOT,
    entryPoints: [...ENTRY_POINTS],
    outdir: outDir,
    outbase: ".",
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    sourcemap: "linked",
    // Maps name the original files and lines; the sources themselves stay in the repository.
    sourcesContent: false,
    // Whitespace and syntax only: a third less to read and scan at every start, while function
    // and class names in stack traces stay as written.
    minifyWhitespace: true,
    minifySyntax: true,
    chunkNames: "chunks/[name]-[hash]",
    external: OPTIONAL_DRIVER_PACKAGES,
    // CommonJS packages in an ES module bundle still call require() for node: built-ins and the
    // optional packages above.
    banner: { js: 'import { createRequire as __meshworkCreateRequire } from "node:module"; const require = __meshworkCreateRequire(import.meta.url);' },
    metafile: true,
    logLevel: "silent",
  });
  if (result.errors.length > 0) throw new Error(`build failed: ${result.errors.map((e) => e.text).join("; ")}`);
  return { outDir, files: writtenFiles(result.metafile, outDir), metafile: result.metafile };
}

function writtenFiles(metafile: Metafile, outDir: string): string[] {
  return Object.keys(metafile.outputs).map((file) => relative(outDir, resolve(CHECKOUT_ROOT, file))).sort();
}
