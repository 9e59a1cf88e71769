import { raw } from '@/api/client'
import type { Schemas } from '@/api/types'
import type { CursorPage } from '@/composables/useCursorList'

export type Content = Schemas['Content']
export const TYPES = [
  'text',
  'image',
  'video',
  'audio',
  'article',
  'link',
  'miniprogram',
  'file',
] as const
export type ContentType = (typeof TYPES)[number]
export const MEDIA_TYPES: ContentType[] = ['image', 'video', 'audio', 'file']
export const MEDIA_LIMIT: Record<string, number> = {
  image: 2 << 20,
  audio: 5 << 20,
  video: 6 << 20,
  file: 6 << 20,
}
export const MEDIA_ACCEPT: Record<string, string> = {
  image: 'image/png,image/jpeg',
  audio: 'audio/mpeg',
  video: 'video/mp4',
  file: '',
}

export interface ContentStats {
  totals: Record<string, number>
  days: Array<{ date: string } & Record<string, number>>
  timezone?: string
}

export interface ContentQuery {
  type?: string
  tags?: string
  match?: string
  not?: string
}

export const contentApi = {
  list: (q: ContentQuery & { cursor?: string | null; limit?: number }) =>
    raw<CursorPage<Content>>('GET', '/v1/contents', { query: { ...q } }),
  get: (id: string) => raw<Content>('GET', `/v1/contents/${encodeURIComponent(id)}`),
  create: (body: unknown) => raw<Content>('POST', '/v1/contents', { body }),
  update: (id: string, body: unknown) =>
    raw<Content>('PATCH', `/v1/contents/${encodeURIComponent(id)}`, { body }),
  remove: (id: string) => raw<null>('DELETE', `/v1/contents/${encodeURIComponent(id)}`),
  stats: (id: string, from: string, to: string) =>
    raw<ContentStats>('GET', `/v1/contents/${encodeURIComponent(id)}/stats`, {
      query: { from, to },
    }),
}

/** The form → the API body: only what the type takes; media only when a new file was chosen. */
export function contentBody(
  f: {
    type: string
    title: string
    body: string
    url: string
    tags: string[]
    card: { appid: string; path: string; title: string }
  },
  media: { data: string; filename: string } | null,
  thumbnail: string | null,
  creating: boolean,
): Record<string, unknown> {
  const out: Record<string, unknown> = { title: f.title.trim(), tags: f.tags }
  if (creating) out.type = f.type
  if (f.type === 'text') out.body = f.body
  if (f.type === 'article' || f.type === 'link') out.url = f.url.trim()
  if (MEDIA_TYPES.includes(f.type as ContentType) && media) out.media = media
  if (f.type === 'miniprogram') {
    const card: Record<string, string> = { appid: f.card.appid.trim(), path: f.card.path.trim() }
    if (f.card.title.trim()) card.title = f.card.title.trim()
    if (thumbnail) card.thumbnail = thumbnail
    out.card = card
  }
  return out
}
