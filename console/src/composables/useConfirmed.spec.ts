import { mount } from '@vue/test-utils'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { defineComponent } from 'vue'
import { testI18n } from '@/test/i18n'
import { useConfirmed } from './useConfirmed'

const answer = vi.hoisted(() => ({ yes: true }))
const toast = vi.hoisted(() => ({ ok: vi.fn(), error: vi.fn() }))
vi.mock('@/utils/confirm', () => ({ confirmNamed: vi.fn(async () => answer.yes) }))
vi.mock('@/utils/notify', () => ({ toast }))

function confirmed() {
  let fn: ReturnType<typeof useConfirmed> | undefined
  mount(
    defineComponent({
      setup() {
        fn = useConfirmed()
        return () => null
      },
    }),
    { global: { plugins: [testI18n('en')] } },
  )
  return fn!
}
const ask = { title: 'Delete?', message: 'Delete "x"?' }

describe('useConfirmed', () => {
  beforeEach(() => {
    answer.yes = true
    toast.ok.mockClear()
    toast.error.mockClear()
  })
  it('does nothing when the confirmation is declined', async () => {
    answer.yes = false
    const action = vi.fn(async () => null)
    expect(await confirmed()(ask, action)).toBe(false)
    expect(action).not.toHaveBeenCalled()
  })
  it('acts, says so, then runs what comes after', async () => {
    const order: string[] = []
    const done = await confirmed()(
      ask,
      async () => order.push('action'),
      () => order.push('after'),
    )
    expect(done).toBe(true)
    expect(order).toEqual(['action', 'after'])
    expect(toast.ok).toHaveBeenCalledOnce()
  })
  it('shows why it failed and skips what comes after', async () => {
    const after = vi.fn()
    const done = await confirmed()(
      ask,
      async () => {
        throw new Error('conflict')
      },
      after,
    )
    expect(done).toBe(false)
    expect(toast.error).toHaveBeenCalledWith('conflict')
    expect(after).not.toHaveBeenCalled()
  })
})
