import { useI18n } from 'vue-i18n'
import { confirmNamed } from '@/utils/confirm'
import { toast } from '@/utils/notify'

export interface Ask {
  title: string
  message: string
  /** the confirm button; 删除 / Delete unless given */
  confirm?: string
}

/**
 * A destructive action behind a confirmation that names the object: asked, done, a toast that it
 * is done (then `after`, e.g. reload or leave the screen) or why it failed. Resolves to whether it
 * was done.
 */
export function useConfirmed() {
  const { t } = useI18n()
  return async function confirmed(
    ask: Ask,
    action: () => Promise<unknown>,
    after?: () => unknown,
  ): Promise<boolean> {
    const ok = await confirmNamed(
      ask.title,
      ask.message,
      ask.confirm ?? t('common.delete'),
      t('common.cancel'),
    )
    if (!ok) return false
    try {
      await action()
    } catch (e) {
      toast.error(e instanceof Error ? e.message : String(e))
      return false
    }
    toast.ok(t('common.deleted'))
    await after?.()
    return true
  }
}
