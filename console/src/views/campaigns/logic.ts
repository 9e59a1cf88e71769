/**
 * Campaign form logic (pure, unit-tested): the audience builder and the schedule form into the
 * API's body, back again for editing, and the calendar of due runs (cron expanded in the
 * campaign's timezone).
 */
import { dateKey, isoToLocalInput, localInputToIso, wallTime, zonedToInstant } from '@/utils/zoned'

export const STAGES = ['new', 'active', 'silent', 'churned', 'paying'] as const
export type Stage = (typeof STAGES)[number]
export const CHANNELS = ['outbox', 'webhook', 'wecom'] as const
export type Channel = (typeof CHANNELS)[number]

export interface AudienceForm {
  tags_all: string[]
  tags_any: string[]
  tags_none: string[]
  stages: Stage[]
}

export interface AudienceBody {
  tags_all?: string[]
  tags_any?: string[]
  tags_none?: string[]
  stages?: Stage[]
}

function cleanTags(tags: string[]): string[] {
  const out: string[] = []
  for (const raw of tags) {
    const t = raw.trim()
    if (t && !out.includes(t)) out.push(t)
  }
  return out
}

/** The audience builder's state → the API body: empty lists left out (`{}` = every user). */
export function audienceBody(f: AudienceForm): AudienceBody {
  const body: AudienceBody = {}
  const all = cleanTags(f.tags_all)
  const any = cleanTags(f.tags_any)
  const none = cleanTags(f.tags_none)
  if (all.length) body.tags_all = all
  if (any.length) body.tags_any = any
  if (none.length) body.tags_none = none
  const stages = STAGES.filter((s) => f.stages.includes(s))
  if (stages.length) body.stages = stages
  return body
}

export function audienceForm(a: AudienceBody | null | undefined): AudienceForm {
  return {
    tags_all: [...(a?.tags_all ?? [])],
    tags_any: [...(a?.tags_any ?? [])],
    tags_none: [...(a?.tags_none ?? [])],
    stages: [...(a?.stages ?? [])],
  }
}

/** A tag both required and excluded: the API refuses it; the form says so before sending. */
export function audienceConflict(f: AudienceForm): string | null {
  const none = new Set(cleanTags(f.tags_none).map((t) => t.toLowerCase()))
  return cleanTags([...f.tags_all, ...f.tags_any]).find((t) => none.has(t.toLowerCase())) ?? null
}

// ---- schedule ---------------------------------------------------------------------------------

export type ScheduleKind = 'manual' | 'at' | 'daily' | 'weekly' | 'cron' | 'after_event'

export interface ScheduleForm {
  kind: ScheduleKind
  /** "YYYY-MM-DDTHH:mm" in the campaign's timezone */
  at: string
  /** "HH:mm" for daily / weekly */
  time: string
  /** 0..6 (Sunday = 0) for weekly */
  weekdays: number[]
  cron: string
  event: string
  delay_minutes: number
}

export type ScheduleBody =
  | null
  | { at: string }
  | { cron: string }
  | { after_event: { type: string; delay_minutes?: number } }

export function emptySchedule(): ScheduleForm {
  return {
    kind: 'manual',
    at: '',
    time: '10:00',
    weekdays: [1],
    cron: '0 10 * * *',
    event: 'joined_group',
    delay_minutes: 0,
  }
}

export class FormError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message)
  }
}

function hm(time: string): [number, number] {
  const m = /^(\d{1,2}):(\d{2})$/.exec(time.trim())
  if (!m || Number(m[1]) > 23 || Number(m[2]) > 59) throw new FormError('schedule', 'time HH:mm')
  return [Number(m[1]), Number(m[2])]
}

/** The schedule form → the API's `schedule` (the `at` wall time converted from the timezone). */
export function scheduleBody(f: ScheduleForm, timeZone: string): ScheduleBody {
  switch (f.kind) {
    case 'manual':
      return null
    case 'at': {
      const iso = localInputToIso(f.at, timeZone)
      if (!iso) throw new FormError('schedule.at', 'date and time required')
      return { at: iso }
    }
    case 'daily': {
      const [h, m] = hm(f.time)
      return { cron: `${m} ${h} * * *` }
    }
    case 'weekly': {
      const [h, m] = hm(f.time)
      const days = [...new Set(f.weekdays)].filter((d) => d >= 0 && d <= 6).sort()
      if (!days.length) throw new FormError('schedule.cron', 'pick at least one weekday')
      return { cron: `${m} ${h} * * ${days.join(',')}` }
    }
    case 'cron': {
      const cron = f.cron.trim().split(/\s+/).join(' ')
      if (cron.split(' ').length !== 5) throw new FormError('schedule.cron', '5 fields')
      return { cron }
    }
    case 'after_event': {
      const type = f.event.trim()
      if (!type) throw new FormError('schedule.after_event.type', 'event type required')
      const delay = Math.max(0, Math.floor(Number(f.delay_minutes) || 0))
      return { after_event: delay ? { type, delay_minutes: delay } : { type } }
    }
  }
}

