/** Toasts (Element Plus ElMessage with its style, imported on demand). */
import { ElMessage } from 'element-plus'
import 'element-plus/es/components/message/style/css'

export const toast = {
  ok: (message: string): void => void ElMessage({ message, type: 'success' }),
  error: (message: string): void => void ElMessage({ message, type: 'error', duration: 6000 }),
}

/** Copies text to the clipboard; false when the browser refuses. */
export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text)
    return true
  } catch {
    return false
  }
}
