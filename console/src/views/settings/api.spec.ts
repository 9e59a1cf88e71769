import { describe, expect, it } from 'vitest'
import { grantableRoles, isRunning, jobProgress } from './api'

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
