import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import { guard, navItems, routes } from './index'

beforeEach(() => {
  localStorage.clear()
  sessionStorage.clear()
  setActivePinia(createPinia())
})

describe('router', () => {
  it('collects the screens from views/<screen>/routes.ts into the sidebar, in order', () => {
    const paths = navItems.map((n) => n.path)
    expect(paths.slice(0, 2)).toEqual(['/overview', '/livecodes'])
    expect(navItems.every((n) => n.title.endsWith('.nav'))).toBe(true)
  })

  it('sends a signed-out visitor to the sign-in page, keeping the deep link', async () => {
    const router = createRouter({ history: createMemoryHistory(), routes })
    router.beforeEach(guard)
    await router.push('/livecodes?status=disabled')
    expect(router.currentRoute.value.path).toBe('/login')
    expect(router.currentRoute.value.query.redirect).toBe('/livecodes?status=disabled')
  })

  it('loads the screen while /v1/me is still on its way (not after it)', async () => {
    localStorage.setItem(
      'yutang.session',
      JSON.stringify({ token: 't', expires_at: '2099-01-01T00:00:00Z' }),
    )
    setActivePinia(createPinia())
    let answer: (r: Response) => void = () => undefined
    vi.stubGlobal(
      'fetch',
      vi.fn(() => new Promise<Response>((resolve) => (answer = resolve))),
    )
    const screen = vi.fn(async () => ({ render: () => null }))
    const router = createRouter({
      history: createMemoryHistory(),
      routes: [
        {
          path: '/',
          component: { render: () => null },
          children: [{ path: 'x', component: screen }],
        },
      ],
    })
    router.beforeEach(guard)
    const done = router.push('/x')
    await new Promise((r) => setTimeout(r, 0))
    expect(screen).toHaveBeenCalled() // /v1/me not answered yet
    answer(
      new Response(JSON.stringify({ kind: 'member', id: 'm', role: 'owner' }), {
        headers: { 'Content-Type': 'application/json' },
      }),
    )
    await done
    expect(router.currentRoute.value.path).toBe('/x')
  })
})

afterEach(() => vi.unstubAllGlobals())
