import { ERROR_CATALOGUE, type ErrorCode } from "../protocol/constants";
import type { ErrorBody } from "../protocol/errors";

/**
 * Every failure the SDK reports: a server error (from the closed catalogue of DESIGN.md §1) or one
 * the client itself detects (timeout, connection closed for good), with the same fields.
 */
export class WrldbldrError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: Record<string, unknown>;
  /** The request this error answers, when it answers one. */
  readonly requestId: string | undefined;
  /** True when the client produced this error (no server response was received). */
  readonly local: boolean;

  constructor(body: ErrorBody, opts: { requestId?: string; local?: boolean } = {}) {
    super(body.message);
    this.name = "WrldbldrError";
    this.code = body.code;
    this.retryable = body.retryable;
    this.details = body.details ?? {};
    this.requestId = opts.requestId;
    this.local = opts.local ?? false;
  }

  /** An error the client raises itself; its retryable flag comes from the catalogue. */
  static local(code: ErrorCode, message: string, details: Record<string, unknown> = {}, requestId?: string): WrldbldrError {
    return new WrldbldrError({ code, message, retryable: ERROR_CATALOGUE[code].retryable, details }, { requestId, local: true });
  }

  toBody(): ErrorBody {
    return { code: this.code, message: this.message, retryable: this.retryable, details: this.details };
  }
}

export function isWrldbldrError(err: unknown): err is WrldbldrError {
  return err instanceof WrldbldrError;
}
