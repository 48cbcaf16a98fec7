/**
 * `@snakepit/pool/internal`: access to a pool's insides for benchmarks and tests. **Not
 * semver**: any release may change or remove these exports. Applications import
 * `@snakepit/pool`.
 *
 * @packageDocumentation
 */

export { workerProcessesOf } from "./pool-internals.js";
