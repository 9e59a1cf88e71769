/** Analytics and alerts (insight branch): shapes in ./types.ts until they reach the schema. */
import { raw } from './client'
import type { Alert, Funnel, Heatmap, Overview, Page } from './types'

export function getOverview(from: string, to: string, tz: string): Promise<Overview> {
  return raw<Overview>('GET', '/v1/analytics/overview', { query: { from, to, tz } })
}

export function getAlerts(): Promise<Page<Alert>> {
  return raw<Page<Alert>>('GET', '/v1/alerts')
}

export function getFunnel(codeId: string, from?: string, to?: string): Promise<Funnel> {
  return raw<Funnel>('GET', `/v1/livecodes/${encodeURIComponent(codeId)}/funnel`, {
    query: { from, to },
  })
}

export function getHeatmap(codeId: string, from?: string, to?: string): Promise<Heatmap> {
  return raw<Heatmap>('GET', '/v1/analytics/heatmap', { query: { code_id: codeId, from, to } })
}

/** Where an alert's object is shown in the console (null when it has no screen yet). */
export function objectLink(type: string, id: string): string | null {
  const e = encodeURIComponent(id)
  switch (type) {
    case 'livecode':
    case 'live_code':
      return `/livecodes/${e}`
    case 'campaign':
      return `/campaigns/${e}`
    case 'content':
      return `/contents/${e}`
    case 'fission_task':
      return `/fission/${e}`
    case 'wecom':
    case 'integration':
      return '/settings/wecom'
    default:
      return null
  }
}
