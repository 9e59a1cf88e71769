/** Formatting helpers: numbers with thousands separators, times in the tenant's timezone. */
import { dateTimeFormat, numberFormat } from './intl'

/** The console's locales write numbers alike ("-1,234.5"): formatted without Intl, whose first
 * NumberFormat costs tens of milliseconds on a slow phone, in the first render of a screen. */
const GROUPED_LOCALES = new Set(['zh-CN', 'en'])

export function formatNumber(n: number | null | undefined, locale = 'zh-CN'): string {
  if (n === null || n === undefined || Number.isNaN(n)) return '–'
  const plain = GROUPED_LOCALES.has(locale) && Math.abs(n) < 1e14 ? grouped(n) : null
  if (plain !== null) return plain
  return numberFormat(locale, { maximumFractionDigits: 1 }).format(n)
}

/** Like Intl: the shortest decimal form of the number rounded half away from zero to one decimal,
 * thousands grouped; null for what it does not write plainly (exponents). */
function grouped(n: number): string | null {
  const m = /^(\d+)(?:\.(\d)(\d?))?/.exec(String(Math.abs(n)))
  if (!m || String(Math.abs(n)).includes('e')) return null
  const tenths = Number(m[1]) * 10 + Number(m[2] ?? 0) + (Number(m[3] || 0) >= 5 ? 1 : 0)
  const int = String(Math.floor(tenths / 10)).replace(/\B(?=(\d{3})+$)/g, ',')
  const text = tenths % 10 ? `${int}.${tenths % 10}` : int
  return n < 0 || Object.is(n, -0) ? `-${text}` : text // as Intl: "-0" for -0.04
}

/** "2026-12-02 14:05 (Asia/Shanghai)" style: the zone is always visible. */
export function formatTime(
  iso: string | null | undefined,
  timeZone: string,
  locale = 'zh-CN',
  withZone = true,
): string {
  if (!iso) return '–'
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  const parts = dateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(d)
  const get = (t: string): string => parts.find((p) => p.type === t)?.value ?? ''
  const text = `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}`
  void locale
  return withZone ? `${text} (${timeZone})` : text
}

/** Percentage change from previous to current; null when there is no base to compare with. */
export function delta(current: number | undefined, previous: number | undefined): number | null {
  const c = current ?? 0
  const p = previous ?? 0
  if (p === 0) return c === 0 ? 0 : null
  return ((c - p) / Math.abs(p)) * 100
}

export interface Countdown {
  expired: boolean
  /** total milliseconds left (negative once expired) */
  ms: number
  days: number
  hours: number
  minutes: number
  /** less than 48 hours left: the console shows it as a warning */
  soon: boolean
}

export function countdown(
  iso: string | null | undefined,
  now: number = Date.now(),
): Countdown | null {
  if (!iso) return null
  const t = new Date(iso).getTime()
  if (Number.isNaN(t)) return null
  const ms = t - now
  const abs = Math.max(0, ms)
  return {
    expired: ms <= 0,
    ms,
    days: Math.floor(abs / 86_400_000),
    hours: Math.floor((abs % 86_400_000) / 3_600_000),
    minutes: Math.floor((abs % 3_600_000) / 60_000),
    soon: ms > 0 && ms < 48 * 3_600_000,
  }
}

/** Fill ratio of a target (assigned / capacity), clamped to 0..1; null when uncapped. */
export function fillRatio(
  assigned: number | undefined,
  capacity: number | null | undefined,
): number | null {
  if (!capacity || capacity <= 0) return null
  return Math.min(1, Math.max(0, (assigned ?? 0) / capacity))
}
