import type { RouteRecordRaw } from 'vue-router'

export default [
  {
    path: '/login',
    name: 'login',
    component: () => import('./LoginView.vue'),
    meta: { public: true, title: 'login.title' },
  },
] satisfies RouteRecordRaw[]
