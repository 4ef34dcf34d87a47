import { z } from "zod";
import { ERROR_CATALOGUE, type ErrorCode } from "./constants";

export { ERROR_CATALOGUE, type ErrorCode };
export const ErrorCodeSchema = z.enum(Object.keys(ERROR_CATALOGUE) as [ErrorCode, ...ErrorCode[]]);

/** The body of an error, on the wire (inside a Response result) and over HTTP. */
export const ErrorBodySchema = z.object({
  code: ErrorCodeSchema,
  message: z.string(),
  retryable: z.boolean(),
  details: z.record(z.string(), z.unknown()).optional(),
});
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/** An error as a value: thrown by handlers, turned into an error Response by the router. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "AppError";
  }

  get retryable(): boolean {
    return ERROR_CATALOGUE[this.code].retryable;
  }

  get status(): number {
    return ERROR_CATALOGUE[this.code].status;
  }

  toBody(): ErrorBody {
    const body: ErrorBody = { code: this.code, message: this.message, retryable: this.retryable };
    if (this.details) body.details = this.details;
    return body;
  }

  /** Any thrown value as an AppError; unknown failures become INTERNAL without leaking internals. */
  static from(err: unknown): AppError {
    if (err instanceof AppError) return err;
    return new AppError("INTERNAL", "internal error");
  }
}

/** Turns a zod failure into VALIDATION_ERROR naming every offending field by its path. */
export function validationError(error: z.ZodError, prefix: (string | number)[] = []): AppError {
  const issues = error.issues.map((i) => ({
    path: [...prefix, ...i.path].map(String).join("."),
    message: i.message,
  }));
  const first = issues[0];
  const message = first ? `invalid field '${first.path || "(root)"}': ${first.message}` : "invalid input";
  return new AppError("VALIDATION_ERROR", message, { issues });
}

/** A VALIDATION_ERROR about one field, in the same shape as zod failures. */
export function invalidField(path: string, message: string, details: Record<string, unknown> = {}): AppError {
  return new AppError("VALIDATION_ERROR", `invalid field '${path}': ${message}`, { issues: [{ path, message }], ...details });
}
