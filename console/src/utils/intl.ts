/**
 * Intl formatters, made once per locale and options. Creating an Intl.DateTimeFormat or
 * NumberFormat costs far more than formatting with one (on a slow phone, tens of milliseconds for
 * a page of fill bars and times), so the helpers of utils/ share these instead of making their own
 * on every call.
 */
const cache = new Map<string, Intl.DateTimeFormat | Intl.NumberFormat>()

function memo<T extends Intl.DateTimeFormat | Intl.NumberFormat>(key: string, make: () => T): T {
  let f = cache.get(key) as T | undefined
  if (!f) {
    f = make()
    cache.set(key, f)
  }
  return f
}

export function dateTimeFormat(
  locale: string,
  options: Intl.DateTimeFormatOptions,
): Intl.DateTimeFormat {
  return memo(
    `d|${locale}|${JSON.stringify(options)}`,
    () => new Intl.DateTimeFormat(locale, options),
  )
}

export function numberFormat(locale: string, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  return memo(
    `n|${locale}|${JSON.stringify(options)}`,
    () => new Intl.NumberFormat(locale, options),
  )
}
