/**
 * One route per screen, collected from `views/<screen>/routes.ts` (each exports its routes), so a
 * new screen is a new folder and touches no shared file. Screens with `meta.nav` appear in the
 * sidebar (ordered by `meta.nav.order`). Routes are children of the shell unless `meta.public`.
 */
import type { Component } from 'vue'
import {
  createRouter,
  createWebHistory,
  START_LOCATION,
  type RouteLocationNormalized,
  type RouteRecordRaw,
} from 'vue-router'
import AppShell from '@/components/AppShell.vue'
import { useAuthStore } from '@/stores/auth'

export interface NavMeta {
  /** i18n key of the sidebar label */
  title: string
  /** an @element-plus/icons-vue component */
  icon: Component
  order: number
}

declare module 'vue-router' {
  interface RouteMeta {
    /** reachable signed out (the sign-in page) */
    public?: boolean
    /** i18n key of the page title */
    title?: string
    nav?: NavMeta
  }
}

type ScreenRoutes = { default: RouteRecordRaw[] }
const modules = import.meta.glob<ScreenRoutes>('../views/*/routes.ts', { eager: true })
const all = Object.values(modules).flatMap((m) => m.default)

export const screenRoutes = all.filter((r) => !r.meta?.public)
export const publicRoutes = all.filter((r) => r.meta?.public)

export const navItems = screenRoutes
  .filter((r) => r.meta?.nav)
  .map((r) => ({
    path: r.path.startsWith('/') ? r.path : `/${r.path}`,
    ...(r.meta!.nav as NavMeta),
  }))
  .sort((a, b) => a.order - b.order)

export const routes: RouteRecordRaw[] = [
  ...publicRoutes,
  {
    path: '/',
    component: AppShell,
    children: [{ path: '', redirect: '/overview' }, ...screenRoutes],
  },
  { path: '/:pathMatch(.*)*', redirect: '/overview' },
]

/** Start downloading the screen's lazily loaded component(s) now, not after the guard: on the first
 * page load the chunks then come while /v1/me is answered instead of after it (the browser keeps
 * one module per URL, so the router's own import later resolves at once). */
export function preloadComponents(to: RouteLocationNormalized): void {
  for (const record of to.matched) {
    for (const component of Object.values(record.components ?? {})) {
      if (typeof component === 'function' && !('render' in component) && !('setup' in component))
        void (component as () => Promise<unknown>)().catch(() => undefined)
    }
  }
}

export async function guard(to: RouteLocationNormalized): Promise<true | string | object> {
  if (to.meta.public) return true
  const auth = useAuthStore()
  if (!auth.signedIn) return { path: '/login', query: { redirect: to.fullPath } }
  if (!auth.me) {
    preloadComponents(to)
    try {
      await auth.loadMe()
    } catch {
      if (!auth.signedIn) return { path: '/login', query: { redirect: to.fullPath } }
      /* a transient failure: the shell shows what it can */
    }
  }
  return true
}

export function makeRouter(base = import.meta.env.BASE_URL) {
  const router = createRouter({
    history: createWebHistory(base),
    routes,
    // Not on the first load (the page is at the top already): scrolling then would force a layout
    // in the middle of the first render, on a slow phone a long task of its own.
    scrollBehavior: (_to, from) => (from === START_LOCATION ? false : { top: 0 }),
  })
  router.beforeEach(guard)
  return router
}
