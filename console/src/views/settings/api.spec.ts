import { afterEach, describe, expect, it, vi } from 'vitest'
import { grantableRoles, isRunning, jobProgress, settingsApi } from './api'

describe('settings helpers', () => {
  it('offers only roles at or below the caller’s own', () => {
    expect(grantableRoles('owner')).toEqual(['owner', 'admin', 'operator', 'analyst'])
    expect(grantableRoles('admin')).toEqual(['admin', 'operator', 'analyst'])
    expect(grantableRoles(null)).toEqual([])
  })
  it('job progress by bytes, then rows; done is 100; running never shows 100', () => {
    expect(
      jobProgress({ id: 'a', kind: 'users', status: 'running', bytes_total: 200, bytes_done: 50 }),
    ).toBe(25)
    expect(
      jobProgress({ id: 'a', kind: 'users', status: 'running', bytes_total: 10, bytes_done: 10 }),
    ).toBe(99)
    expect(
      jobProgress({ id: 'a', kind: 'users', status: 'running', rows_total: 4, rows_done: 1 }),
    ).toBe(25)
    expect(jobProgress({ id: 'a', kind: 'users', status: 'done' })).toBe(100)
    expect(jobProgress({ id: 'a', kind: 'users', status: 'queued' })).toBeNull()
    expect(isRunning({ id: 'a', kind: 'users', status: 'queued' })).toBe(true)
    expect(isRunning({ id: 'a', kind: 'users', status: 'failed' })).toBe(false)
  })
})

describe('settings requests', () => {
  afterEach(() => vi.unstubAllGlobals())
  function lastUrl(fetch: ReturnType<typeof vi.fn>): URL {
    return new URL(String(fetch.mock.calls.at(-1)?.[0]))
  }
  it('lists webhook subscriptions without query parameters (the API refuses any)', async () => {
    const fetch = vi.fn(
      async () =>
        new Response(JSON.stringify({ items: [], next_cursor: null }), {
          headers: { 'Content-Type': 'application/json' },
        }),
    )
    vi.stubGlobal('fetch', fetch)
    await settingsApi.webhooks()
    expect(lastUrl(fetch).pathname).toBe('/v1/webhook-subscriptions')
    expect(lastUrl(fetch).search).toBe('')
    await settingsApi.members(null) // a paged list does send its page size
    expect(lastUrl(fetch).searchParams.get('limit')).toBe('50')
  })
})
