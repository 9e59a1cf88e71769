import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import { testI18n } from '@/test/i18n'
import FillBar from './FillBar.vue'

const mountBar = (props: { assigned?: number; capacity?: number | null }) =>
  mount(FillBar, { props, global: { plugins: [testI18n()] } })

describe('FillBar', () => {
  it('shows assigned / capacity with a progressbar', () => {
    const w = mountBar({ assigned: 1200, capacity: 2000 })
    expect(w.text()).toContain('1,200 / 2,000')
    const bar = w.get('[role=progressbar]')
    expect(bar.attributes('aria-valuenow')).toBe('1200')
    expect(bar.attributes('aria-valuemax')).toBe('2000')
    expect(w.get('.bar').attributes('style')).toContain('width: 60%')
    expect(w.get('.fill').attributes('data-state')).toBe('ok')
  })
  it('warns near capacity and marks full', () => {
    expect(mountBar({ assigned: 170, capacity: 200 }).get('.fill').attributes('data-state')).toBe(
      'warn',
    )
    expect(mountBar({ assigned: 200, capacity: 200 }).get('.fill').attributes('data-state')).toBe(
      'full',
    )
    expect(mountBar({ assigned: 250, capacity: 200 }).get('.bar').attributes('style')).toContain(
      'width: 100%',
    )
  })
  it('has no bar for an unlimited target', () => {
    const w = mountBar({ assigned: 7, capacity: null })
    expect(w.find('[role=progressbar]').exists()).toBe(false)
    expect(w.text()).toContain('7 / ∞')
    expect(w.get('.fill').attributes('data-state')).toBe('open')
  })
})
