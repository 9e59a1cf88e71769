import { computed, type WritableComputedRef } from 'vue'
import { useRoute, useRouter } from 'vue-router'
import { useAuthStore } from '@/stores/auth'
import { matchingPreset, rangeFromQuery, type DateRange, type Preset } from '@/utils/dates'

/**
 * A screen's date range kept in the URL (`?days=30` for a preset, `?from=&to=` otherwise), so a
 * range is shareable and the back button restores it; every chart of the screen reads this one.
 */
export function useRangeQuery(fallback: Preset = 7): WritableComputedRef<DateRange> {
  const route = useRoute()
  const router = useRouter()
  const auth = useAuthStore()
  return computed<DateRange>({
    get: () => rangeFromQuery(route.query, auth.timezone, fallback),
    set: (r) => {
      const preset = matchingPreset(r, auth.timezone)
      const { from: _f, to: _t, days: _d, ...rest } = route.query
      void _f
      void _t
      void _d
      const query = preset ? { ...rest, days: String(preset) } : { ...rest, from: r.from, to: r.to }
      void router.push({ query })
    },
  })
}
