import { useI18n } from 'vue-i18n'
import { useAuthStore } from '@/stores/auth'
import { formatNumber, formatTime } from '@/utils/format'

/** Formatting bound to the current locale and the tenant's timezone. */
export function useFormat() {
  const { locale } = useI18n()
  const auth = useAuthStore()
  return {
    num: (n: number | null | undefined) => formatNumber(n, locale.value),
    time: (iso: string | null | undefined, withZone = true) =>
      formatTime(iso, auth.timezone, locale.value, withZone),
    tz: () => auth.timezone,
  }
}
