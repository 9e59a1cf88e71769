export default {
  'zh-CN': {
    nav: 'API 文档',
    title: 'API 文档',
    hint: '“Try it out” 以当前登录身份调用接口（遵循你的角色权限）。',
    download: '下载 openapi.json',
  },
  en: {
    nav: 'API reference',
    title: 'API reference',
    hint: '“Try it out” calls the API as you (your role applies).',
    download: 'Download openapi.json',
  },
}
