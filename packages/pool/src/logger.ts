/** The part of a pino logger Snakepit uses: pass a pino logger (or anything shaped like one). */
export interface Logger {
  child(bindings: Record<string, unknown>): Logger;
  trace(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = () => undefined;

/** The default logger: says nothing. */
export const silentLogger: Logger = {
  child: () => silentLogger,
  trace: noop,
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
};
