/**
 * A server-paginated list read with the API's cursors: the first page on `reload()`, more with
 * `more()`. A reload drops answers of an older request (filters changed while loading).
 */
import { ref, shallowRef, type Ref } from 'vue'

export interface CursorPage<T> {
  items: T[]
  next_cursor?: string | null
}

export function useCursorList<T>(fetchPage: (cursor: string | null) => Promise<CursorPage<T>>) {
  const items = shallowRef<T[]>([]) as Ref<T[]>
  const loading = ref(false)
  const loadingMore = ref(false)
  const error = shallowRef<unknown>(null)
  const next = ref<string | null>(null)
  const loaded = ref(false)
  let seq = 0

  async function reload(): Promise<void> {
    const mine = ++seq
    loading.value = true
    error.value = null
    try {
      const page = await fetchPage(null)
      if (mine !== seq) return
      items.value = page.items
      next.value = page.next_cursor ?? null
      loaded.value = true
    } catch (e) {
      if (mine === seq) error.value = e
    } finally {
      if (mine === seq) loading.value = false
    }
  }

  async function more(): Promise<void> {
    if (!next.value || loadingMore.value) return
    const mine = seq
    loadingMore.value = true
    try {
      const page = await fetchPage(next.value)
      if (mine !== seq) return
      items.value = [...items.value, ...page.items]
      next.value = page.next_cursor ?? null
    } catch (e) {
      error.value = e
    } finally {
      loadingMore.value = false
    }
  }

  return { items, loading, loadingMore, error, next, loaded, reload, more }
}
