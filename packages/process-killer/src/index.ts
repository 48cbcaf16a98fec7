// For applications. Building blocks for other @snakepit packages: `@snakepit/process-killer/internal`.
export { findProcessesByMarker } from "./find-processes-by-marker.js";
export { isAlive } from "./is-alive.js";
export type { KillOutcome, KillReason } from "./kill-outcome.js";
export { killWithEscalation } from "./kill-with-escalation.js";
export type { ProcessIdentity, ReadProcessIdentityOptions } from "./process-identity.js";
export { readProcessIdentity, verifyIdentity } from "./process-identity.js";
export type { ExitInfo, KillWithEscalationOptions } from "./resolve-kill-options.js";
export type { WaitUntilGoneOptions } from "./wait-until-gone.js";
export { waitUntilGone } from "./wait-until-gone.js";
