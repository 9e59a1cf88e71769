/**
 * Shapes of routes being built on other branches (team accounts, insight analytics). When they
 * land in the OpenAPI document, prefer `components['schemas'][...]` from ./schema.
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
] as const
export type Metric = (typeof METRICS)[number]
export type Totals = Partial<Record<Metric, number>>

export interface Overview {
  from: string
  to: string
  timezone: string
  totals: Totals
  previous: { from: string; to: string; totals: Totals }
  days: Array<{ date: string } & Totals>
}

export interface Funnel {
  steps: Array<{ key: 'scan' | 'shown' | 'added' | 'converted'; count: number }>
  targets: Array<{
    id: string
    name: string
    kind: string
    scan: number
    shown: number
    added: number
    converted: number
  }>
}

export interface Heatmap {
  timezone: string
  matrix: number[][]
  max: number
}

export interface Alert {
  kind: string
  severity: 'info' | 'warning' | 'critical' | string
  message: string
  object: { type: string; id: string; name?: string | null }
  at: string
}

export interface Page<T> {
  items: T[]
  next_cursor?: string | null
}
