import { createApp } from 'vue'
import { createPinia } from 'pinia'
import App from './App.vue'
import { router } from './router'
import { i18n } from './i18n'
import { onApiError } from './api/client'
import { useSessionStore } from './stores/session'
import './styles/main.css'

const app = createApp(App)
const pinia = createPinia()
app.use(pinia)
app.use(router)
app.use(i18n)

// Global reactions to API errors: session gone → login; fresh server → setup wizard.
onApiError((err) => {
  const session = useSessionStore()
  const route = router.currentRoute.value
  if (err.code === 'setup_required') {
    if (session.status) session.status = { ...session.status, setup_done: false }
    if (route.name !== 'setup') router.replace({ name: 'setup' })
    return
  }
  if (err.status === 401 && err.code === 'unauthorized') {
    session.clear()
    if (!route.meta.public) router.replace({ name: 'login', query: { redirect: route.fullPath } })
  }
})

app.mount('#app')
