/// <reference types="vitest/config" />
import vue from '@vitejs/plugin-vue'
import { fileURLToPath, URL } from 'node:url'
import AutoImport from 'unplugin-auto-import/vite'
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers'
import Components from 'unplugin-vue-components/vite'
import { defineConfig } from 'vite'
import precompileMessages from './scripts/precompile-messages.mjs'

// The console is served by the API's origin under /console/ (devstack locally, CloudFront on AWS).
const api = process.env.YUTANG_API ?? 'http://127.0.0.1:8000'

export default defineConfig({
  base: '/console/',
  define: {
    __VUE_I18N_FULL_INSTALL__: true,
    __VUE_I18N_LEGACY_API__: false,
    __INTLIFY_PROD_DEVTOOLS__: false,
    // messages are compiled at build time (scripts/precompile-messages.mjs): no compiler shipped
    __INTLIFY_DROP_MESSAGE_COMPILER__: true,
  },
  plugins: [
    vue(),
    precompileMessages(),
    AutoImport({ resolvers: [ElementPlusResolver()], dts: 'src/auto-imports.d.ts' }),
    Components({ resolvers: [ElementPlusResolver()], dts: 'src/components.d.ts', dirs: [] }),
  ],
  resolve: { alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) } },
  server: { proxy: { '/v1': api, '/openapi.json': api, '/s': api } },
  build: {
    target: 'es2022',
    reportCompressedSize: true,
    manifest: true, // dist/.vite/manifest.json: bench/console.py sums each screen's JS from it
    chunkSizeWarningLimit: 700,
  },
  test: {
    environment: 'happy-dom',
    include: ['src/**/*.spec.ts'],
    server: { deps: { inline: ['element-plus'] } },
  },
})
