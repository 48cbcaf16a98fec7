import { randomBytes } from "node:crypto";
import { invalidOption } from "@snakepit/errors/internal";

/** The argv flag that marks every worker of a run: `--snakepit-run-id <runId>`. */
export const RUN_ID_FLAG = "--snakepit-run-id";

const RUN_ID = /^[0-9a-z]{4,32}$/;

/** A fresh run id: 7 random base36 characters (36^7 ≈ 7.8e10 values), e.g. `k3x9a2p`. */
export function generateRunId(): string {
  let id = "";
  for (const byte of randomBytes(7)) id += (byte % 36).toString(36);
  return id;
}

/** The argv to append to a worker's command: `["--snakepit-run-id", runId]`. */
export function runIdArgs(runId: string): string[] {
  return [RUN_ID_FLAG, expectRunId("runId", runId)];
}

/** The marker string that `findProcessesByMarker` / identities match: `--snakepit-run-id <runId>`. */
export function runIdMarker(runId: string): string {
  return `${RUN_ID_FLAG} ${expectRunId("runId", runId)}`;
}

/** @internal A run id ends up in file names and argv: 4–32 characters of `[0-9a-z]`. */
export function expectRunId(path: string, value: unknown): string {
  if (typeof value !== "string" || !RUN_ID.test(value)) {
    throw invalidOption(path, "4 to 32 characters of [0-9a-z]", value);
  }
  return value;
}
