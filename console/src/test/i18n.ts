import { createI18n } from 'vue-i18n'
import { buildMessages } from '@/i18n'

/** A fresh i18n for mounting components in unit tests. */
export function testI18n(locale: 'zh-CN' | 'en' = 'zh-CN') {
  return createI18n({ legacy: false, locale, fallbackLocale: 'zh-CN', messages: buildMessages() })
}
