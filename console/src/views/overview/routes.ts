import type { RouteRecordRaw } from 'vue-router'
import { DataAnalysis } from '@element-plus/icons-vue'

export default [
  {
    path: 'overview',
    name: 'overview',
    component: () => import('./OverviewView.vue'),
    meta: {
      title: 'overview.title',
      nav: { title: 'overview.nav', icon: DataAnalysis, order: 10 },
    },
  },
] satisfies RouteRecordRaw[]
