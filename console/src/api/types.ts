/**
 * Shapes the console uses. Where the OpenAPI document has the schema, the type is an alias of
 * `components['schemas'][...]` (a contract change breaks the type check); the session shapes are
 * written out (the console relies on fields the document marks optional).
 */
import type { components } from './schema'

export type Schemas = components['schemas']
export type LiveCode = Schemas['LiveCode']
export type Target = Schemas['Target']

export type Role = 'owner' | 'admin' | 'operator' | 'analyst'

export interface Tenant {
  id: string
  name: string
  timezone: string
}

export interface Member {
  id: string
  email: string
  name?: string | null
  role: Role
  tenant_id: string
}

export interface Session {
  token: string
  expires_at: string
  refresh_token: string
  member: Member
  tenant: Tenant
}

export interface Me {
  kind: 'member' | 'api_key'
  id: string
  email?: string | null
  name?: string | null
  role: Role
  tenant: Tenant
}

export const METRICS = [
  'scans',
  'unique_visitors',
  'new_visitors',
  'bot_scans',
  'staff_added',
  'customers_lost',
  'net_added',
  'group_joined',
  'group_left',
  'invites',
  'rewards',
  'messages_sent',
  'messages_skipped',
  'messages_failed',
  'messages_clicked',
  'orders_paid',
  'content_views',
  'content_clicks',
] as const satisfies ReadonlyArray<keyof Schemas['InsightMetrics']>
export type Metric = (typeof METRICS)[number]

export interface Page<T> {
  items: T[]
  next_cursor?: string | null
}
