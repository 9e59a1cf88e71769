export default {
  'zh-CN': { nav: '概览', title: '今日概览' },
  en: { nav: 'Overview', title: 'Overview' },
}
