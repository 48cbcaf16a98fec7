#!/usr/bin/env node
// The `snakepit` command: `snakepit doctor` and `snakepit cleanup`.
import { parseArgs } from "node:util";
import { cleanupOrphans, formatCleanupOrphansReport } from "./cleanup-orphans.js";
import { runDoctor } from "./doctor.js";

const USAGE = `usage: snakepit doctor [--adapter module:Class|file.py] [--python /path/to/python]
       snakepit cleanup [--dry-run] [--data-dir DIR]

  doctor   check the Python environment, the bridge and an adapter; print what to fix
  cleanup  kill the workers of dead hosts (verified by pid, start time and run id) and remove their records`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === "doctor") {
    const { values } = parseArgs({
      args: rest,
      options: { adapter: { type: "string" }, python: { type: "string" } },
      strict: true,
    });
    const ok = await runDoctor({ adapter: values.adapter, pythonExecutable: values.python });
    return ok ? 0 : 1;
  }
  if (command === "cleanup") {
    const { values } = parseArgs({
      args: rest,
      options: { "dry-run": { type: "boolean" }, "data-dir": { type: "string" } },
      strict: true,
    });
    const dataDir = values["data-dir"];
    const report = await cleanupOrphans({
      dryRun: values["dry-run"] ?? false,
      ...(dataDir === undefined ? {} : { dataDir }),
    });
    console.log(formatCleanupOrphansReport(report));
    return report.registry.failed.length === 0 ? 0 : 1;
  }
  console.error(
    command === undefined || command === "--help" || command === "-h"
      ? USAGE
      : `unknown command "${command}"\n\n${USAGE}`,
  );
  return command === undefined || command === "--help" || command === "-h" ? 0 : 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 2;
  },
);
