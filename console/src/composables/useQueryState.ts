/** Filters kept in the URL query (shareable, the back button works): read and replace. */
import { computed } from 'vue'
import { useRoute, useRouter, type LocationQueryRaw } from 'vue-router'

export function useQueryState() {
  const route = useRoute()
  const router = useRouter()
  const str = (k: string): string => {
    const v = route.query[k]
    return typeof v === 'string' ? v : Array.isArray(v) && typeof v[0] === 'string' ? v[0] : ''
  }
  const list = (k: string): string[] =>
    str(k)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
  function set(changes: Record<string, string | string[] | null | undefined>): void {
    const q: LocationQueryRaw = { ...route.query }
    for (const [k, v] of Object.entries(changes)) {
      const val = Array.isArray(v) ? v.join(',') : v
      if (val === null || val === undefined || val === '') delete q[k]
      else q[k] = val
    }
    void router.push({ query: q })
  }
  return { str, list, set, query: computed(() => route.query) }
}
