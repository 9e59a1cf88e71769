/** Date ranges as the analytics routes take them: inclusive `from`/`to` calendar dates (YYYY-MM-DD)
 * in the tenant's timezone. */
import { dateTimeFormat } from './intl'

export type Preset = 7 | 30 | 90
export const PRESETS: Preset[] = [7, 30, 90]

export interface DateRange {
  from: string
  to: string
}

/** Today's calendar date in a timezone. */
export function today(timeZone: string, now: Date = new Date()): string {
  return dateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(now)
}

export function addDays(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number]
  const t = new Date(Date.UTC(y, m - 1, d + days))
  return t.toISOString().slice(0, 10)
}

/** Number of days in an inclusive range. */
export function rangeDays(r: DateRange): number {
  const a = Date.parse(`${r.from}T00:00:00Z`)
  const b = Date.parse(`${r.to}T00:00:00Z`)
  return Math.round((b - a) / 86_400_000) + 1
}

/** The last `days` days ending today (inclusive) in the timezone. */
export function presetRange(days: number, timeZone: string, now: Date = new Date()): DateRange {
  const to = today(timeZone, now)
  return { from: addDays(to, -(days - 1)), to }
}

/** The range of the same length just before `r` (what "previous period" compares with). */
export function previousRange(r: DateRange): DateRange {
  const n = rangeDays(r)
  return { from: addDays(r.from, -n), to: addDays(r.from, -1) }
}

const DATE = /^\d{4}-\d{2}-\d{2}$/

/** Reads a range from URL query values; falls back to the preset when missing or invalid. */
export function rangeFromQuery(
  q: { from?: unknown; to?: unknown; days?: unknown },
  timeZone: string,
  fallbackDays: Preset = 7,
  now: Date = new Date(),
): DateRange {
  const from = typeof q.from === 'string' ? q.from : ''
  const to = typeof q.to === 'string' ? q.to : ''
  if (DATE.test(from) && DATE.test(to) && from <= to && rangeDays({ from, to }) <= 366) {
    return { from, to }
  }
  const days = Number(q.days)
  const preset = (PRESETS as number[]).includes(days) ? days : fallbackDays
  return presetRange(preset, timeZone, now)
}

/** Which preset a range equals (ending today), if any: the picker highlights it. */
export function matchingPreset(
  r: DateRange,
  timeZone: string,
  now: Date = new Date(),
): Preset | null {
  if (r.to !== today(timeZone, now)) return null
  const n = rangeDays(r)
  return (PRESETS as number[]).includes(n) ? (n as Preset) : null
}

/** Every date of the range, to draw days with no data as zero. */
export function eachDay(r: DateRange): string[] {
  const out: string[] = []
  for (let d = r.from; d <= r.to && out.length < 400; d = addDays(d, 1)) out.push(d)
  return out
}

/** Offset (ms) of a timezone from UTC at an instant. */
function zoneOffset(timeZone: string, at: Date): number {
  const parts = dateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(at)
  const n = (t: string): number => Number(parts.find((p) => p.type === t)?.value)
  const asUtc = Date.UTC(
    n('year'),
    n('month') - 1,
    n('day'),
    n('hour') % 24,
    n('minute'),
    n('second'),
  )
  return asUtc - Math.floor(at.getTime() / 1000) * 1000
}

/** "YYYY-MM-DD HH:mm" wall time in `timeZone` → ISO instant (UTC). */
export function zonedToIso(wall: string, timeZone: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})/.exec(wall)
  if (!m) throw new Error(`not a wall time: ${wall}`)
  const [, y, mo, d, h, mi] = m.map(Number) as [number, number, number, number, number, number]
  const guess = Date.UTC(y, mo - 1, d, h, mi)
  let t = guess - zoneOffset(timeZone, new Date(guess))
  t = guess - zoneOffset(timeZone, new Date(t)) // second pass settles DST edges
  return new Date(t).toISOString().replace('.000Z', 'Z')
}

/** ISO instant → "YYYY-MM-DD HH:mm" wall time in `timeZone`. */
export function isoToZoned(iso: string, timeZone: string): string {
  const d = new Date(iso)
  const local = new Date(d.getTime() + zoneOffset(timeZone, d))
  return local.toISOString().slice(0, 16).replace('T', ' ')
}
