import { ErrorCode } from "@tessera/core";
import type { RouteError } from "./spec.js";

/**
 * 400 `{"detail": {"code", "reason", "reason_code"}}` for a password the user manager's
 * policy refuses: `reason` is English for the user, `reason_code` a stable
 * `PasswordReasonCode` a client can translate.
 */
export function passwordRejected(code: string): RouteError {
  return {
    status: 400,
    code,
    summary: "Password validation failed.",
    on: [ErrorCode.INVALID_PASSWORD],
    reason: "Password should be at least 8 characters",
  };
}

/** 404 `Not Found`, for the reason `summary` gives. */
export function notFound(summary: string): RouteError {
  return { status: 404, code: "Not Found", summary };
}
