import type { RouteRecordRaw } from 'vue-router'
import { Files } from '@element-plus/icons-vue'

export default [
  {
    path: 'content',
    name: 'content',
    component: () => import('./ContentList.vue'),
    meta: { title: 'content.title', nav: { title: 'content.nav', icon: Files, order: 40 } },
  },
  {
    path: 'content/new',
    name: 'content-new',
    component: () => import('./ContentEdit.vue'),
    meta: { title: 'content.new' },
  },
  {
    path: 'content/:id',
    name: 'content-edit',
    component: () => import('./ContentEdit.vue'),
    props: true,
    meta: { title: 'content.edit' },
  },
] satisfies RouteRecordRaw[]
