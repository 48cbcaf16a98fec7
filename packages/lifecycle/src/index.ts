// For applications. Building blocks for other @snakepit packages: `@snakepit/lifecycle/internal`.
export { decideRecycle } from "./decide-recycle.js";
export type {
  LifecycleScheduler,
  LifecycleSchedulerOptions,
  RecycleRequest,
} from "./lifecycle-scheduler.js";
export { createLifecycleScheduler } from "./lifecycle-scheduler.js";
export type {
  RecycleDecision,
  RecyclePolicy,
  RecycleReason,
  WorkerFacts,
} from "./recycle-policy.js";
export { validateRecyclePolicy } from "./recycle-policy.js";
export { resolveMaxRequests } from "./resolve-max-requests.js";
export type { MemoryKind, MemorySample, SampleMemoryOptions } from "./sample-memory.js";
export { sampleMemory } from "./sample-memory.js";
export type { SchedulerState } from "./scheduler-state.js";
