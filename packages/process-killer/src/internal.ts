/**
 * `@snakepit/process-killer/internal`: building blocks that other `@snakepit` packages share. **Not semver**:
 * any release may change or remove these exports. Applications import `@snakepit/process-killer`.
 *
 * @packageDocumentation
 */

// Whether any member of a process group still runs (the registry's sweep of a dead run).
export { groupIsAlive } from "./process-group.js";
