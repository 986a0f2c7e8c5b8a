/** Everything a caller needs to talk to the mesh: schemas, subjects, headers, error codes. */
export * from "./contract.ts";
export * from "./errors.ts";
export * from "./headers.ts";
export * from "./subjects.ts";
export * from "./tenants.ts";
export * from "./ai-capacity.ts";
export * from "./llm.ts";
export * from "./usage.ts";
export * from "./gateway.ts";
export * from "./roles.ts";
export * from "./money.ts";
