import type { RouteRecordRaw } from 'vue-router'
import { Share } from '@element-plus/icons-vue'

export default [
  {
    path: 'fission',
    name: 'fission',
    component: () => import('./FissionHome.vue'),
    meta: { title: 'fission.title', nav: { title: 'fission.nav', icon: Share, order: 30 } },
  },
  {
    path: 'fission/templates/new',
    name: 'poster-new',
    component: () => import('./PosterEditor.vue'),
    meta: { title: 'fission.newTemplate' },
  },
  {
    path: 'fission/templates/:id',
    name: 'poster-edit',
    component: () => import('./PosterEditor.vue'),
    props: true,
    meta: { title: 'fission.editTemplate' },
  },
  {
    path: 'fission/tasks/new',
    name: 'task-new',
    component: () => import('./TaskForm.vue'),
    meta: { title: 'fission.newTask' },
  },
  {
    path: 'fission/tasks/:id/edit',
    name: 'task-edit',
    component: () => import('./TaskForm.vue'),
    props: true,
    meta: { title: 'fission.editTask' },
  },
  {
    path: 'fission/tasks/:id',
    name: 'task',
    component: () => import('./TaskDetail.vue'),
    props: true,
    meta: { title: 'fission.tasks' },
  },
] satisfies RouteRecordRaw[]
