import type { RouteRecordRaw } from 'vue-router'

export default [
  {
    // invite and password-reset links from POST /v1/members(/{id}/invite): <console>/invite/<token>
    path: '/invite/:token',
    name: 'invite',
    component: () => import('./InviteView.vue'),
    meta: { public: true, title: 'invite.title' },
  },
] satisfies RouteRecordRaw[]
