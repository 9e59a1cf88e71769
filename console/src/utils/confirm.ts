/** A destructive action's confirmation that names the object (Element Plus message box). */
import { ElMessageBox } from 'element-plus'
import 'element-plus/es/components/message-box/style/css'

export async function confirmNamed(
  title: string,
  message: string,
  confirmText: string,
  cancelText: string,
): Promise<boolean> {
  try {
    await ElMessageBox.confirm(message, title, {
      confirmButtonText: confirmText,
      cancelButtonText: cancelText,
      type: 'warning',
      confirmButtonClass: 'el-button--danger',
    })
    return true
  } catch {
    return false
  }
}