/** The API's schedule → the form (a plain daily/weekly cron opens in its simple form). */
export function scheduleForm(
  s: ScheduleBody | Record<string, unknown> | undefined,
  timeZone: string,
): ScheduleForm {
  const f = emptySchedule()
  if (!s || typeof s !== 'object') return f
  if ('at' in s && typeof s.at === 'string')
    return { ...f, kind: 'at', at: isoToLocalInput(s.at, timeZone) }
  if ('after_event' in s && s.after_event && typeof s.after_event === 'object') {
    const ev = s.after_event as { type?: string; delay_minutes?: number }
    return { ...f, kind: 'after_event', event: ev.type ?? '', delay_minutes: ev.delay_minutes ?? 0 }
  }
  if ('cron' in s && typeof s.cron === 'string') {
    const cron = s.cron
    const m = /^(\d{1,2}) (\d{1,2}) \* \* (\*|[0-6](?:,[0-6])*)$/.exec(cron)
    if (m) {
      const time = `${m[2]!.padStart(2, '0')}:${m[1]!.padStart(2, '0')}`
      if (m[3] === '*') return { ...f, kind: 'daily', time, cron }
      return { ...f, kind: 'weekly', time, weekdays: m[3]!.split(',').map(Number), cron }
    }
    return { ...f, kind: 'cron', cron }
  }
  return f
}

// ---- caps and quiet hours ---------------------------------------------------------------------

export interface LimitsForm {
  inheritCaps: boolean
  per_day: number | null
  per_week: number | null
  quiet: 'inherit' | 'none' | 'custom'
  quiet_start: string
  quiet_end: string
}

export function limitsBody(f: LimitsForm): {
  caps?: { per_day: number | null; per_week: number | null } | null
  quiet_hours: { start: string; end: string } | false | null
} {
  const out: ReturnType<typeof limitsBody> = {
    quiet_hours:
      f.quiet === 'inherit'
        ? null
        : f.quiet === 'none'
          ? false
          : { start: f.quiet_start, end: f.quiet_end },
  }
  out.caps = f.inheritCaps ? null : { per_day: f.per_day || null, per_week: f.per_week || null }
  return out
}

// ---- calendar ---------------------------------------------------------------------------------

type CronField = Set<number> | null // null: any

function parseField(src: string, lo: number, hi: number): CronField {
  if (src === '*') return null
  const out = new Set<number>()
  for (const part of src.split(',')) {
    const [range, stepRaw] = part.split('/') as [string, string | undefined]
    const step = stepRaw ? Number(stepRaw) : 1
    let a: number
    let b: number
    if (range === '*') [a, b] = [lo, hi]
    else if (range.includes('-')) [a, b] = range.split('-').map(Number) as [number, number]
    else [a, b] = [Number(range), stepRaw ? hi : Number(range)]
    if (![a, b, step].every(Number.isInteger) || step < 1 || a < lo || b > hi || a > b) {
      throw new Error(`bad cron field ${src}`)
    }
    for (let v = a; v <= b; v += step) out.add(v === 7 && hi === 7 ? 0 : v)
  }
  return out
}

export interface Cron {
  minute: CronField
  hour: CronField
  dom: CronField
  month: CronField
  dow: CronField
}

export function parseCron(expr: string): Cron {
  const f = expr.trim().split(/\s+/)
  if (f.length !== 5) throw new Error('cron has 5 fields')
  return {
    minute: parseField(f[0]!, 0, 59),
    hour: parseField(f[1]!, 0, 23),
    dom: parseField(f[2]!, 1, 31),
    month: parseField(f[3]!, 1, 12),
    dow: parseField(f[4]!, 0, 7),
  }
}

