import { describe, expect, it } from 'vitest'
import {
  audienceBody,
  audienceConflict,
  audienceForm,
  emptySchedule,
  FormError,
  limitsBody,
  monthCalendar,
  monthGrid,
  parseCron,
  scheduleBody,
  scheduleForm,
} from './logic'
import { previewQuery } from './api'
import { isoToLocalInput, localInputToIso } from '@/utils/zoned'

describe('audience builder → API body', () => {
  it('drops empty lists, trims and dedupes tags, orders stages', () => {
    expect(audienceBody({ tags_all: [], tags_any: [], tags_none: [], stages: [] })).toEqual({})
    expect(
      audienceBody({
        tags_all: [' vip ', 'vip', ''],
        tags_any: ['a', 'b'],
        tags_none: ['x'],
        stages: ['paying', 'new'],
      }),
    ).toEqual({
      tags_all: ['vip'],
      tags_any: ['a', 'b'],
      tags_none: ['x'],
      stages: ['new', 'paying'],
    })
  })
  it('round-trips through the form and flags a tag both required and excluded', () => {
    const body = { tags_all: ['vip'], tags_none: ['VIP'] }
    const f = audienceForm(body)
    expect(f.tags_any).toEqual([])
    expect(audienceConflict(f)).toBe('vip')
    expect(audienceConflict(audienceForm({ tags_any: ['a'], tags_none: ['b'] }))).toBeNull()
  })
})

describe('audience → preview query', () => {
  it('joins lists with commas and leaves empty ones out', () => {
    expect(
      previewQuery(
        audienceBody({ tags_all: ['vip', 'a'], tags_any: [], tags_none: ['x'], stages: ['new'] }),
      ),
    ).toEqual({
      tags_all: 'vip,a',
      tags_none: 'x',
      stages: 'new',
    })
    expect(previewQuery({})).toEqual({})
  })
})

describe('schedule form → API body', () => {
  const tz = 'Asia/Shanghai'
  it('manual is null; at converts the wall time from the timezone', () => {
    expect(scheduleBody(emptySchedule(), tz)).toBeNull()
    expect(scheduleBody({ ...emptySchedule(), kind: 'at', at: '2026-12-24T20:30' }, tz)).toEqual({
      at: '2026-12-24T12:30:00Z',
    })
    expect(
      scheduleBody({ ...emptySchedule(), kind: 'at', at: '2026-07-01T09:00' }, 'America/New_York'),
    ).toEqual({
      at: '2026-07-01T13:00:00Z',
    })
  })
  it('daily and weekly become cron; raw cron is normalised; after_event keeps its delay', () => {
    expect(scheduleBody({ ...emptySchedule(), kind: 'daily', time: '09:05' }, tz)).toEqual({
      cron: '5 9 * * *',
    })
    expect(
      scheduleBody({ ...emptySchedule(), kind: 'weekly', time: '20:00', weekdays: [5, 1, 5] }, tz),
    ).toEqual({
      cron: '0 20 * * 1,5',
    })
    expect(scheduleBody({ ...emptySchedule(), kind: 'cron', cron: ' 0  8 1 * * ' }, tz)).toEqual({
      cron: '0 8 1 * *',
    })
    expect(
      scheduleBody(
        { ...emptySchedule(), kind: 'after_event', event: 'joined_group', delay_minutes: 30 },
        tz,
      ),
    ).toEqual({
      after_event: { type: 'joined_group', delay_minutes: 30 },
    })
    expect(
      scheduleBody({ ...emptySchedule(), kind: 'after_event', event: 'x', delay_minutes: 0 }, tz),
    ).toEqual({
      after_event: { type: 'x' },
    })
  })
  it('refuses an incomplete form with the field to mark', () => {
    const err = (() => {
      try {
        scheduleBody({ ...emptySchedule(), kind: 'at', at: '' }, tz)
      } catch (e) {
        return e
      }
    })()
    expect(err).toBeInstanceOf(FormError)
    expect((err as FormError).field).toBe('schedule.at')
    expect(() => scheduleBody({ ...emptySchedule(), kind: 'weekly', weekdays: [] }, tz)).toThrow(
      FormError,
    )
    expect(() => scheduleBody({ ...emptySchedule(), kind: 'cron', cron: '0 8 * *' }, tz)).toThrow(
      FormError,
    )
  })
  it('opens a stored schedule in its simplest form', () => {
    expect(scheduleForm({ cron: '5 9 * * *' }, tz)).toMatchObject({ kind: 'daily', time: '09:05' })
    expect(scheduleForm({ cron: '0 20 * * 1,5' }, tz)).toMatchObject({
      kind: 'weekly',
      weekdays: [1, 5],
    })
    expect(scheduleForm({ cron: '*/15 * * * *' }, tz)).toMatchObject({
      kind: 'cron',
      cron: '*/15 * * * *',
    })
    expect(scheduleForm({ at: '2026-12-24T12:30:00Z' }, tz)).toMatchObject({
      kind: 'at',
      at: '2026-12-24T20:30',
    })
    expect(scheduleForm(null, tz).kind).toBe('manual')
  })
  it('caps and quiet hours: inherit is null, none is false', () => {
    const base = {
      inheritCaps: true,
      per_day: null,
      per_week: null,
      quiet: 'inherit' as const,
      quiet_start: '22:00',
      quiet_end: '08:00',
    }
    expect(limitsBody(base)).toEqual({ caps: null, quiet_hours: null })
    expect(limitsBody({ ...base, inheritCaps: false, per_day: 2, quiet: 'custom' })).toEqual({
      caps: { per_day: 2, per_week: null },
      quiet_hours: { start: '22:00', end: '08:00' },
    })
    expect(limitsBody({ ...base, quiet: 'none' }).quiet_hours).toBe(false)
  })
})

