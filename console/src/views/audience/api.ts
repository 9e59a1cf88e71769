import { raw } from '@/api/client'
import type { Schemas } from '@/api/types'
import type { CursorPage } from '@/composables/useCursorList'
import { previewQuery } from '@/views/campaigns/api'
import type { AudienceBody } from '@/views/campaigns/logic'

export type User = Schemas['User']
export type UserEvent = Schemas['UserEvent']
export const IDENTITY_KINDS = ['openid', 'unionid', 'external_userid', 'brand_user_id'] as const

export interface UserQuery {
  tags?: string[]
  match?: 'all' | 'any'
  not?: string[]
  stages?: string[]
  identity?: string
}

/** The list filters → GET /v1/users query (identity search wins; empty lists left out). */
export function userQuery(q: UserQuery): Record<string, string | undefined> {
  if (q.identity) return { identity: q.identity }
  return {
    tags: q.tags?.length ? q.tags.join(',') : undefined,
    match: q.tags?.length && q.match === 'any' ? 'any' : undefined,
    not: q.not?.length ? q.not.join(',') : undefined,
    stage: q.stages?.length ? q.stages.join(',') : undefined,
  }
}

/** The same filters as an audience (POST /v1/audience/preview, a campaign's audience). */
export function segmentOf(q: UserQuery): {
  tags_all?: string[]
  tags_any?: string[]
  tags_none?: string[]
  stages?: string[]
} {
  const out: ReturnType<typeof segmentOf> = {}
  if (q.tags?.length) out[q.match === 'any' ? 'tags_any' : 'tags_all'] = q.tags
  if (q.not?.length) out.tags_none = q.not
  if (q.stages?.length) out.stages = q.stages
  return out
}

export const usersApi = {
  list: (q: UserQuery, cursor: string | null) =>
    raw<CursorPage<User>>('GET', '/v1/users', { query: { ...userQuery(q), cursor, limit: 25 } }),
  get: (id: string) => raw<User>('GET', `/v1/users/${encodeURIComponent(id)}`),
  tag: (id: string, tags: string[]) =>
    raw<User>('POST', `/v1/users/${encodeURIComponent(id)}/tags`, { body: { tags } }),
  untag: (id: string, tag: string) =>
    raw<User>('DELETE', `/v1/users/${encodeURIComponent(id)}/tags/${encodeURIComponent(tag)}`),
  events: (id: string) =>
    raw<CursorPage<UserEvent>>('GET', `/v1/users/${encodeURIComponent(id)}/events`, {
      query: { limit: 200 },
    }),
  preview: (audience: ReturnType<typeof segmentOf>) =>
    raw<Schemas['AudiencePreview']>('GET', '/v1/audience/preview', {
      query: previewQuery(audience as AudienceBody),
    }),
}
