import type { RouteRecordRaw } from 'vue-router'
import { Document } from '@element-plus/icons-vue'

export default [
  {
    path: 'api',
    name: 'apiref',
    component: () => import('./ApiReference.vue'),
    meta: { title: 'apiref.title', nav: { title: 'apiref.nav', icon: Document, order: 95 } },
  },
] satisfies RouteRecordRaw[]
