import { actorNames } from "../../actors/index.ts";
import { clusterSecrets, MissingCredentialsError } from "../deploy/cluster-secrets.ts";
import { CliError, type CliIo } from "./cli-io.ts";
import { credsDir } from "./creds-command.ts";

/** `mesh k8s-secrets`: the Secrets of deploy/kubernetes as YAML on stdout. */
export async function k8sSecretsCommand(io: CliIo, dir?: string): Promise<number> {
  try {
    io.out(clusterSecrets(credsDir(io, dir), actorNames));
    return 0;
  } catch (error) {
    if (error instanceof MissingCredentialsError) throw new CliError(`mesh k8s-secrets: ${error.message}`, 1);
    throw error;
  }
}
