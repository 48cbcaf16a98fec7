#!/usr/bin/env node
// The `snakepit` command: `snakepit doctor`, `snakepit status` and `snakepit cleanup`.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { isSnakepitError } from "@snakepit/errors";
import { cleanupOrphans, formatCleanupOrphansReport } from "./cleanup-orphans.js";
import { diagnose, formatDoctorReport } from "./doctor.js";
import { formatStatusReport, readStatus } from "./status.js";

/** Exit codes, documented in the README: keep both in step. */
const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

const EXIT_CODES = `Exit codes:
  0  success
  1  a check failed, or the command could not do its work (the reason is printed)
  2  usage error (unknown command or option)`;

const USAGE = `Usage: snakepit <command> [options]

Commands:
  doctor   check the Python environment, the bridge and an adapter; print what to fix
  status   list host runs and their workers from the registry (live ones, and dead ones awaiting cleanup)
  cleanup  kill the workers of dead hosts (verified by pid, start time and run id) and remove their records

Options:
  -h, --help     show this help (\`snakepit <command> --help\` for a command's)
  -v, --version  print the version

${EXIT_CODES}`;

const JSON_HELP = "  --json               print one JSON object on stdout instead of text";
const DATA_DIR_HELP =
  "  --data-dir DIR       the registry's data directory (default: $XDG_STATE_HOME/snakepit or ~/.local/state/snakepit)";

const COMMANDS = {
  doctor: {
    help: `Usage: snakepit doctor [--adapter module:Class|file.py] [--python PATH] [--json]

Checks the Python interpreter a pool would use (creating the cached venv on first use, with
progress on stderr), that snakepit_bridge imports, and that the adapter loads and has tools.

Options:
  --adapter SPEC       an adapter to load: module:Class, module, or path/to/file.py
  --python PATH        the interpreter to check (default: $SNAKEPIT_PYTHON, else the cached venv)
${JSON_HELP}
  -h, --help           show this help

${EXIT_CODES}`,
    options: {
      adapter: { type: "string" },
      python: { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  },
  status: {
    help: `Usage: snakepit status [--data-dir DIR] [--json]

Lists, from the registry, each host run with its workers (pid, worker id, uptime, RSS): live
runs, and dead runs whose workers \`snakepit cleanup\` would kill. Reads only.

Options:
${DATA_DIR_HELP}
${JSON_HELP}
  -h, --help           show this help

${EXIT_CODES}`,
    options: {
      "data-dir": { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  },
  cleanup: {
    help: `Usage: snakepit cleanup [--dry-run] [--data-dir DIR] [--json]

Kills the workers of host runs that died without stopping them (each verified by pid, start
time and run-id marker before any signal), removes their records and stale socket directories.
Live hosts' workers are never touched.

Options:
  --dry-run            list what would be killed and removed; change nothing
${DATA_DIR_HELP}
${JSON_HELP}
  -h, --help           show this help

${EXIT_CODES}`,
    options: {
      "dry-run": { type: "boolean" },
      "data-dir": { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  },
} as const;

type Command = keyof typeof COMMANDS;

class UsageError extends Error {}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

function parse<C extends Command>(command: C, args: string[]) {
  try {
    return parseArgs({ args, options: COMMANDS[command].options, strict: true }).values;
  } catch (err) {
    throw new UsageError(
      `${(err as Error).message}\nRun \`snakepit ${command} --help\` for usage.`,
    );
  }
}

async function run(command: Command, args: string[]): Promise<number> {
  const values = parse(command, args) as Record<string, string | boolean | undefined>;
  if (values.help === true) {
    console.log(COMMANDS[command].help);
    return EXIT.ok;
  }
  const json = values.json === true;
  const dataDir = values["data-dir"] as string | undefined;
  try {
    if (command === "doctor") {
      const adapter = values.adapter as string | undefined;
      const python = values.python as string | undefined;
      const report = await diagnose({
        ...(adapter === undefined ? {} : { adapter }),
        ...(python === undefined ? {} : { pythonExecutable: python }),
      });
      if (json) console.log(JSON.stringify(report, null, 2));
      else for (const line of formatDoctorReport(report, adapter !== undefined)) console.log(line);
      return report.ok ? EXIT.ok : EXIT.failed;
    }
    if (command === "status") {
      const report = await readStatus(dataDir === undefined ? {} : { dataDir });
      console.log(
        json ? JSON.stringify({ ok: true, ...report }, null, 2) : formatStatusReport(report),
      );
      return EXIT.ok;
    }
    const report = await cleanupOrphans({
      dryRun: values["dry-run"] === true,
      ...(dataDir === undefined ? {} : { dataDir }),
    });
    const ok = report.registry.failed.length === 0;
    console.log(
      json ? JSON.stringify({ ok, ...report }, null, 2) : formatCleanupOrphansReport(report),
    );
    return ok ? EXIT.ok : EXIT.failed;
  } catch (err) {
    const code = isSnakepitError(err) ? err.code : "INTERNAL";
    const message = err instanceof Error ? err.message : String(err);
    if (json) console.log(JSON.stringify({ ok: false, error: { code, message } }, null, 2));
    else console.error(`snakepit ${command}: [${code}] ${message}`);
    return EXIT.failed;
  }
}

async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === "--help" || first === "-h" || first === "help") {
    console.log(USAGE);
    return EXIT.ok;
  }
  if (first === "--version" || first === "-v") {
    console.log(version());
    return EXIT.ok;
  }
  if (!Object.hasOwn(COMMANDS, first)) {
    console.error(`snakepit: unknown command "${first}"\n\n${USAGE}`);
    return EXIT.usage;
  }
  try {
    return await run(first as Command, rest);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`snakepit ${first}: ${err.message}`);
    return EXIT.usage;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = EXIT.failed;
  },
);
