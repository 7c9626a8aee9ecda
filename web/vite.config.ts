import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import AutoImport from 'unplugin-auto-import/vite'
import Components from 'unplugin-vue-components/vite'
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers'
import { fileURLToPath, URL } from 'node:url'

const API = process.env.OFFICEBOX_DEV_API || 'http://127.0.0.1:8080'

// The build output is committed (assets/web) and embedded in the Rust binary.
// It must be deterministic: no timestamps, no random ids, stable chunk names.
export default defineConfig({
  base: '/',
  plugins: [
    vue(),
    AutoImport({
      resolvers: [ElementPlusResolver()],
      dts: 'auto-imports.d.ts',
    }),
    Components({
      resolvers: [ElementPlusResolver()],
      dts: 'components.d.ts',
    }),
  ],
  resolve: {
    alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) },
  },
  define: {
    __VUE_OPTIONS_API__: 'true',
    __VUE_PROD_DEVTOOLS__: 'false',
    __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false',
    __VUE_I18N_FULL_INSTALL__: 'true',
    __VUE_I18N_LEGACY_API__: 'false',
    __INTLIFY_PROD_DEVTOOLS__: 'false',
    __INTLIFY_JIT_COMPILATION__: 'true',
    __INTLIFY_DROP_MESSAGE_COMPILER__: 'false',
  },
  server: {
    // OFFICEBOX_DEV_API points the dev server (and `vite preview`) at another officebox.
    proxy: {
      '/api': API,
      '/healthz': API,
      '/ws': { target: API, ws: true },
    },
  },
  build: {
    outDir: '../assets/web',
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    // Never inline assets as data: URLs (the favicon must be a real file under /assets/).
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 1500,
    rollupOptions: {
      output: {
        entryFileNames: 'assets/[name]-[hash].js',
        chunkFileNames: 'assets/[name]-[hash].js',
        assetFileNames: 'assets/[name]-[hash][extname]',
        manualChunks(id) {
          if (id.includes('node_modules/element-plus') || id.includes('node_modules/@element-plus')) return 'element-plus'
          // The drive's libraries load only with the drive pages, not with every page.
          if (id.includes('node_modules/highlight.js')) return 'highlight'
          if (/node_modules\/(tus-js-client|js-base64|url-parse|querystringify|requires-port|combine-errors|custom-error-instance|lodash\.)/.test(id)) return 'tus'
          if (id.includes('node_modules')) return 'vendor'
        },
      },
    },
  },
})
