// For applications. Building blocks for other @snakepit packages: `@snakepit/errors/internal`.
export type { ErrorCode } from "./error-codes.js";
export { errorCodes } from "./error-codes.js";
export type { SnakepitErrorOptions } from "./snakepit-error.js";
export { isSnakepitError, SnakepitError } from "./snakepit-error.js";
