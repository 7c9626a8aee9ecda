import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { api, setCsrfToken, ApiError } from '@/api'
import type { Me, Member, Permission, SystemStatus } from '@/api/types'

export const useSessionStore = defineStore('session', () => {
  const status = ref<SystemStatus | null>(null)
  const me = ref<Me | null>(null)
  /** Whether /auth/me was tried since the last login state change. */
  const meLoaded = ref(false)

  async function loadStatus(force = false): Promise<SystemStatus> {
    if (status.value && !force) return status.value
    status.value = await api.status()
    return status.value
  }

  function setMe(value: Me | null) {
    me.value = value
    meLoaded.value = true
    setCsrfToken(value?.csrf_token ?? null)
    if (value && status.value) {
      status.value = {
        ...status.value,
        setup_done: true,
        enterprise_name: value.enterprise.name,
        has_logo: value.enterprise.has_logo,
        time_zone: value.enterprise.time_zone,
      }
    }
  }

  async function loadMe(force = false): Promise<Me | null> {
    if (meLoaded.value && !force) return me.value
    try {
      setMe(await api.me())
    } catch (e) {
      if (e instanceof ApiError && (e.status === 401 || e.code === 'setup_required')) setMe(null)
      else throw e
    }
    return me.value
  }

  function updateUser(user: Member) {
    if (me.value) me.value = { ...me.value, user }
  }

  function clear() {
    setMe(null)
  }

  async function logout() {
    try {
      await api.logout()
    } catch {
      /* already gone */
    }
    clear()
  }

  const isAdmin = computed(() => !!me.value?.admin)
  const isSuper = computed(() => me.value?.admin?.kind === 'super')

  function can(perm: Permission | 'super'): boolean {
    const a = me.value?.admin
    if (!a) return false
    if (a.kind === 'super') return true
    if (perm === 'super') return false
    return a.permissions.includes(perm)
  }

  /** Logo URL with a cache-buster that changes when the logo does. */
  const logoVersion = ref(0)
  function bumpLogo() {
    logoVersion.value++
  }

  return { status, me, meLoaded, loadStatus, setMe, loadMe, updateUser, clear, logout, isAdmin, isSuper, can, logoVersion, bumpLogo }
})
