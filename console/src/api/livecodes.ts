/** Live codes through the typed client (paths and bodies checked against the OpenAPI document). */
import { api, call } from './client'
import { toApiError } from './errors'
import type { LiveCode, Schemas, Target } from './types'

export type LiveCodeInput = Schemas['LiveCodeInput']
export type TargetInput = Schemas['TargetInput']
export type NewLiveCode = Schemas['NewLiveCode']
export type LiveCodeStats = Schemas['LiveCodeStats']

export interface LiveCodePage {
  items: LiveCode[]
  next_cursor: string | null
}

/** A page of live codes; with `q`, the server searches names and titles across all pages. */
export function listLiveCodes(cursor?: string, limit = 20, q?: string): Promise<LiveCodePage> {
  return call(() =>
    api.GET('/v1/livecodes', {
      params: { query: { limit, cursor: cursor || undefined, q: q?.trim() || undefined } },
    }),
  ) as Promise<LiveCodePage>
}

export function getLiveCode(id: string): Promise<LiveCode> {
  return call(() => api.GET('/v1/livecodes/{code_id}', { params: { path: { code_id: id } } }))
}

export function createLiveCode(body: NewLiveCode): Promise<LiveCode> {
  return call(() => api.POST('/v1/livecodes', { body }))
}

export function updateLiveCode(id: string, body: LiveCodeInput): Promise<LiveCode> {
  return call(() =>
    api.PATCH('/v1/livecodes/{code_id}', { params: { path: { code_id: id } }, body }),
  )
}

export function deleteLiveCode(id: string): Promise<void> {
  return call(() =>
    api.DELETE('/v1/livecodes/{code_id}', { params: { path: { code_id: id } } }),
  ) as Promise<void>
}

export function addTarget(id: string, body: Schemas['NewTarget']): Promise<Target> {
  return call(() =>
    api.POST('/v1/livecodes/{code_id}/targets', { params: { path: { code_id: id } }, body }),
  )
}

export function updateTarget(id: string, targetId: string, body: TargetInput): Promise<Target> {
  return call(() =>
    api.PATCH('/v1/livecodes/{code_id}/targets/{target_id}', {
      params: { path: { code_id: id, target_id: targetId } },
      body,
    }),
  )
}

export function deleteTarget(id: string, targetId: string): Promise<void> {
  return call(() =>
    api.DELETE('/v1/livecodes/{code_id}/targets/{target_id}', {
      params: { path: { code_id: id, target_id: targetId } },
    }),
  ) as Promise<void>
}

/** Puts the saved targets in this order (exactly the code's target ids, each once). */
export function reorderTargets(id: string, targetIds: string[]): Promise<LiveCode> {
  return call(() =>
    api.PUT('/v1/livecodes/{code_id}/targets/order', {
      params: { path: { code_id: id } },
      body: { target_ids: targetIds },
    }),
  )
}

export function getStats(id: string, from: string, to: string): Promise<LiveCodeStats> {
  return call(() =>
    api.GET('/v1/livecodes/{code_id}/stats', {
      params: { path: { code_id: id }, query: { from, to } },
    }),
  )
}

export interface QrStyle {
  format: 'png' | 'svg'
  size: number
  fg: string
  bg: string
  logo: boolean
}

/** The QR image as a Blob (the route needs the bearer, so an <img src> cannot fetch it). */
export async function getQr(id: string, style: QrStyle, signal?: AbortSignal): Promise<Blob> {
  const res = await api.GET('/v1/livecodes/{code_id}/qr', {
    params: {
      path: { code_id: id },
      query: {
        format: style.format,
        size: style.size,
        fg: style.fg.replace('#', ''),
        bg: style.bg.replace('#', ''),
        logo: style.logo ? '1' : '0',
      },
    },
    headers: { Accept: style.format === 'svg' ? 'image/svg+xml' : 'image/png' },
    parseAs: 'blob',
    signal,
  })
  if (!res.response.ok) throw toApiError(res.response.status, res.error)
  return res.data as Blob
}
