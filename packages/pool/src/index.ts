// For applications: create a pool, call it, read its stats, handle its errors.

export type { ErrorCode } from "@snakepit/errors";
export { isSnakepitError, SnakepitError } from "@snakepit/errors";
export type { HeartbeatSettings } from "@snakepit/heartbeat";
export type { RecyclePolicy, RecycleReason, WorkerFacts } from "@snakepit/lifecycle";
export type { PoolWiring } from "./create-pool.js";
export { createPool } from "./create-pool.js";
export type { LatencySummary } from "./latency-summary.js";
export type { LifelineOptions } from "./lifeline-options.js";
export type { Logger } from "./logger.js";
export type {
  PoolOptions,
  RecycleOptions,
  RegistryOptions,
} from "./pool-options.js";
export type {
  AffinityMode,
  CloseOptions,
  ExecuteOptions,
  HostTool,
  Pool,
  PoolState,
  PoolStats,
  RestartReason,
  WorkerStats,
} from "./pool-types.js";
// For session store implementations (e.g. @snakepit/session-redis): one set of rules for all
export {
  decodeSessionValue,
  encodeSessionValue,
  MAX_SESSION_ID_LENGTH,
  MAX_SESSION_KEY_LENGTH,
  validateSessionId,
  validateSessionKey,
} from "./session-input.js";
export type {
  MemorySessionStoreOptions,
  SessionOperationOptions,
  SessionSnapshot,
  SessionStore,
  SessionWriteOptions,
} from "./session-store.js";
export { createMemorySessionStore, sessionConflict } from "./session-store.js";

// For operations tools (the `snakepit` CLI uses these): doctor checks and orphan cleanup.

export type { CleanupOrphansOptions, CleanupOrphansReport } from "./cleanup-orphans.js";
export { cleanupOrphans, formatCleanupOrphansReport } from "./cleanup-orphans.js";
export type { DoctorOptions } from "./doctor.js";
export { runDoctor } from "./doctor.js";
