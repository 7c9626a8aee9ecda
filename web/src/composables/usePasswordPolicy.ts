import { ref } from 'vue'
import { api } from '@/api'
import type { PasswordPolicy } from '@/api/types'
import { DEFAULT_POLICY } from '@/utils/password'

/** The server's password policy (public endpoint); a conservative default until it loads. */
export function usePasswordPolicy(load = true) {
  const policy = ref<PasswordPolicy>({ ...DEFAULT_POLICY })
  const loaded = ref(false)
  async function refresh() {
    try {
      policy.value = await api.passwordPolicy()
      loaded.value = true
    } catch {
      /* keep the default (e.g. before setup the server answers 409) */
    }
  }
  if (load) refresh()
  return { policy, loaded, refresh }
}
