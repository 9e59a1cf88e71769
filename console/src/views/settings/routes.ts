import type { RouteRecordRaw } from 'vue-router'
import { Setting } from '@element-plus/icons-vue'

export default [
  {
    path: 'settings',
    component: () => import('./SettingsLayout.vue'),
    meta: { title: 'settings.title', nav: { title: 'settings.nav', icon: Setting, order: 90 } },
    children: [
      { path: '', name: 'settings', redirect: '/settings/members' },
      {
        path: 'members',
        name: 'settings-members',
        component: () => import('./MembersPanel.vue'),
        meta: { title: 'settings.tabs.members' },
      },
      {
        path: 'api-keys',
        name: 'settings-api-keys',
        component: () => import('./ApiKeysPanel.vue'),
        meta: { title: 'settings.tabs.apiKeys' },
      },
      {
        path: 'audit-log',
        name: 'settings-audit',
        component: () => import('./AuditPanel.vue'),
        meta: { title: 'settings.tabs.audit' },
      },
      {
        path: 'wecom',
        name: 'settings-wecom',
        component: () => import('./WecomPanel.vue'),
        meta: { title: 'settings.tabs.wecom' },
      },
      {
        path: 'mini-program',
        name: 'settings-mp',
        component: () => import('./MpPanel.vue'),
        meta: { title: 'settings.tabs.mp' },
      },
      {
        path: 'webhooks',
        name: 'settings-webhooks',
        component: () => import('./WebhooksPanel.vue'),
        meta: { title: 'settings.tabs.webhooks' },
      },
      {
        path: 'exports',
        name: 'settings-exports',
        component: () => import('./ExportsPanel.vue'),
        meta: { title: 'settings.tabs.exports' },
      },
      {
        path: 'imports',
        name: 'settings-imports',
        component: () => import('./ImportsPanel.vue'),
        meta: { title: 'settings.tabs.imports' },
      },
    ],
  },
] satisfies RouteRecordRaw[]
