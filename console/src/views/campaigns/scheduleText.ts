import type { Campaign } from './api'

/** A campaign's schedule in words (the `at` time in the tenant's timezone). */
export function scheduleText(
  c: Campaign,
  t: (k: string, v?: Record<string, unknown>) => string,
  time: (iso: string) => string,
): string {
  const s = c.schedule as Record<string, unknown> | null | undefined
  if (!s || !Object.keys(s).length) return t('campaigns.scheduleText.manual')
  if (typeof s.at === 'string') return time(s.at)
  if (typeof s.cron === 'string') return t('campaigns.scheduleText.cron', { cron: s.cron })
  const ev = s.after_event as { type?: string; delay_minutes?: number } | undefined
  if (ev)
    return t('campaigns.scheduleText.after', { event: ev.type ?? '', delay: ev.delay_minutes ?? 0 })
  return '–'
}
