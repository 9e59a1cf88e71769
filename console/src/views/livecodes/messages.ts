export default {
  'zh-CN': { nav: '渠道活码', title: '渠道活码' },
  en: { nav: 'Live codes', title: 'Live codes' },
}
