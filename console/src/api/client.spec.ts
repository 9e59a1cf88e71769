import { afterEach, describe, expect, it, vi } from 'vitest'
import { api, call, raw, setCredentials } from './client'
import { ApiError, fieldErrors, toApiError } from './errors'

function respond(status: number, body: unknown): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' },
  })
}

afterEach(() => {
  vi.unstubAllGlobals()
  setCredentials({ token: () => null, refresh: async () => false, expired: () => {} })
})

describe('toApiError', () => {
  it('reads the contract error body', () => {
    const e = toApiError(400, {
      error: { code: 'invalid', message: "'name' is required", field: 'name' },
    })
    expect([e.status, e.code, e.message, e.field]).toEqual([
      400,
      'invalid',
      "'name' is required",
      'name',
    ])
    expect(fieldErrors(e)).toEqual({ name: "'name' is required" })
  })
  it('copes with gateway messages, text and nothing', () => {
    expect(toApiError(403, { message: 'Forbidden' }).message).toBe('Forbidden')
    expect(toApiError(502, '<html>bad gateway</html>').code).toBe('http-502')
    expect(toApiError(500, null).message).toBe('HTTP 500')
    expect(fieldErrors(new Error('x'))).toEqual({})
  })
  it('tells a missing route from a missing object', () => {
    const route = toApiError(404, {
      error: { code: 'not-found', message: 'No route matches this method and path.' },
    })
    const object = toApiError(404, {
      error: { code: 'livecode-not-found', message: 'no such live code' },
    })
    expect(route.missingRoute).toBe(true)
    expect(object.missingRoute).toBe(false)
  })
})

describe('call (typed client)', () => {
  it('sends the bearer and returns the data', async () => {
    const fetch = vi.fn(async (req: Request) => {
      expect(req.headers.get('Authorization')).toBe('Bearer yt_key')
      return respond(200, { items: [], next_cursor: null })
    })
    vi.stubGlobal('fetch', fetch)
    setCredentials({ token: () => 'yt_key', refresh: async () => false, expired: () => {} })
    const page = await call(() => api.GET('/v1/livecodes', { fetch }))
    expect(page).toEqual({ items: [], next_cursor: null })
  })
  it('throws the API error with its field', async () => {
    const fetch = vi.fn(async () =>
      respond(400, { error: { code: 'invalid', message: 'bad channel', field: 'channel' } }),
    )
    await expect(
      call(() => api.POST('/v1/livecodes', { body: { name: 'x', channel: '' }, fetch })),
    ).rejects.toMatchObject({ status: 400, field: 'channel', message: 'bad channel' })
  })
  it('refreshes once on 401 and retries', async () => {
    let token = 'old'
    const fetch = vi.fn(async (req: Request) =>
      req.headers.get('Authorization') === 'Bearer new'
        ? respond(200, { ok: 1 })
        : respond(401, { error: { code: 'unauthorized', message: 'expired' } }),
    )
    const refresh = vi.fn(async () => {
      token = 'new'
      return true
    })
    setCredentials({ token: () => token, refresh, expired: () => {} })
    const data = await call(() => api.GET('/v1/tenant', { fetch }))
    expect(data).toEqual({ ok: 1 })
    expect(refresh).toHaveBeenCalledTimes(1)
    expect(fetch).toHaveBeenCalledTimes(2)
  })
  it('signs out when the refresh fails', async () => {
    const fetch = vi.fn(async () =>
      respond(401, { error: { code: 'unauthorized', message: 'expired' } }),
    )
    const expired = vi.fn()
    setCredentials({ token: () => 't', refresh: async () => false, expired })
    await expect(call(() => api.GET('/v1/tenant', { fetch }))).rejects.toBeInstanceOf(ApiError)
    expect(expired).toHaveBeenCalledTimes(1)
  })
  it('maps a network failure', async () => {
    const fetch = vi.fn(async () => {
      throw new TypeError('Failed to fetch')
    })
    await expect(call(() => api.GET('/v1/tenant', { fetch }))).rejects.toMatchObject({
      code: 'network',
      status: 0,
    })
  })
})

describe('raw (routes not yet in the schema)', () => {
  it('adds the query, the body and the bearer', async () => {
    const fetch = vi.fn(async (url: URL, init: RequestInit) => {
      expect(url.pathname + url.search).toBe(
        '/v1/analytics/overview?from=2026-12-01&tz=Asia%2FShanghai',
      )
      expect((init.headers as Record<string, string>).Authorization).toBe('Bearer k')
      return respond(200, { totals: {} })
    })
    vi.stubGlobal('fetch', fetch)
    setCredentials({ token: () => 'k', refresh: async () => false, expired: () => {} })
    await raw('GET', '/v1/analytics/overview', {
      query: { from: '2026-12-01', to: '', tz: 'Asia/Shanghai' },
    })
    expect(fetch).toHaveBeenCalledTimes(1)
  })
  it('throws ApiError on 404 route', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () =>
        respond(404, {
          error: { code: 'not-found', message: 'No route matches this method and path.' },
        }),
      ),
    )
    await expect(raw('GET', '/v1/alerts')).rejects.toMatchObject({ missingRoute: true })
  })
})
