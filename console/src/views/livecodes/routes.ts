import type { RouteRecordRaw } from 'vue-router'
import { Connection } from '@element-plus/icons-vue'

export default [
  {
    path: 'livecodes',
    name: 'livecodes',
    component: () => import('./LiveCodeList.vue'),
    meta: {
      title: 'livecodes.title',
      nav: { title: 'livecodes.nav', icon: Connection, order: 20 },
    },
  },
  {
    path: 'livecodes/new',
    name: 'livecode-new',
    component: () => import('./LiveCodeEdit.vue'),
    meta: { title: 'livecodes.create' },
  },
  {
    path: 'livecodes/:id/edit',
    name: 'livecode-edit',
    component: () => import('./LiveCodeEdit.vue'),
    props: true,
    meta: { title: 'livecodes.edit' },
  },
  {
    path: 'livecodes/:id',
    name: 'livecode',
    component: () => import('./LiveCodeDetail.vue'),
    props: true,
    meta: { title: 'livecodes.title' },
  },
] satisfies RouteRecordRaw[]
