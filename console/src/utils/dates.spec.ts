import { describe, expect, it } from 'vitest'
import {
  addDays,
  eachDay,
  isoToZoned,
  matchingPreset,
  presetRange,
  previousRange,
  rangeDays,
  rangeFromQuery,
  today,
  zonedToIso,
} from './dates'

// 2026-12-01 17:00 UTC is already 2026-12-02 in Shanghai
const NOW = new Date('2026-12-01T17:00:00Z')

describe('date ranges', () => {
  it('takes today in the tenant timezone, not UTC', () => {
    expect(today('Asia/Shanghai', NOW)).toBe('2026-12-02')
    expect(today('UTC', NOW)).toBe('2026-12-01')
  })
  it('builds inclusive presets ending today', () => {
    expect(presetRange(7, 'Asia/Shanghai', NOW)).toEqual({ from: '2026-11-26', to: '2026-12-02' })
    expect(rangeDays(presetRange(30, 'Asia/Shanghai', NOW))).toBe(30)
  })
  it('compares with the period of the same length just before', () => {
    expect(previousRange({ from: '2026-11-26', to: '2026-12-02' })).toEqual({
      from: '2026-11-19',
      to: '2026-11-25',
    })
  })
  it('reads the URL, falling back to the preset on bad input', () => {
    const tz = 'Asia/Shanghai'
    expect(rangeFromQuery({ from: '2026-10-01', to: '2026-10-31' }, tz, 7, NOW)).toEqual({
      from: '2026-10-01',
      to: '2026-10-31',
    })
    expect(rangeFromQuery({ days: '30' }, tz, 7, NOW)).toEqual(presetRange(30, tz, NOW))
    expect(rangeFromQuery({ from: '2026-10-31', to: '2026-10-01' }, tz, 7, NOW)).toEqual(
      presetRange(7, tz, NOW),
    )
    expect(rangeFromQuery({ from: 'x', to: 'y', days: '13' }, tz, 7, NOW)).toEqual(
      presetRange(7, tz, NOW),
    )
    expect(rangeFromQuery({ from: '2024-01-01', to: '2026-01-01' }, tz, 7, NOW)).toEqual(
      presetRange(7, tz, NOW),
    )
  })
  it('recognises a preset for the picker', () => {
    expect(matchingPreset(presetRange(90, 'Asia/Shanghai', NOW), 'Asia/Shanghai', NOW)).toBe(90)
    expect(
      matchingPreset({ from: '2026-10-01', to: '2026-10-07' }, 'Asia/Shanghai', NOW),
    ).toBeNull()
  })
  it('lists every day, across month ends', () => {
    expect(eachDay({ from: '2026-02-27', to: '2026-03-02' })).toEqual([
      '2026-02-27',
      '2026-02-28',
      '2026-03-01',
      '2026-03-02',
    ])
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01')
  })
})

describe('wall time in a timezone', () => {
  it('converts Shanghai wall time to UTC and back', () => {
    expect(zonedToIso('2026-12-02 09:00', 'Asia/Shanghai')).toBe('2026-12-02T01:00:00Z')
    expect(isoToZoned('2026-12-02T01:00:00Z', 'Asia/Shanghai')).toBe('2026-12-02 09:00')
  })
  it('handles daylight saving time', () => {
    expect(zonedToIso('2026-07-01 12:00', 'America/New_York')).toBe('2026-07-01T16:00:00Z')
    expect(zonedToIso('2026-12-01 12:00', 'America/New_York')).toBe('2026-12-01T17:00:00Z')
    expect(isoToZoned('2026-07-01T16:00:00Z', 'America/New_York')).toBe('2026-07-01 12:00')
  })
})
