import type { RedisArgument, TypeMapping } from "@redis/client";

/** The node-redis command options the store passes. */
export interface RedisCommandOptions {
  readonly timeout?: number;
  readonly abortSignal?: AbortSignal;
  readonly typeMapping?: TypeMapping;
}

/**
 * What the store needs of a node-redis client: any `createClient()` result (of `redis` or
 * `@redis/client`, RESP2 or RESP3, with or without modules) fits.
 */
export interface RedisCommandClient {
  readonly isOpen: boolean;
  connect(): Promise<unknown>;
  sendCommand<T = unknown>(
    args: ReadonlyArray<RedisArgument>,
    options?: RedisCommandOptions,
  ): Promise<T>;
}
