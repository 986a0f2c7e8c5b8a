import { Command, CommanderError } from "commander";
import { checkCommand } from "./check-command.ts";
import { credsCommand, type CredsAction } from "./creds-command.ts";
import { dlqListCommand, dlqReplayCommand } from "./dlq-command.ts";
import { docsCommand } from "./docs-command.ts";
import { traceCommand } from "./trace-command.ts";
import { diagnoseCommand } from "./diagnose-command.ts";
import { k8sSecretsCommand } from "./k8s-secrets-command.ts";
import { CliError, type CliIo } from "./cli-io.ts";
import { keysCommand } from "./keys-command.ts";
import { newCommand } from "./new-command.ts";
import { reqCommand, type ReqOptions } from "./req-command.ts";
import { scaleCommand } from "./scale-command.ts";
import { statusCommand } from "./status-command.ts";

function buildProgram(io: CliIo, done: (code: number) => void): Command {
  const program = new Command("mesh")
    .description("operate a Meshwork mesh: status, scaling, requests, dead letters, API keys, new actors, template checks")
    .option("-s, --server <url>", "NATS server (default: NATS_URL, else .meshwork/sandbox.env of a running sandbox)")
    .exitOverride()
    .configureOutput({ writeOut: (text) => io.out(text), writeErr: (text) => io.err(text) })
    .showHelpAfterError();
  const server = () => program.opts<{ server?: string }>().server;

  program.command("status")
    .description("every actor with its instances and per-endpoint requests, errors and average latency; durable consumers' lag")
    .option("--json", "print the status as JSON")
    .option("--wait <ms>", "how long to wait for instances to answer", "1000")
    .action(async (options: { json?: boolean; wait: string }) => {
      done(await statusCommand(io, { server: server(), json: options.json, wait: Math.max(100, Number(options.wait) || 1000) }));
    });

  program.command("scale")
    .description("set the number of replicas of an actor in the running sandbox (waits until they are up, or drained and gone)")
    .argument("<actor>", "actor name, e.g. tenants")
    .argument("<replicas>", "0 to 16")
    .action(async (actor: string, replicas: string) => {
      done(await scaleCommand(io, actor, replicas, { server: server() }));
    });

  program.command("req")
    .description("send one request with the mesh headers and print the reply or the typed error")
    .argument("<subject>", "e.g. tenants.get")
    .argument("[json]", "the request payload", "{}")
    .option("-t, --tenant <tenant>", "Mw-Tenant header")
    .option("-k, --idempotency-key <key>", "Mw-Idempotency-Key header (mutating requests run at most once per key)")
    .option("--timeout <ms>", "deadline for the reply", "5000")
    .action(async (subject: string, json: string, options: Omit<ReqOptions, "server">) => {
      done(await reqCommand(io, subject, json, { ...options, server: server() }));
    });

  program.command("new")
    .description("scaffold a conforming actor (definition, handlers, contract, README, test) and register it")
    .argument("<actor>", "lower-case name with dashes, e.g. demo-notes")
    .action(async (name: string) => {
      done(await newCommand(io, name));
    });

  const keys = program.command("keys")
    .description("tenant API keys of the HTTP gateway: stored hashed, shown once, listed by prefix");
  keys.command("create")
    .description("a new API key for the tenant (printed once)")
    .argument("<tenant>", "tenant id, e.g. acme")
    .option("--label <label>", "a name for the key")
    .action(async (tenant: string, options: { label?: string }) => done(await keysCommand(io, { kind: "create", tenant, label: options.label }, server())));
  keys.command("ls")
    .description("the tenant's keys: prefix, label, created, revoked")
    .argument("<tenant>", "tenant id")
    .action(async (tenant: string) => done(await keysCommand(io, { kind: "ls", tenant }, server())));
  keys.command("revoke")
    .description("revoke a key by its prefix (the gateway refuses it within its key cache time, 5 s)")
    .argument("<tenant>", "tenant id")
    .argument("<prefix>", "the key's prefix, e.g. mw_Ab12Cd34")
    .action(async (tenant: string, prefix: string) => done(await keysCommand(io, { kind: "revoke", tenant, prefix }, server())));
  keys.command("rotate")
    .description("a new key with the old one's label; the old one is revoked")
    .argument("<tenant>", "tenant id")
    .argument("<prefix>", "the old key's prefix")
    .action(async (tenant: string, prefix: string) => done(await keysCommand(io, { kind: "rotate", tenant, prefix }, server())));

  const creds = program.command("creds")
    .description("NATS credentials of the mesh: operator, one user per actor (permissions from its definition), services, tenants")
    .option("--dir <folder>", "credentials folder (default: MESHWORK_CREDS_DIR, else .meshwork/creds)");
  const inCreds = (action: CredsAction) => credsCommand(io, action, creds.opts<{ dir?: string }>().dir).then(done);
  creds.command("issue")
    .description("issue (or re-issue, keeping keys) every creds file and the server auth config from the definitions and grants.json")
    .action(() => inCreds({ kind: "issue" }));
  creds.command("add-service")
    .description("grant a service user (a caller that is not an actor) the request subjects of the given actors")
    .argument("<name>", "lower-case name with dashes, e.g. billing")
    .requiredOption("--calls <actors>", "comma-separated actors it may call, e.g. tenants,llm")
    .option("--role <role...>", "privileged roles: tenant-admin, lease-holder, provider-signals")
    .option("--expires-in-days <days>", "its credentials stop working after this many days")
    .action((name: string, options: { calls: string; role?: string[]; expiresInDays?: string }) => inCreds({
      kind: "add-service", name, calls: options.calls.split(",").map((actor) => actor.trim()).filter(Boolean), roles: options.role ?? [],
      ...(options.expiresInDays === undefined ? {} : { expiresInDays: Number(options.expiresInDays) }),
    }));
  creds.command("add-tenant")
    .description("an account for a tenant and its tenant-scoped user (may call tenant-facing subjects, only as this tenant)")
    .argument("<tenant>", "tenant id, e.g. acme")
    .action((tenant: string) => inCreds({ kind: "add-tenant", tenant }));
  creds.command("rotate")
    .description("a new key and creds file for a user; the old key is revoked")
    .argument("<user>", "user name, e.g. llm, demo-service, tenant-acme")
    .action((user: string) => inCreds({ kind: "rotate", user }));
  creds.command("revoke")
    .description("revoke a user's key and remove its grant (service or tenant)")
    .argument("<user>", "user name")
    .action((user: string) => inCreds({ kind: "revoke", user }));

  const dlq = program.command("dlq")
    .description("dead letters of an actor's event consumers: list them, put them back on their subjects");
  dlq.command("ls")
    .description("the actor's dead letters, oldest first: seq, time, event id, subject, tenant, deliveries, reason")
    .argument("<actor>", "the consuming actor, e.g. usage")
    .option("--json", "print them as JSON")
    .action(async (actor: string, options: { json?: boolean }) => {
      done(await dlqListCommand(io, actor, { server: server(), json: options.json }));
    });
  dlq.command("replay")
    .description("publish dead letters back to their event subjects (each processed once) and remove them from the dead-letter stream")
    .argument("<actor>", "the consuming actor, e.g. usage")
    .argument("[seq...]", "sequence numbers from mesh dlq ls")
    .option("--all", "replay every dead letter of the actor")
    .option("--json", "print the replayed dead letters as JSON")
    .action(async (actor: string, seqs: string[], options: { all?: boolean; json?: boolean }) => {
      done(await dlqReplayCommand(io, actor, seqs, { server: server(), all: options.all, json: options.json }));
    });

  program.command("docs")
    .description("write protocol/asyncapi.json (AsyncAPI 3.0), protocol/CATALOGUE.md and deploy/kubernetes/actors.yaml from the definitions and contracts")
    .action(async () => {
      done(await docsCommand(io));
    });

  program.command("diagnose")
    .description("gather stats, errors by code, breaker states, consumer lag, dead letters and recent error logs, and ask the llm actor (tenant mesh-operator) for a short diagnosis citing them")
    .option("--logs <dir>", "replica logs to read (default: the sandbox's .meshwork/logs)")
    .option("--no-llm", "print the evidence only")
    .option("--json", "print findings, diagnosis and evidence as JSON")
    .action(async (options: { logs?: string; llm: boolean; json?: boolean }) => {
      done(await diagnoseCommand(io, { ...options, server: server() }));
    });

  program.command("trace")
    .description("show one trace of the running sandbox as a tree of spans (the sandbox's replicas export their spans to its web view)")
    .argument("<trace-id>", "32 hex digits, e.g. the traceId of a log line")
    .option("--json", "print the spans as JSON")
    .action(async (traceId: string, options: { json?: boolean }) => {
      done(await traceCommand(io, traceId, options));
    });

  program.command("k8s-secrets")
    .description("print the Kubernetes Secrets deploy/kubernetes reads, from the credentials of mesh creds issue (pipe into kubectl apply -f -)")
    .option("--dir <folder>", "credentials folder (default: MESHWORK_CREDS_DIR, else .meshwork/creds)")
    .action(async (options: { dir?: string }) => {
      done(await k8sSecretsCommand(io, options.dir));
    });

  program.command("check")
    .description("check that every actor conforms to the template; prints each violation")
    .action(async () => {
      done(await checkCommand(io));
    });
  return program;
}

/** Runs one `mesh` command line; resolves to the exit code. Never calls process.exit. */
export async function runMesh(argv: readonly string[], io: CliIo): Promise<number> {
  let code = 0;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  try {
    await program.parseAsync([...argv], { from: "user" });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (error instanceof CliError) {
      io.err(`${error.message}\n`);
      return error.exitCode;
    }
    io.err(`mesh: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
