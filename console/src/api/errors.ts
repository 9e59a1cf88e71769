/** The API's error body `{"error": {"code", "message", "field"?}}` as a typed exception. */
export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly field?: string
  /** the whole `error` object (extra members such as `tenants` of 409 tenant-required) */
  readonly details: Record<string, unknown>

  constructor(
    status: number,
    code: string,
    message: string,
    field?: string,
    details: Record<string, unknown> = {},
  ) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.field = field
    this.details = details
  }

  /** A route this deployment does not have yet (the console shows an empty/unavailable state). */
  get missingRoute(): boolean {
    return this.status === 404 && this.code === 'not-found' && /route/i.test(this.message)
  }
}

interface ErrorBody {
  error?: { code?: unknown; message?: unknown; field?: unknown }
}

/** Turns any response body (JSON error, API Gateway message, text, nothing) into an ApiError. */
export function toApiError(status: number, body: unknown): ApiError {
  const err = (body as ErrorBody | null)?.error
  if (err && typeof err === 'object') {
    const code = typeof err.code === 'string' ? err.code : `http-${status}`
    const message = typeof err.message === 'string' ? err.message : `HTTP ${status}`
    const field = typeof err.field === 'string' ? err.field : undefined
    return new ApiError(status, code, message, field, err as Record<string, unknown>)
  }
  const message =
    typeof (body as { message?: unknown } | null)?.message === 'string'
      ? (body as { message: string }).message
      : typeof body === 'string' && body
        ? body.slice(0, 200)
        : `HTTP ${status}`
  const code = status === 0 ? 'network' : `http-${status}`
  return new ApiError(status, code, message)
}

/** Maps an ApiError with a `field` onto a form's error map (the field shown next to its input). */
export function fieldErrors(err: unknown): Record<string, string> {
  if (err instanceof ApiError && err.field) {
    return { [err.field]: err.message }
  }
  return {}
}
