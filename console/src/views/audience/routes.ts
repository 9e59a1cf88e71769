import type { RouteRecordRaw } from 'vue-router'
import { User } from '@element-plus/icons-vue'

export default [
  {
    path: 'audience',
    name: 'audience',
    component: () => import('./AudienceList.vue'),
    meta: { title: 'audience.title', nav: { title: 'audience.nav', icon: User, order: 45 } },
  },
  {
    path: 'audience/:id',
    name: 'audience-user',
    component: () => import('./UserProfile.vue'),
    props: true,
    meta: { title: 'audience.profile' },
  },
] satisfies RouteRecordRaw[]
