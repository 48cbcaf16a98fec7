#!/usr/bin/env node
// The `snakepit` command: `snakepit doctor [--adapter SPEC] [--python PATH]`.
import { parseArgs } from "node:util";
import { runDoctor } from "./doctor.js";

const USAGE = `usage: snakepit doctor [--adapter module:Class|file.py] [--python /path/to/python]

  doctor   check the Python environment, the bridge and an adapter; print what to fix`;

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
