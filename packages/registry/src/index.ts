// For applications. Building blocks for other @snakepit packages: `@snakepit/registry/internal`.
export { defaultDataDir } from "./default-data-dir.js";
export { createFileStore } from "./file-store.js";
export { formatCleanupReport } from "./format-cleanup-report.js";
export { HOST_ENV, hostMarkerValue } from "./host-marker.js";
export type {
  ActivateInfo,
  ProcessRegistry,
  ProcessRegistryOptions,
  ReserveInfo,
} from "./process-registry.js";
export { createProcessRegistry } from "./process-registry.js";
export type {
  ActiveWorkerRecord,
  HostRecord,
  LockOwner,
  RegistryStore,
  ReservedWorkerRecord,
  RunDocument,
  RunLock,
  WorkerRecord,
} from "./registry-store.js";
export type { SweepOptions } from "./resolve-sweep-options.js";
export type { CleanupOptions, CleanupReport } from "./run-cleanup.js";
export { runCleanup } from "./run-cleanup.js";
export type {
  KilledOrphan,
  OrphanInfo,
  SkippedInfo,
  SkipReason,
  SweepFailure,
  SweepReport,
} from "./sweep-report.js";
