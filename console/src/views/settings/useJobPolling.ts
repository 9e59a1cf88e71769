import { onBeforeUnmount, onMounted } from 'vue'
import { useCursorList, type CursorPage } from '@/composables/useCursorList'
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

/** A cursor list of jobs (exports or imports) loaded on mount, its running jobs polled; `add`
 * puts a job just created on top and polls it. */
export function useJobList(
  page: (cursor: string | null) => Promise<CursorPage<Job>>,
  fetchOne: (id: string) => Promise<Job>,
) {
  const list = useCursorList<Job>(page)
  const polling = useJobPolling(list.items, fetchOne)
  function add(job: Job): void {
    list.items.value = [job, ...list.items.value]
    polling.schedule()
  }
  onMounted(async () => {
    await list.reload()
    polling.schedule()
  })
  return { list, add }
}