const has = (f: CronField, v: number): boolean => f === null || f.has(v)
const values = (f: CronField, lo: number, hi: number): number[] => {
  const out: number[] = []
  for (let v = lo; v <= hi; v++) if (has(f, v)) out.push(v)
  return out
}

export interface DueRun {
  campaignId: string
  name: string
  /** ISO instant */
  at: string
  /** "HH:mm" in the calendar's timezone */
  time: string
}

export interface CalendarCampaign {
  id: string
  name: string
  status?: string
  schedule?: ScheduleBody | Record<string, unknown> | null
  timezone?: string
}

/**
 * Runs due in a month, grouped by date (YYYY-MM-DD in `viewZone`): one-off `at` runs and cron
 * occurrences (expanded in the campaign's own timezone, as the scheduler fires them). Paused
 * campaigns and after-event campaigns have no calendar entries. At most `perCampaignDay` entries
 * per campaign and day (a "every 5 minutes" cron shows its first few and a count).
 */
export function monthCalendar(
  campaigns: CalendarCampaign[],
  year: number,
  month: number,
  viewZone: string,
  opts: { from?: Date; perCampaignDay?: number } = {},
): Map<string, DueRun[]> {
  const perDay = opts.perCampaignDay ?? 6
  const from = opts.from?.getTime() ?? -Infinity
  const start = zonedToInstant(year, month, 1, 0, 0, viewZone).getTime()
  const end = zonedToInstant(
    month === 12 ? year + 1 : year,
    month === 12 ? 1 : month + 1,
    1,
    0,
    0,
    viewZone,
  ).getTime()
  const out = new Map<string, DueRun[]>()
  const add = (c: CalendarCampaign, t: number, counter: Map<string, number>): void => {
    if (t < start || t >= end || t < from) return
    const w = wallTime(t, viewZone)
    const key = dateKey(w)
    const n = counter.get(key) ?? 0
    counter.set(key, n + 1)
    if (n >= perDay) return
    const list = out.get(key) ?? []
    list.push({
      campaignId: c.id,
      name: c.name,
      at: new Date(t).toISOString(),
      time: `${String(w.hour).padStart(2, '0')}:${String(w.minute).padStart(2, '0')}`,
    })
    out.set(key, list)
  }
  for (const c of campaigns) {
    if (c.status === 'paused' || !c.schedule || typeof c.schedule !== 'object') continue
    const s = c.schedule as Record<string, unknown>
    const counter = new Map<string, number>()
    if (typeof s.at === 'string') {
      add(c, new Date(s.at).getTime(), counter)
    } else if (typeof s.cron === 'string') {
      let cron: Cron
      try {
        cron = parseCron(s.cron)
      } catch {
        continue
      }
      const zone = c.timezone || viewZone
      // Days of the campaign's zone that can overlap the view month (one day either side).
      const seen = new Set<string>()
      for (let t = start - 86_400_000; t < end + 86_400_000; t += 3_600_000 * 12) {
        const w = wallTime(t, zone)
        if (seen.has(dateKey(w))) continue
        seen.add(dateKey(w))
        if (!has(cron.month, w.month)) continue
        const domOk = has(cron.dom, w.day)
        const dowOk = has(cron.dow, w.weekday)
        // Vixie cron: when both day fields are restricted, either one matching is enough.
        const dayOk = cron.dom !== null && cron.dow !== null ? domOk || dowOk : domOk && dowOk
        if (!dayOk) continue
        for (const h of values(cron.hour, 0, 23)) {
          for (const m of values(cron.minute, 0, 59)) {
            add(c, zonedToInstant(w.year, w.month, w.day, h, m, zone).getTime(), counter)
          }
        }
      }
    }
  }
  for (const list of out.values()) list.sort((a, b) => a.at.localeCompare(b.at))
  return out
}

/** The calendar grid of a month: weeks (Monday first) of date keys, null outside the month. */
export function monthGrid(year: number, month: number): (string | null)[][] {
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate()
  const firstDow = (new Date(Date.UTC(year, month - 1, 1)).getUTCDay() + 6) % 7
  const cells: (string | null)[] = Array(firstDow).fill(null)
  for (let d = 1; d <= days; d++) cells.push(dateKey({ year, month, day: d }))
  while (cells.length % 7) cells.push(null)
  const weeks: (string | null)[][] = []
  for (let i = 0; i < cells.length; i += 7) weeks.push(cells.slice(i, i + 7))
  return weeks
}
