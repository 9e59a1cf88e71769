import { describe, expect, it } from 'vitest'
import { countdown, delta, fillRatio, formatNumber, formatTime } from './format'

describe('formatNumber', () => {
  it('groups thousands', () => {
    expect(formatNumber(1234567, 'zh-CN')).toBe('1,234,567')
    expect(formatNumber(1234567, 'en')).toBe('1,234,567')
    expect(formatNumber(12.345, 'en')).toBe('12.3')
  })
  it('writes what Intl.NumberFormat writes for the console locales', () => {
    const values = [
      0,
      -0,
      1,
      -1,
      0.04,
      -0.04,
      0.05,
      0.25,
      1.05,
      1.45,
      2.25,
      -2.25,
      999.95,
      999.94,
      1000,
      -1234.56,
      12345678.9,
      1e14 + 0.5,
      123456789012345,
      7.5e-7,
      33.333333,
    ]
    for (const locale of ['zh-CN', 'en']) {
      const intl = new Intl.NumberFormat(locale, { maximumFractionDigits: 1 })
      for (const v of values) expect(formatNumber(v, locale), `${locale} ${v}`).toBe(intl.format(v))
    }
    let seed = 7
    const random = (): number => ((seed = (seed * 48271) % 2147483647) / 2147483647) * 2 - 1
    for (let i = 0; i < 3000; i++) {
      const v = Math.round(random() * 10 ** (i % 9)) / 10 ** (i % 4) + (i % 5 === 0 ? 0.05 : 0)
      expect(formatNumber(v, 'en'), String(v)).toBe(
        new Intl.NumberFormat('en', { maximumFractionDigits: 1 }).format(v),
      )
    }
    expect(formatNumber(Infinity, 'en')).toBe('∞')
    expect(formatNumber(1234.5, 'de')).toBe('1.234,5')
  })
  it('shows a dash for missing values', () => {
    expect(formatNumber(undefined)).toBe('–')
    expect(formatNumber(null)).toBe('–')
  })
})

describe('formatTime', () => {
  it('formats in the tenant timezone with the zone visible', () => {
    expect(formatTime('2026-12-01T16:30:00Z', 'Asia/Shanghai')).toBe(
      '2026-12-02 00:30 (Asia/Shanghai)',
    )
    expect(formatTime('2026-12-01T16:30:00Z', 'America/New_York')).toBe(
      '2026-12-01 11:30 (America/New_York)',
    )
    expect(formatTime('2026-12-01T16:30:00Z', 'Asia/Shanghai', 'zh-CN', false)).toBe(
      '2026-12-02 00:30',
    )
  })
  it('passes through what it cannot parse', () => {
    expect(formatTime(null, 'Asia/Shanghai')).toBe('–')
    expect(formatTime('soon', 'Asia/Shanghai')).toBe('soon')
  })
})

describe('delta', () => {
  it('is the percentage change against the previous period', () => {
    expect(delta(150, 100)).toBe(50)
    expect(delta(50, 100)).toBe(-50)
    expect(delta(0, 0)).toBe(0)
  })
  it('is null when there is nothing to compare with', () => {
    expect(delta(5, 0)).toBeNull()
    expect(delta(5, undefined)).toBeNull()
  })
})

describe('countdown', () => {
  const now = Date.parse('2026-12-02T00:00:00Z')
  it('splits the time left and flags under 48 hours', () => {
    const c = countdown('2026-12-03T05:30:00Z', now)!
    expect([c.days, c.hours, c.minutes, c.soon, c.expired]).toEqual([1, 5, 30, true, false])
    expect(countdown('2026-12-09T00:00:00Z', now)!.soon).toBe(false)
  })
  it('marks the past as expired', () => {
    const c = countdown('2026-12-01T00:00:00Z', now)!
    expect([c.expired, c.soon, c.days]).toEqual([true, false, 0])
  })
  it('is null without a date', () => {
    expect(countdown(null, now)).toBeNull()
  })
})

describe('fillRatio', () => {
  it('clamps assigned / capacity to 0..1', () => {
    expect(fillRatio(50, 200)).toBe(0.25)
    expect(fillRatio(250, 200)).toBe(1)
  })
  it('is null for unlimited targets', () => {
    expect(fillRatio(5, null)).toBeNull()
    expect(fillRatio(5, 0)).toBeNull()
  })
})
