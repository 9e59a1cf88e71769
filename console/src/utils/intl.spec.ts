import { describe, expect, it } from 'vitest'
import { dateTimeFormat, numberFormat } from './intl'

describe('intl formatters', () => {
  it('makes one formatter per locale and options', () => {
    const a = dateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric' })
    expect(dateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric' })).toBe(a)
    expect(dateTimeFormat('en-CA', { timeZone: 'UTC', year: 'numeric' })).not.toBe(a)
    expect(dateTimeFormat('en-US', { timeZone: 'Asia/Shanghai', year: 'numeric' })).not.toBe(a)
    const n = numberFormat('zh-CN', { maximumFractionDigits: 1 })
    expect(numberFormat('zh-CN', { maximumFractionDigits: 1 })).toBe(n)
    expect(numberFormat('en', { maximumFractionDigits: 1 })).not.toBe(n)
    expect(n.format(12345.67)).toBe('12,345.7')
  })

  it('still refuses an unknown timezone', () => {
    expect(() => dateTimeFormat('en-CA', { timeZone: 'Mars/Base' })).toThrow(RangeError)
  })
})
