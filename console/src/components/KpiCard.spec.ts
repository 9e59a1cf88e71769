import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import { testI18n } from '@/test/i18n'
import KpiCard from './KpiCard.vue'

const mountCard = (props: {
  title: string
  value?: number
  previous?: number
  inverse?: boolean
  loading?: boolean
}) => mount(KpiCard, { props, global: { plugins: [testI18n()] } })

describe('KpiCard', () => {
  it('shows the value and the rise against the previous period', () => {
    const w = mountCard({ title: '加好友', value: 12345, previous: 10000 })
    expect(w.get('[data-test=kpi-value]').text()).toBe('12,345')
    expect(w.get('[data-test=kpi-delta]').text()).toContain('+23.5%')
    expect(w.get('[data-test=kpi-delta]').classes()).toContain('up')
  })
  it('colours a rise of a bad number (customers lost) as bad', () => {
    const w = mountCard({ title: '流失', value: 20, previous: 10, inverse: true })
    expect(w.get('[data-test=kpi-delta]').classes()).toContain('down')
  })
  it('says when there is nothing to compare with', () => {
    expect(
      mountCard({ title: 'x', value: 3, previous: 0 }).get('[data-test=kpi-delta]').text(),
    ).toBe('上一周期无数据')
  })
  it('keeps its place while loading, with no number (0 would be a lie)', () => {
    const w = mountCard({ title: '扫码', loading: true })
    expect(w.find('[data-test=kpi-value]').exists()).toBe(false)
    expect(w.find('[data-test=kpi-delta]').exists()).toBe(false)
    expect(w.find('.value .placeholder').exists()).toBe(true)
    expect(w.text()).toContain('扫码')
  })
})
