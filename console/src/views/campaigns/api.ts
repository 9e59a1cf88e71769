/** Campaign routes (types from the generated OpenAPI schema). */
import { raw } from '@/api/client'
import type { Schemas } from '@/api/types'
import type { CursorPage } from '@/composables/useCursorList'
import type { AudienceBody } from './logic'

export type Campaign = Schemas['Campaign']
export type Run = Schemas['Run']
export type Delivery = Schemas['Delivery']
export type CampaignStats = Schemas['CampaignStats']
export type AudiencePreview = Schemas['AudiencePreview']
export type Content = Schemas['Content']

export const campaignsApi = {
  list: (q: { status?: string; cursor?: string | null; limit?: number }) =>
    raw<CursorPage<Campaign>>('GET', '/v1/campaigns', { query: q }),
  get: (id: string) => raw<Campaign>('GET', `/v1/campaigns/${encodeURIComponent(id)}`),
  create: (body: unknown) => raw<Campaign>('POST', '/v1/campaigns', { body }),
  update: (id: string, body: unknown) =>
    raw<Campaign>('PATCH', `/v1/campaigns/${encodeURIComponent(id)}`, { body }),
  remove: (id: string) => raw<null>('DELETE', `/v1/campaigns/${encodeURIComponent(id)}`),
  run: (id: string) =>
    raw<{ run_id: string }>('POST', `/v1/campaigns/${encodeURIComponent(id)}/run`),
  pause: (id: string) => raw<Campaign>('POST', `/v1/campaigns/${encodeURIComponent(id)}/pause`),
  resume: (id: string) => raw<Campaign>('POST', `/v1/campaigns/${encodeURIComponent(id)}/resume`),
  runs: (id: string) => raw<CursorPage<Run>>('GET', `/v1/campaigns/${encodeURIComponent(id)}/runs`),
  stats: (id: string, runId?: string) =>
    raw<CampaignStats>('GET', `/v1/campaigns/${encodeURIComponent(id)}/stats`, {
      query: { run_id: runId },
    }),
  deliveries: (
    id: string,
    q: { status?: string; run_id?: string; cursor?: string | null; limit?: number },
  ) =>
    raw<CursorPage<Delivery>>('GET', `/v1/campaigns/${encodeURIComponent(id)}/deliveries`, {
      query: q,
    }),
  preview: (audience: AudienceBody, signal?: AbortSignal) =>
    raw<AudiencePreview>('GET', '/v1/audience/preview', { query: previewQuery(audience), signal }),
  contents: (q: { type?: string; tags?: string; limit?: number }) =>
    raw<CursorPage<Content>>('GET', '/v1/contents', { query: q }),
}

/** An audience as GET /v1/audience/preview's query (comma-separated lists, empty ones left out). */
export function previewQuery(a: AudienceBody): Record<string, string> {
  const out: Record<string, string> = {}
  for (const k of ['tags_all', 'tags_any', 'tags_none', 'stages'] as const) {
    const list = a[k]
    if (list?.length) out[k] = list.join(',')
  }
  return out
}

/** Every campaign (pages of 100, at most `max`): the calendar needs them all. */
export async function allCampaigns(max = 500): Promise<Campaign[]> {
  const out: Campaign[] = []
  let cursor: string | null = null
  do {
    const page: CursorPage<Campaign> = await campaignsApi.list({ cursor, limit: 100 })
    out.push(...page.items)
    cursor = page.next_cursor ?? null
  } while (cursor && out.length < max)
  return out
}
