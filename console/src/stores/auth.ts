/**
 * Who is signed in: a member session (POST /v1/sessions, refreshed before it expires) or an API
 * key. The role from GET /v1/me decides what the console offers; the API enforces it anyway.
 */
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { raw, setCredentials } from '@/api/client'
import { ApiError } from '@/api/errors'
import type { Me, Role, Session, Tenant } from '@/api/types'

const SESSION_KEY = 'yutang.session'
const APIKEY_KEY = 'yutang.apikey'

interface Stored {
  token: string
  refresh_token?: string
  expires_at?: string
}

function load(): { kind: 'session' | 'key'; stored: Stored } | null {
  try {
    const s = localStorage.getItem(SESSION_KEY)
    if (s) return { kind: 'session', stored: JSON.parse(s) as Stored }
    const k = sessionStorage.getItem(APIKEY_KEY)
    if (k) return { kind: 'key', stored: { token: k } }
  } catch {
    /* storage unavailable or corrupt: signed out */
  }
  return null
}

/** Roles that may change data (the analyst role is read-only). */
export const WRITE_ROLES: Role[] = ['owner', 'admin', 'operator']
export const ADMIN_ROLES: Role[] = ['owner', 'admin']

export const useAuthStore = defineStore('auth', () => {
  const initial = load()
  const kind = ref<'session' | 'key' | null>(initial?.kind ?? null)
  const stored = ref<Stored | null>(initial?.stored ?? null)
  const me = ref<Me | null>(null)
  const expiredNotice = ref(false)
  let refreshing: Promise<boolean> | null = null

  const signedIn = computed(() => stored.value !== null)
  const role = computed<Role | null>(() => me.value?.role ?? null)
  const canWrite = computed(() => role.value !== null && WRITE_ROLES.includes(role.value))
  const isAdmin = computed(() => role.value !== null && ADMIN_ROLES.includes(role.value))
  const tenant = computed<Tenant | null>(() => me.value?.tenant ?? null)
  const timezone = computed(() => me.value?.tenant.timezone ?? 'Asia/Shanghai')

  function persist(): void {
    localStorage.removeItem(SESSION_KEY)
    sessionStorage.removeItem(APIKEY_KEY)
    if (!stored.value) return
    if (kind.value === 'session') localStorage.setItem(SESSION_KEY, JSON.stringify(stored.value))
    else sessionStorage.setItem(APIKEY_KEY, stored.value.token)
  }

  function clear(): void {
    kind.value = null
    stored.value = null
    me.value = null
    persist()
  }

  async function doRefresh(): Promise<boolean> {
    const rt = stored.value?.refresh_token
    if (kind.value !== 'session' || !rt) return false
    // Refresh tokens are single use (reusing one revokes the session): when another tab has
    // refreshed already, take its tokens instead of refreshing again.
    const other = load()
    if (
      other?.kind === 'session' &&
      other.stored.refresh_token &&
      other.stored.refresh_token !== rt
    ) {
      stored.value = other.stored
      return true
    }
    try {
      const s = await raw<Session>('POST', '/v1/sessions/refresh', {
        body: { refresh_token: rt },
        auth: false,
      })
      stored.value = { token: s.token, refresh_token: s.refresh_token, expires_at: s.expires_at }
      persist()
      return true
    } catch {
      return false
    }
  }

  function refresh(): Promise<boolean> {
    refreshing ??= doRefresh().finally(() => {
      refreshing = null
    })
    return refreshing
  }

  if (typeof window !== 'undefined') {
    window.addEventListener('storage', (e) => {
      if (e.key !== SESSION_KEY) return
      const next = load()
      if (next?.kind === 'session') stored.value = next.stored
      else if (kind.value === 'session') {
        stored.value = null
        me.value = null
        kind.value = null
      }
    })
  }

  setCredentials({
    token: () => stored.value?.token ?? null,
    refresh,
    expired: () => {
      if (stored.value) {
        clear()
        expiredNotice.value = true
      }
    },
  })

  async function loadMe(): Promise<Me> {
    try {
      me.value = await raw<Me>('GET', '/v1/me')
    } catch (e) {
      // Before team accounts exist (no /v1/me route): an API key is the tenant's full access.
      if (!(e instanceof ApiError && e.status === 404)) throw e
      const t = await raw<{ tenant_id: string; name: string; timezone?: string }>(
        'GET',
        '/v1/tenant',
      )
      me.value = {
        kind: 'api_key',
        id: 'key',
        role: 'owner',
        tenant: { id: t.tenant_id, name: t.name, timezone: t.timezone ?? 'Asia/Shanghai' },
      }
    }
    return me.value
  }

  function applySession(s: Session): void {
    kind.value = 'session'
    stored.value = { token: s.token, refresh_token: s.refresh_token, expires_at: s.expires_at }
    persist()
    me.value = {
      kind: 'member',
      id: s.member.id,
      email: s.member.email,
      name: s.member.name,
      role: s.member.role,
      tenant: s.tenant,
    }
    expiredNotice.value = false
  }

  async function signInWithPassword(
    email: string,
    password: string,
    tenantId?: string,
  ): Promise<void> {
    const s = await raw<Session>('POST', '/v1/sessions', {
      body: tenantId ? { email, password, tenant_id: tenantId } : { email, password },
      auth: false,
    })
    applySession(s)
  }

  /** An invited member sets a password through the invite link and is signed in. */
  async function acceptInvite(token: string, password: string, name?: string): Promise<void> {
    const s = await raw<Session>('POST', `/v1/invites/${encodeURIComponent(token)}/accept`, {
      body: name ? { password, name } : { password },
      auth: false,
    })
    applySession(s)
  }

  async function signInWithKey(key: string): Promise<void> {
    kind.value = 'key'
    stored.value = { token: key.trim() }
    try {
      await loadMe()
    } catch (e) {
      clear()
      throw e
    }
    persist()
    expiredNotice.value = false
  }

  async function signOut(): Promise<void> {
    if (kind.value === 'session') {
      try {
        await raw('DELETE', '/v1/sessions')
      } catch {
        /* the token is dropped locally either way */
      }
    }
    clear()
  }

  return {
    kind,
    me,
    role,
    tenant,
    timezone,
    signedIn,
    canWrite,
    isAdmin,
    expiredNotice,
    loadMe,
    refresh,
    signInWithPassword,
    acceptInvite,
    signInWithKey,
    signOut,
  }
})
