import { ref, shallowRef, type Ref, type ShallowRef } from 'vue'

export interface AsyncState<T> {
  data: ShallowRef<T | null>
  loading: Ref<boolean>
  error: ShallowRef<unknown>
  run: () => Promise<void>
}

/** Loading / error / data for one request; a newer run supersedes an older one still in flight. */
export function useAsync<T>(fn: () => Promise<T>): AsyncState<T> {
  const data = shallowRef<T | null>(null)
  const loading = ref(false)
  const error = shallowRef<unknown>(null)
  let seq = 0
  async function run(): Promise<void> {
    const mine = ++seq
    loading.value = true
    error.value = null
    try {
      const value = await fn()
      if (mine === seq) data.value = value
    } catch (e) {
      if (mine === seq) error.value = e
    } finally {
      if (mine === seq) loading.value = false
    }
  }
  return { data, loading, error, run }
}
