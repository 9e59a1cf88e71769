/**
 * vue-i18n, 简体中文 first. Shared words are in ./zh-CN.ts and ./en.ts; each screen adds its own
 * in `views/<screen>/messages.ts` (`export default { 'zh-CN': {...}, en: {...} }`), merged here under
 * the screen's folder name, so screens never edit a shared file: `t('livecodes.title')`.
 */
import { createI18n } from 'vue-i18n'
import en from './en'
import zhCN from './zh-CN'

export const LOCALES = ['zh-CN', 'en'] as const
export type Locale = (typeof LOCALES)[number]
export const LOCALE_NAMES: Record<Locale, string> = { 'zh-CN': '简体中文', en: 'English' }

type Tree = { [key: string]: string | Tree }
type ScreenMessages = { default: Partial<Record<Locale, Tree>> }

const screens = import.meta.glob<ScreenMessages>('../views/*/messages.ts', { eager: true })

export function buildMessages(): Record<Locale, Tree> {
  const messages: Record<Locale, Tree> = { 'zh-CN': { ...zhCN }, en: { ...en } }
  for (const [path, mod] of Object.entries(screens)) {
    const screen = path.split('/').at(-2) as string
    for (const locale of LOCALES) {
      const m = mod.default[locale]
      if (m) messages[locale][screen] = m
    }
  }
  return messages
}

const STORAGE_KEY = 'yutang.locale'

export function initialLocale(): Locale {
  const saved = typeof localStorage !== 'undefined' ? localStorage.getItem(STORAGE_KEY) : null
  if (saved && (LOCALES as readonly string[]).includes(saved)) return saved as Locale
  const nav = typeof navigator !== 'undefined' ? navigator.language : 'zh-CN'
  return nav.toLowerCase().startsWith('en') ? 'en' : 'zh-CN'
}

export const i18n = createI18n({
  legacy: false,
  locale: initialLocale(),
  fallbackLocale: 'zh-CN',
  messages: buildMessages(),
  missingWarn: false,
  fallbackWarn: false,
})

export function setLocale(locale: Locale): void {
  i18n.global.locale.value = locale
  localStorage.setItem(STORAGE_KEY, locale)
  document.documentElement.lang = locale
}
