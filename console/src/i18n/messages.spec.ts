import { isMessageAST } from '@intlify/core-base'
import { describe, expect, it } from 'vitest'
import { compileMessage } from '../../scripts/precompile-messages.mjs'
import { testI18n } from '@/test/i18n'
import { buildMessages } from '.'

type Tree = { [key: string]: unknown }

function leaves(tree: Tree, path = ''): Array<[string, unknown]> {
  return Object.entries(tree).flatMap(([k, v]) =>
    v && typeof v === 'object' && !Array.isArray(v) && !isMessageAST(v)
      ? leaves(v as Tree, `${path}${k}.`)
      : [[`${path}${k}`, v] as [string, unknown]],
  )
}

describe('messages compiled at build time', () => {
  it('reach the app as message ASTs, not strings (the compiler is not shipped)', () => {
    const messages = buildMessages() as unknown as Record<string, Tree>
    for (const locale of ['zh-CN', 'en']) {
      const all = leaves(messages[locale]!)
      expect(all.length).toBeGreaterThan(300)
      const strings = all.filter(([, v]) => typeof v === 'string').map(([k]) => k)
      expect(strings, locale).toEqual([])
    }
  })

  it('translate with their parameters in both languages', () => {
    expect(testI18n('en').global.t('common.last', { n: 30 })).toBe('Last 30 days')
    expect(testI18n('zh-CN').global.t('common.last', { n: 7 })).toBe('近 7 天')
    expect(testI18n('en').global.t('overview.metric.new_visitors')).toBe('New visitors')
  })

  it('fail the build on a message that does not compile', () => {
    expect(() => compileMessage('Last {n days', 'x')).toThrow(/i18n message/)
    expect(compileMessage('Hello')).toMatchObject({ b: { s: 'Hello' } })
  })
})