describe('timezone helpers', () => {
  it('convert wall time and back', () => {
    expect(localInputToIso('2026-03-08T02:30', 'UTC')).toBe('2026-03-08T02:30:00Z')
    expect(isoToLocalInput('2026-12-31T16:00:00Z', 'Asia/Shanghai')).toBe('2027-01-01T00:00')
  })
})

describe('calendar grouping', () => {
  const tz = 'Asia/Shanghai'
  it('expands a weekly cron into the month by local date', () => {
    const cal = monthCalendar(
      [{ id: 'c1', name: 'Mon', schedule: { cron: '0 10 * * 1' }, timezone: tz }],
      2026,
      12,
      tz,
    )
    // December 2026 Mondays: 7, 14, 21, 28
    expect([...cal.keys()].sort()).toEqual(['2026-12-07', '2026-12-14', '2026-12-21', '2026-12-28'])
    expect(cal.get('2026-12-07')![0]).toMatchObject({
      campaignId: 'c1',
      time: '10:00',
      at: '2026-12-07T02:00:00.000Z',
    })
  })
  it('places a one-off run on its local date, skips paused and event campaigns, sorts a day', () => {
    const cal = monthCalendar(
      [
        { id: 'a', name: 'late', schedule: { at: '2026-12-25T03:30:00Z' } },
        { id: 'b', name: 'early', schedule: { cron: '0 9 25 12 *' }, timezone: tz },
        { id: 'p', name: 'paused', status: 'paused', schedule: { cron: '0 9 * * *' } },
        { id: 'e', name: 'event', schedule: { after_event: { type: 'x' } } },
        { id: 'm', name: 'manual', schedule: null },
      ],
      2026,
      12,
      tz,
    )
    expect([...cal.keys()].sort()).toEqual(['2026-12-25'])
    expect(cal.get('2026-12-25')!.map((r) => r.name)).toEqual(['early', 'late'])
  })
  it('a cron in another zone lands on the viewer’s date; dense crons are capped per day', () => {
    const cal = monthCalendar(
      [{ id: 'ny', name: 'ny', schedule: { cron: '0 20 1 12 *' }, timezone: 'America/New_York' }],
      2026,
      12,
      tz,
    )
    expect([...cal.keys()]).toEqual(['2026-12-02'])
    const dense = monthCalendar(
      [{ id: 'd', name: 'd', schedule: { cron: '*/5 * * * *' } }],
      2026,
      2,
      tz,
      { perCampaignDay: 3 },
    )
    expect(dense.size).toBe(28)
    expect(dense.get('2026-02-10')!.map((r) => r.time)).toEqual(['00:00', '00:05', '00:10'])
  })
  it('parses cron lists, ranges and steps; builds a Monday-first grid', () => {
    const c = parseCron('0,30 9-11 */10 * 1-5')
    expect([...c.minute!]).toEqual([0, 30])
    expect([...c.hour!]).toEqual([9, 10, 11])
    expect([...c.dom!]).toEqual([1, 11, 21, 31])
    expect(() => parseCron('61 * * * *')).toThrow()
    const g = monthGrid(2026, 12)
    expect(g[0]).toEqual([
      null,
      '2026-12-01',
      '2026-12-02',
      '2026-12-03',
      '2026-12-04',
      '2026-12-05',
      '2026-12-06',
    ])
    expect(g.every((w) => w.length === 7)).toBe(true)
  })
})
