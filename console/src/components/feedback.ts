/**
 * ElMessage / ElMessageBox with their styles: the on-demand resolver adds a component's CSS only
 * for components used in templates (or auto-imported), not for these explicit service imports.
 */
import 'element-plus/es/components/message/style/css'
import 'element-plus/es/components/message-box/style/css'
import 'element-plus/es/components/button/style/css'
import 'element-plus/es/components/input/style/css'

export { ElMessage, ElMessageBox } from 'element-plus'
