// For @snakepit test suites

export type { ResourceSnapshot } from "./leak-check.js";
export {
  diffResources,
  ensureTestTag,
  findLeaks,
  snapshotResources,
  TEST_TAG_ENV,
} from "./leak-check.js";
export {
  commandLine,
  isRunning,
  listPids,
  ownListeningSockets,
  parentPid,
  pidsWithEnv,
  processGroup,
  processState,
} from "./proc.js";
export { runReadmeExample } from "./readme-example.js";
export type { RedisServer, RedisServerOptions } from "./redis-server.js";
export { findRedisServer, startRedisServer } from "./redis-server.js";
export type { SecondUser } from "./second-user.js";
export { runAs, secondUser } from "./second-user.js";
export { waitFor } from "./wait-for.js";
