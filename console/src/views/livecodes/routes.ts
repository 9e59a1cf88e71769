import type { RouteRecordRaw } from 'vue-router'
import { Connection } from '@element-plus/icons-vue'

export default [
  {
    path: 'livecodes',
    name: 'livecodes',
    component: () => import('./LiveCodeList.vue'),
    meta: { title: 'livecodes.title', nav: { title: 'livecodes.nav', icon: Connection, order: 20 } },
  },
] satisfies RouteRecordRaw[]
