/** Insight: overview, funnel, heatmap, alerts through the typed client (schema from the API). */
import { api, call } from './client'
import type { Schemas } from './types'

export type Overview = Schemas['Overview']
export type Funnel = Schemas['Funnel']
export type Heatmap = Schemas['Heatmap']
export type Alerts = Schemas['Alerts']
export type Alert = Alerts['items'][number]

export function getOverview(from: string, to: string, tz: string): Promise<Overview> {
  return call(() => api.GET('/v1/analytics/overview', { params: { query: { from, to, tz } } }))
}

export function getAlerts(): Promise<Alerts> {
  return call(() => api.GET('/v1/alerts'))
}

export function getFunnel(codeId: string, from?: string, to?: string): Promise<Funnel> {
  return call(() =>
    api.GET('/v1/livecodes/{code_id}/funnel', {
      params: { path: { code_id: codeId }, query: { from, to } },
    }),
  )
}

export function getHeatmap(codeId: string, from?: string, to?: string): Promise<Heatmap> {
  return call(() =>
    api.GET('/v1/analytics/heatmap', { params: { query: { code_id: codeId, from, to } } }),
  )
}

/** Where an alert's object is shown in the console (null when it has no screen yet). */
export function objectLink(object: {
  type?: string | null
  id?: string | null
  code_id?: unknown
}): string | null {
  const e = (v: unknown) => encodeURIComponent(String(v))
  switch (object.type) {
    case 'target':
      return typeof object.code_id === 'string' ? `/livecodes/${e(object.code_id)}` : null
    case 'livecode':
      return `/livecodes/${e(object.id)}`
    case 'campaign':
      return `/campaigns/${e(object.id)}`
    case 'wecom_integration':
      return '/settings/wecom'
    default:
      return null
  }
}
