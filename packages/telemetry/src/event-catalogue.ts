/**
 * Every event Snakepit publishes, in one place: the `node:diagnostics_channel` channel names and
 * their typed payloads. Publishing costs nothing when nobody subscribes (one `hasSubscribers`
 * check). Every payload carries `pool` where a pool is involved and `correlationId` where a
 * call is involved. The test suite proves that each of these is actually emitted.
 */

/** Fields shared by the events of one worker. */
interface WorkerFields {
  readonly pool: string;
  readonly workerId: string;
}

/** Fields shared by the events of one call. */
interface CallFields {
  readonly pool: string;
  readonly tool: string;
  readonly callId: string;
  readonly correlationId: string;
}

/** The payload of each event, by channel name. */
export interface EventPayloads {
  // Heartbeat monitor of a worker (host → worker pings)
  "snakepit:heartbeat:ping_sent": WorkerFields & { readonly sequence: number };
  "snakepit:heartbeat:pong_received": WorkerFields & {
    readonly sequence: number;
    readonly latencyMs: number;
  };
  "snakepit:heartbeat:heartbeat_timeout": WorkerFields & {
    readonly sequence: number;
    readonly missed: number;
    readonly cause: "timeout" | "rejected";
  };
  "snakepit:heartbeat:monitor_failure": WorkerFields & {
    readonly reason: "timeout" | "max-missed";
    readonly missed: number;
  };
  "snakepit:heartbeat:monitor_stopped": WorkerFields & { readonly reason: string };
  // Worker lifecycle
  "snakepit:worker:spawned": WorkerFields & { readonly pid: number };
  "snakepit:worker:ready": WorkerFields & { readonly pid: number; readonly startMs: number };
  "snakepit:worker:exited": WorkerFields & {
    readonly pid: number;
    readonly exitCode: number | null;
    readonly signal: string | null;
    readonly reason: string;
  };
  "snakepit:worker:crashed": WorkerFields & {
    readonly pid: number;
    readonly exitCode: number | null;
    readonly signal: string | null;
  };
  "snakepit:worker:recycled": WorkerFields & {
    readonly reason: string;
    readonly uptimeMs: number;
    readonly callsServed: number;
    readonly memoryBytes: number | undefined;
  };
  /** The pool decided to replace a worker that died or failed its heartbeat (published once per replacement). */
  "snakepit:worker:restarted": WorkerFields & {
    readonly reason: "crashed" | "unhealthy" | "stuck";
    readonly delayMs: number;
  };
  "snakepit:worker:health_check_failed": WorkerFields & {
    readonly reason: string;
    readonly error: string;
  };
  // Calls
  "snakepit:call:start": CallFields & { readonly workerId: string; readonly waitMs: number };
  "snakepit:call:end": CallFields & { readonly workerId: string; readonly durationMs: number };
  "snakepit:call:error": CallFields & {
    readonly workerId: string | undefined;
    readonly durationMs: number;
    readonly code: string;
  };
  // Queue
  "snakepit:queue:enqueued": CallFields & { readonly depth: number };
  "snakepit:queue:dequeued": CallFields & { readonly depth: number; readonly waitMs: number };
  "snakepit:queue:timeout": CallFields & { readonly depth: number; readonly waitMs: number };
  "snakepit:queue:rejected": CallFields & {
    readonly reason: "full" | "closed";
    readonly depth: number;
  };
  // Registry (orphan sweep)
  "snakepit:registry:orphans_found": { readonly runIds: readonly string[]; readonly count: number };
  "snakepit:registry:cleanup_completed": {
    readonly killed: number;
    readonly skipped: number;
    readonly durationMs: number;
  };
}

/** A channel name of the catalogue. */
export type EventName = keyof EventPayloads;

/** Every channel name, for tools that subscribe to all of them. */
export const eventNames: readonly EventName[] = [
  "snakepit:heartbeat:ping_sent",
  "snakepit:heartbeat:pong_received",
  "snakepit:heartbeat:heartbeat_timeout",
  "snakepit:heartbeat:monitor_failure",
  "snakepit:heartbeat:monitor_stopped",
  "snakepit:worker:spawned",
  "snakepit:worker:ready",
  "snakepit:worker:exited",
  "snakepit:worker:crashed",
  "snakepit:worker:recycled",
  "snakepit:worker:restarted",
  "snakepit:worker:health_check_failed",
  "snakepit:call:start",
  "snakepit:call:end",
  "snakepit:call:error",
  "snakepit:queue:enqueued",
  "snakepit:queue:dequeued",
  "snakepit:queue:timeout",
  "snakepit:queue:rejected",
  "snakepit:registry:orphans_found",
  "snakepit:registry:cleanup_completed",
];
