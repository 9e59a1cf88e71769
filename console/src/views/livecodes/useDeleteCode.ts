import { ElMessage, ElMessageBox } from '@/components/feedback'
import { useI18n } from 'vue-i18n'
import { deleteLiveCode } from '@/api/livecodes'
import type { LiveCode } from '@/api/types'

/** Delete after a confirmation that names the live code; resolves true when deleted. */
export function useDeleteCode() {
  const { t } = useI18n()
  return async (code: LiveCode): Promise<boolean> => {
    try {
      await ElMessageBox.confirm(
        t('livecodes.deleteConfirm', { name: code.name }),
        t('livecodes.deleteTitle'),
        {
          type: 'warning',
          confirmButtonText: t('common.delete'),
          cancelButtonText: t('common.cancel'),
          confirmButtonClass: 'el-button--danger',
        },
      )
    } catch {
      return false
    }
    try {
      await deleteLiveCode(code.id!)
      ElMessage.success(t('common.deleted'))
      return true
    } catch (e) {
      ElMessage.error(e instanceof Error ? e.message : String(e))
      return false
    }
  }
}
