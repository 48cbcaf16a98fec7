// For applications

// For other @snakepit packages: option validation in the house form
export { describeValue } from "./describe-value.js";
export type { ErrorCode } from "./error-codes.js";
export { errorCodes } from "./error-codes.js";
export { invalidOption } from "./invalid-option.js";
export type { SnakepitErrorOptions } from "./snakepit-error.js";
export { isSnakepitError, SnakepitError } from "./snakepit-error.js";
export {
  expectBoolean,
  expectInteger,
  expectString,
  rejectUnknownKeys,
} from "./validate-options.js";
