import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
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
})
