import type { RouteRecordRaw } from 'vue-router'
import { Promotion } from '@element-plus/icons-vue'

export default [
  {
    path: 'campaigns',
    name: 'campaigns',
    component: () => import('./CampaignList.vue'),
    meta: { title: 'campaigns.title', nav: { title: 'campaigns.nav', icon: Promotion, order: 50 } },
  },
  {
    path: 'campaigns/new',
    name: 'campaign-new',
    component: () => import('./CampaignForm.vue'),
    meta: { title: 'campaigns.new' },
  },
  {
    path: 'campaigns/:id/edit',
    name: 'campaign-edit',
    component: () => import('./CampaignForm.vue'),
    props: true,
    meta: { title: 'campaigns.edit' },
  },
  {
    path: 'campaigns/:id',
    name: 'campaign',
    component: () => import('./CampaignDetail.vue'),
    props: true,
    meta: { title: 'campaigns.title' },
  },
] satisfies RouteRecordRaw[]
