/** Wall-clock times in a named timezone (the tenant's or a campaign's) ⇄ instants, with Intl only. */

export interface WallTime {
  year: number
  month: number // 1..12
  day: number
  hour: number
  minute: number
  /** 0 = Sunday … 6 = Saturday */
  weekday: number
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']
const fmtCache = new Map<string, Intl.DateTimeFormat>()

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = fmtCache.get(timeZone)
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      weekday: 'short',
      hourCycle: 'h23',
    })
    fmtCache.set(timeZone, f)
  }
  return f
}

/** The wall-clock time of an instant in a timezone. */
export function wallTime(instant: Date | number, timeZone: string): WallTime {
  const parts = formatter(timeZone).formatToParts(new Date(instant))
  const get = (t: string): string => parts.find((p) => p.type === t)?.value ?? '0'
  return {
    year: Number(get('year')),
    month: Number(get('month')),
    day: Number(get('day')),
    hour: Number(get('hour')) % 24,
    minute: Number(get('minute')),
    weekday: WEEKDAYS.indexOf(get('weekday')),
  }
}

/** Offset (ms) of a timezone from UTC at an instant. */
function offsetAt(instant: number, timeZone: string): number {
  const w = wallTime(instant, timeZone)
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute)
  return asUtc - Math.floor(instant / 60_000) * 60_000
}

/** The instant a wall-clock time in a timezone names (the earlier one in a DST overlap). */
export function zonedToInstant(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  timeZone: string,
): Date {
  const guess = Date.UTC(year, month - 1, day, hour, minute)
  let t = guess - offsetAt(guess, timeZone)
  t = guess - offsetAt(t, timeZone)
  return new Date(t)
}

/** "YYYY-MM-DDTHH:mm" in a timezone → ISO 8601 UTC ("…Z"); null when malformed. */
export function localInputToIso(local: string, timeZone: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})/.exec(local)
  if (!m) return null
  const [y, mo, d, h, mi] = m.slice(1).map(Number) as [number, number, number, number, number]
  return zonedToInstant(y, mo, d, h, mi, timeZone).toISOString().replace('.000Z', 'Z')
}

const pad = (n: number): string => String(n).padStart(2, '0')

/** ISO instant → "YYYY-MM-DDTHH:mm" wall time in a timezone (for a date-time input). */
export function isoToLocalInput(iso: string | null | undefined, timeZone: string): string {
  if (!iso) return ''
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return ''
  const w = wallTime(d, timeZone)
  return `${w.year}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}`
}

export function dateKey(w: Pick<WallTime, 'year' | 'month' | 'day'>): string {
  return `${w.year}-${pad(w.month)}-${pad(w.day)}`
}
