import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { useAuthStore } from './auth'

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })

beforeEach(() => {
  localStorage.clear()
  sessionStorage.clear()
  vi.unstubAllGlobals()
  setActivePinia(createPinia())
})

describe('auth store', () => {
  it('an API key without /v1/me (before team accounts) gets the tenant from /v1/tenant', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: URL) =>
        url.pathname === '/v1/me'
          ? json(404, {
              error: { code: 'not-found', message: 'No route matches this method and path.' },
            })
          : json(200, { tenant_id: 't1', name: 'Demo', timezone: 'Asia/Shanghai' }),
      ),
    )
    const auth = useAuthStore()
    await auth.signInWithKey(' yt_key ')
    expect(auth.signedIn).toBe(true)
    expect(auth.tenant).toEqual({ id: 't1', name: 'Demo', timezone: 'Asia/Shanghai' })
    expect(auth.canWrite).toBe(true)
    expect(sessionStorage.getItem('yutang.apikey')).toBe('yt_key')
  })

  it('a rejected key leaves the console signed out', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => json(401, { error: { code: 'unauthorized', message: 'bad key' } })),
    )
    const auth = useAuthStore()
    await expect(auth.signInWithKey('yt_bad')).rejects.toMatchObject({ status: 401 })
    expect(auth.signedIn).toBe(false)
    expect(sessionStorage.getItem('yutang.apikey')).toBeNull()
  })

  it('an analyst member is read-only', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () =>
        json(201, {
          token: 'tok',
          refresh_token: 'ref',
          expires_at: '2026-12-02T10:00:00Z',
          member: { id: 'm1', email: 'a@x.dev', name: 'A', role: 'analyst', tenant_id: 't1' },
          tenant: { id: 't1', name: 'Demo', timezone: 'Asia/Shanghai' },
        }),
      ),
    )
    const auth = useAuthStore()
    await auth.signInWithPassword('a@x.dev', 'pw')
    expect(auth.role).toBe('analyst')
    expect(auth.canWrite).toBe(false)
    expect(JSON.parse(localStorage.getItem('yutang.session')!)).toMatchObject({
      token: 'tok',
      refresh_token: 'ref',
    })
  })

  it('accepting an invite posts the password (and name) without credentials and signs in', async () => {
    const fetch = vi.fn(async (url: URL, init: RequestInit) => {
      expect(url.pathname).toBe('/v1/invites/tok%2Fx/accept')
      expect(new Headers(init.headers).get('Authorization')).toBeNull()
      expect(JSON.parse(String(init.body))).toEqual({ password: 'a-long-password', name: '小运营' })
      return json(201, {
        token: 'tok',
        refresh_token: 'ref',
        expires_at: 'x',
        member: { id: 'm2', email: 'o@x.dev', name: '小运营', role: 'operator', tenant_id: 't1' },
        tenant: { id: 't1', name: 'Demo', timezone: 'Asia/Shanghai' },
      })
    })
    vi.stubGlobal('fetch', fetch)
    const auth = useAuthStore()
    await auth.acceptInvite('tok/x', 'a-long-password', '小运营')
    expect(auth.role).toBe('operator')
    expect(auth.canWrite).toBe(true)
    expect(JSON.parse(localStorage.getItem('yutang.session')!)).toMatchObject({ token: 'tok' })
  })

  it('refreshes a member session once for concurrent 401s', async () => {
    localStorage.setItem('yutang.session', JSON.stringify({ token: 'old', refresh_token: 'r1' }))
    setActivePinia(createPinia())
    const fetch = vi.fn(async (_url: URL, init: RequestInit) => {
      expect(JSON.parse(String(init.body))).toEqual({ refresh_token: 'r1' })
      return json(201, {
        token: 'new',
        refresh_token: 'r2',
        expires_at: 'x',
        member: {},
        tenant: {},
      })
    })
    vi.stubGlobal('fetch', fetch)
    const auth = useAuthStore()
    const [a, b] = await Promise.all([auth.refresh(), auth.refresh()])
    expect([a, b]).toEqual([true, true])
    expect(fetch).toHaveBeenCalledTimes(1)
    expect(JSON.parse(localStorage.getItem('yutang.session')!).token).toBe('new')
  })
})
