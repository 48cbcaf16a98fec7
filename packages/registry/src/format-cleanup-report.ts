import type { CleanupReport } from "./run-cleanup.js";
import type { SkipReason } from "./sweep-report.js";

const SKIP_TEXT: Record<SkipReason, string> = {
  "alive-host": "its host is still running",
  "identity-mismatch": "the pid now belongs to another process",
  "host-mismatch": "the process does not carry the dead host in its environment (not its worker)",
  locked: "another sweeper is cleaning this run",
  "other-machine": "the run belongs to another machine",
};

/** Renders a {@link CleanupReport} for people, one fact per line (for the `snakepit cleanup` CLI). */
export function formatCleanupReport(report: CleanupReport): string {
  const lines = [
    `snakepit cleanup${report.dryRun ? " (dry run)" : ""} in ${report.location}`,
    `  runs found: ${report.runsFound}, dead runs swept: ${report.runsSwept.length}`,
  ];
  const killedByPid = new Map(report.killed.map((k) => [k.pid, k]));
  for (const orphan of report.orphansFound) {
    const worker = orphan.workerId === undefined ? "" : `, worker ${orphan.workerId}`;
    const killed = killedByPid.get(orphan.pid);
    const action = report.dryRun
      ? "would be killed"
      : killed === undefined
        ? "not killed"
        : `killed (${killed.reason}, ${killed.elapsedMs} ms)`;
    lines.push(`  orphan pid ${orphan.pid} (run ${orphan.runId}${worker}): ${action}`);
  }
  for (const skip of report.skipped) {
    const who = skip.pid === undefined ? "" : ` pid ${skip.pid}`;
    lines.push(`  left alone: run ${skip.runId}${who}: ${SKIP_TEXT[skip.reason]}`);
  }
  for (const failure of report.failed) {
    const who = failure.pid === undefined ? "" : ` pid ${failure.pid}`;
    lines.push(`  failed: run ${failure.runId}${who}: ${failure.code}: ${failure.message}`);
  }
  if (report.orphansFound.length === 0) lines.push("  no orphans found");
  lines.push(`  records removed: ${report.recordsRemoved}`);
  return lines.join("\n");
}
