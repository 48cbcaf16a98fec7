import { type ServiceError, status } from "@grpc/grpc-js";
import { type ErrorCode, SnakepitError } from "@snakepit/errors";

/** Context for {@link mapGrpcError}: what was being done, to word the message. */
export interface GrpcErrorContext {
  /** E.g. `call "add" on worker w1`. */
  readonly operation: string;
  /** The reason the caller aborted, if it did: wins over the gRPC status. */
  readonly abortReason?: unknown;
}

/**
 * The one place where gRPC failures become {@link SnakepitError}s. A caller's abort reason
 * wins (it is usually a `SnakepitError` with `ABORTED` or `CALL_TIMEOUT` already).
 */
export function mapGrpcError(err: unknown, context: GrpcErrorContext): SnakepitError {
  if (context.abortReason !== undefined) {
    return context.abortReason instanceof SnakepitError
      ? context.abortReason
      : new SnakepitError("ABORTED", `${context.operation} was aborted`, {
          cause: context.abortReason,
        });
  }
  if (err instanceof SnakepitError) return err;
  const grpcCode = (err as Partial<ServiceError>)?.code;
  const details = (err as Partial<ServiceError>)?.details ?? (err as Error)?.message ?? String(err);
  const code: ErrorCode =
    grpcCode === status.DEADLINE_EXCEEDED
      ? "CALL_TIMEOUT"
      : grpcCode === status.CANCELLED
        ? "ABORTED"
        : "TRANSPORT_ERROR";
  const statusName = grpcCode === undefined ? "unknown" : (status[grpcCode] ?? String(grpcCode));
  return new SnakepitError(code, `${context.operation} failed: gRPC ${statusName}: ${details}`, {
    cause: err,
    details: { grpcStatus: statusName },
  });
}
