import { raw } from '@/api/client'
import type { Role } from '@/api/types'
import type { CursorPage } from '@/composables/useCursorList'

export const ROLES: Role[] = ['owner', 'admin', 'operator', 'analyst']

export interface Member {
  id: string
  email: string
  name?: string | null
  role: Role
  status?: 'invited' | 'active' | 'disabled'
  created_at?: string
  last_login_at?: string | null
  invite_expires_at?: string
}
export interface Invite {
  member: Member
  invite_url: string
  invite_expires_at?: string
}
export interface ApiKey {
  id: string
  api_key?: string
  label?: string | null
  role?: Role
  created_at?: string
}
export interface AuditEntry {
  id: string
  at: string
  actor?: { kind?: string; id?: string | null; email?: string; label?: string }
  action?: string
  route?: string
  object?: { type?: string | null; id?: string | null }
  changed_fields?: string[]
  status?: number
  ip?: string | null
  outcome?: string
}
export interface Job {
  id: string
  kind: string
  format?: string
  status: string
  rows?: number
  url?: string | null
  error?: string
  created_at?: string
  finished_at?: string | null
  rows_total?: number | null
  rows_done?: number
  rows_ok?: number
  rows_failed?: number
  bytes_total?: number | null
  bytes_done?: number
  errors?: Array<{ line?: number; field?: string | null; code?: string; message?: string }>
}
export interface WebhookSubscription {
  id: string
  url: string
  events?: string[]
  secret?: string
  active?: boolean
  created_at?: string
}
/** The event types a webhook subscription can carry (chalicelib/events.py WEBHOOK_TYPES). */
export const WEBHOOK_EVENTS = [
  'scan',
  'staff_added',
  'customer_lost',
  'group_joined',
  'group_left',
  'invite_counted',
  'reward_granted',
  'message_sent',
  'message_skipped',
  'message_failed',
  'message_clicked',
  'order_paid',
] as const

export interface WebhookDelivery {
  id: string
  subscription_id?: string
  event_type?: string
  delivered_at?: string | null
  last_error?: string | null
  event?: string
  type?: string
  status?: string
  response_status?: number | null
  attempts?: number
  at?: string
  created_at?: string
}

const q = (cursor: string | null, extra: Record<string, string | undefined> = {}) => ({
  query: { cursor, limit: 50, ...extra },
})

export const settingsApi = {
  members: (cursor: string | null) => raw<CursorPage<Member>>('GET', '/v1/members', q(cursor)),
  invite: (body: { email: string; name?: string; role: Role }) =>
    raw<Invite>('POST', '/v1/members', { body }),
  reinvite: (id: string) => raw<Invite>('POST', `/v1/members/${encodeURIComponent(id)}/invite`),
  updateMember: (id: string, body: { role?: Role }) =>
    raw<Member>('PATCH', `/v1/members/${encodeURIComponent(id)}`, { body }),
  removeMember: (id: string) => raw<null>('DELETE', `/v1/members/${encodeURIComponent(id)}`),
  keys: () => raw<CursorPage<ApiKey>>('GET', '/v1/api-keys'),
  createKey: (body: { label?: string; role?: Role }) =>
    raw<ApiKey>('POST', '/v1/api-keys', { body }),
  revokeKey: (id: string) => raw<null>('DELETE', `/v1/api-keys/${encodeURIComponent(id)}`),
  audit: (cursor: string | null, filters: Record<string, string | undefined>) =>
    raw<CursorPage<AuditEntry>>('GET', '/v1/audit-log', q(cursor, filters)),
  wecom: () => raw<Record<string, unknown>>('GET', '/v1/integrations/wecom'),
  wecomHealth: () => raw<Record<string, unknown>>('GET', '/v1/integrations/wecom/health'),
  saveWecom: (body: unknown) =>
    raw<Record<string, unknown>>('PUT', '/v1/integrations/wecom', { body }),
  deleteWecom: () => raw<null>('DELETE', '/v1/integrations/wecom'),
  mp: () =>
    raw<{ appid?: string | null; configured?: boolean; source?: string | null }>(
      'GET',
      '/v1/mp/settings',
    ),
  saveMp: (body: { appid: string; secret: string }) =>
    raw<{ appid?: string | null; configured?: boolean; source?: string | null }>(
      'PUT',
      '/v1/mp/settings',
      { body },
    ),
  // one page, no query parameters (the API refuses any: chalicelib/hooks/routes.py)
  webhooks: () => raw<CursorPage<WebhookSubscription>>('GET', '/v1/webhook-subscriptions'),
  createWebhook: (body: { url: string; events: string[] }) =>
    raw<WebhookSubscription>('POST', '/v1/webhook-subscriptions', { body }),
  deleteWebhook: (id: string) =>
    raw<null>('DELETE', `/v1/webhook-subscriptions/${encodeURIComponent(id)}`),
  webhookDeliveries: (cursor: string | null) =>
    raw<CursorPage<WebhookDelivery>>('GET', '/v1/webhook-deliveries', q(cursor)),
  exports: (cursor: string | null) => raw<CursorPage<Job>>('GET', '/v1/exports', q(cursor)),
  createExport: (body: { kind: string; format: string }) =>
    raw<Job>('POST', '/v1/exports', { body }),
  getExport: (id: string) => raw<Job>('GET', `/v1/exports/${encodeURIComponent(id)}`),
  imports: (cursor: string | null) => raw<CursorPage<Job>>('GET', '/v1/imports', q(cursor)),
  createImport: (body: { kind: string; format: string; content: string }) =>
    raw<Job>('POST', '/v1/imports', { body }),
  getImport: (id: string) => raw<Job>('GET', `/v1/imports/${encodeURIComponent(id)}`),
}

/** Roles a member may hand out: never above their own (the API refuses it anyway). */
export function grantableRoles(mine: Role | null): Role[] {
  if (!mine) return []
  const rank = ROLES.indexOf(mine)
  return ROLES.filter((_, i) => i >= rank)
}

/** A job's progress 0..100 (imports by bytes, else by rows), null when unknown. */
export function jobProgress(j: Job): number | null {
  if (j.status === 'done') return 100
  if (j.bytes_total && j.bytes_done !== undefined)
    return Math.min(99, Math.floor((j.bytes_done / j.bytes_total) * 100))
  if (j.rows_total && j.rows_done !== undefined)
    return Math.min(99, Math.floor((j.rows_done / j.rows_total) * 100))
  return null
}

export const isRunning = (j: Job): boolean => ['queued', 'running', 'created'].includes(j.status)
