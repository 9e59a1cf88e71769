/**
 * The API client: openapi-fetch typed by the generated schema (src/api/schema.d.ts, from
 * `npm run gen:api`), with the session/API-key bearer, one refresh on 401, and errors thrown as
 * ApiError. Routes that other branches add (sessions, members, analytics, ...) go through `raw`
 * with the hand-written shapes in ./types.ts until they appear in the OpenAPI document.
 */
import createClient, { type Middleware } from 'openapi-fetch'
import type { paths } from './schema'
import { ApiError, toApiError } from './errors'

export interface Credentials {
  /** Bearer token: a session token or an API key. */
  token(): string | null
  /** Called once on a 401; resolves true when a fresh token is available. */
  refresh(): Promise<boolean>
  /** Called when the credentials are no longer valid (refresh failed). */
  expired(): void
}

let credentials: Credentials = {
  token: () => null,
  refresh: async () => false,
  expired: () => {},
}

export function setCredentials(c: Credentials): void {
  credentials = c
}

const baseUrl = typeof window === 'undefined' ? 'http://localhost' : window.location.origin

const auth: Middleware = {
  onRequest({ request }) {
    const token = credentials.token()
    if (token && !request.headers.has('Authorization')) {
      request.headers.set('Authorization', `Bearer ${token}`)
    }
    return request
  },
}

export const api = createClient<paths>({ baseUrl })
api.use(auth)

async function parse(res: Response): Promise<unknown> {
  if (res.status === 204) return null
  const text = await res.text()
  if (!text) return null
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/**
 * Calls a typed openapi-fetch method and returns its data or throws an ApiError; retries once
 * after refreshing the session on a 401.
 */
export async function call<T>(
  fn: () => Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  let result: { data?: T; error?: unknown; response: Response }
  try {
    result = await fn()
  } catch (e) {
    throw new ApiError(0, 'network', e instanceof Error ? e.message : String(e))
  }
  if (result.response.status === 401 && credentials.token() && (await credentials.refresh())) {
    result = await fn()
  }
  if (!result.response.ok) {
    if (result.response.status === 401) credentials.expired()
    throw toApiError(result.response.status, result.error)
  }
  return result.data as T
}

export interface RawOptions {
  query?: Record<string, string | number | boolean | undefined | null>
  body?: unknown
  auth?: boolean
  signal?: AbortSignal
}

/** A JSON request to a route that is not (yet) in the generated schema. */
export async function raw<T>(method: string, path: string, opts: RawOptions = {}): Promise<T> {
  const url = new URL(path, baseUrl)
  for (const [k, v] of Object.entries(opts.query ?? {})) {
    if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, String(v))
  }
  const send = async (): Promise<Response> => {
    const headers: Record<string, string> = { Accept: 'application/json' }
    if (opts.body !== undefined) headers['Content-Type'] = 'application/json'
    const token = opts.auth === false ? null : credentials.token()
    if (token) headers.Authorization = `Bearer ${token}`
    try {
      return await fetch(url, {
        method,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal: opts.signal,
      })
    } catch (e) {
      throw new ApiError(0, 'network', e instanceof Error ? e.message : String(e))
    }
  }
  let res = await send()
  if (res.status === 401 && opts.auth !== false && credentials.token()) {
    if (await credentials.refresh()) res = await send()
    else credentials.expired()
  }
  const body = await parse(res)
  if (!res.ok) throw toApiError(res.status, body)
  return body as T
}
