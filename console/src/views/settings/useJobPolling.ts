import { onBeforeUnmount } from 'vue'
import { isRunning, type Job } from './api'

/** Polls running jobs (exports, imports) every 1.5 s until none is running; replaces them in place. */
export function useJobPolling(items: { value: Job[] }, fetchOne: (id: string) => Promise<Job>) {
  let timer: ReturnType<typeof setTimeout> | undefined
  async function tick(): Promise<void> {
    const running = items.value.filter(isRunning)
    if (!running.length) return
    const fresh = await Promise.all(running.map((j) => fetchOne(j.id).catch(() => j)))
    const byId = new Map(fresh.map((j) => [j.id, j]))
    items.value = items.value.map((j) => byId.get(j.id) ?? j)
    schedule()
  }
  function schedule(): void {
    clearTimeout(timer)
    if (items.value.some(isRunning)) timer = setTimeout(() => void tick(), 1500)
  }
  onBeforeUnmount(() => clearTimeout(timer))
  return { schedule }
}
