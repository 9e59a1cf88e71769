import { api, call, raw } from '@/api/client'
import type { Schemas } from '@/api/types'
import type { CursorPage } from '@/composables/useCursorList'

export type PosterTemplate = Schemas['PosterTemplate']
export type FissionTask = Schemas['FissionTask']
export type Participant = Schemas['Participant']
export type Leaderboard = Schemas['Leaderboard']
export type RewardNotice = Schemas['RewardNotice']
export type RewardCode = Schemas['RewardCode']
export type FissionStats = Schemas['FissionStats']
export type LiveCode = Schemas['LiveCode']

const t = (id: string): string => `/v1/fission-tasks/${encodeURIComponent(id)}`
const p = (id: string): string => `/v1/poster-templates/${encodeURIComponent(id)}`

export const fissionApi = {
  templates: (cursor: string | null) =>
    raw<CursorPage<PosterTemplate>>('GET', '/v1/poster-templates', {
      query: { cursor, limit: 50 },
    }),
  template: (id: string) => raw<PosterTemplate>('GET', p(id)),
  createTemplate: (body: unknown) => raw<PosterTemplate>('POST', '/v1/poster-templates', { body }),
  updateTemplate: (id: string, body: unknown) => raw<PosterTemplate>('PATCH', p(id), { body }),
  deleteTemplate: (id: string) => raw<null>('DELETE', p(id)),
  /** The template rendered with a sample nickname and avatar (JPEG). */
  preview: (id: string) =>
    call<Blob>(
      () =>
        api.GET('/v1/poster-templates/{template_id}/preview', {
          params: { path: { template_id: id } },
          parseAs: 'blob',
          headers: { Accept: 'image/jpeg' },
        }) as Promise<{ data?: Blob; error?: unknown; response: Response }>,
    ),
  tasks: (cursor: string | null) =>
    raw<CursorPage<FissionTask>>('GET', '/v1/fission-tasks', { query: { cursor, limit: 50 } }),
  task: (id: string) => raw<FissionTask>('GET', t(id)),
  createTask: (body: unknown) => raw<FissionTask>('POST', '/v1/fission-tasks', { body }),
  updateTask: (id: string, body: unknown) => raw<FissionTask>('PATCH', t(id), { body }),
  deleteTask: (id: string) => raw<null>('DELETE', t(id)),
  stats: (id: string) => raw<FissionStats>('GET', `${t(id)}/stats`),
  participants: (id: string, cursor: string | null) =>
    raw<CursorPage<Participant>>('GET', `${t(id)}/participants`, { query: { cursor, limit: 50 } }),
  leaderboard: (id: string) =>
    raw<Leaderboard>('GET', `${t(id)}/leaderboard`, { query: { limit: 50 } }),
  rewards: (id: string, cursor: string | null) =>
    raw<CursorPage<RewardNotice>>('GET', `${t(id)}/rewards`, { query: { cursor, limit: 50 } }),
  codes: (id: string, cursor: string | null) =>
    raw<CursorPage<RewardCode>>('GET', `${t(id)}/reward-codes`, { query: { cursor, limit: 50 } }),
  addCodes: (id: string, codes: string[]) =>
    raw<Schemas['RewardCodesAdded']>('POST', `${t(id)}/reward-codes`, { body: { codes } }),
  livecodes: () => raw<CursorPage<LiveCode>>('GET', '/v1/livecodes', { query: { limit: 100 } }),
}

/** Codes typed one per line (or comma separated), trimmed, blank and repeated ones dropped. */
export function parseCodes(text: string): string[] {
  const out: string[] = []
  for (const raw of text.split(/[\n,，]/)) {
    const c = raw.trim()
    if (c && !out.includes(c)) out.push(c)
  }
  return out
}
