import { ref } from 'vue'
import { api } from '@/api'

const FALLBACK = ['Asia/Shanghai', 'Asia/Hong_Kong', 'Asia/Taipei', 'Asia/Macau', 'Asia/Urumqi', 'Asia/Singapore', 'Asia/Tokyo', 'UTC']

/** Time zones from GET /time-zones; the browser's list if the server does not answer (e.g. before setup). */
export function useTimeZones() {
  const zones = ref<string[]>(FALLBACK)
  api
    .timeZones()
    .then((z) => {
      if (Array.isArray(z) && z.length) zones.value = z
    })
    .catch(() => {
      try {
        const list = (Intl as any).supportedValuesOf?.('timeZone') as string[] | undefined
        if (list?.length) zones.value = list.includes('Asia/Shanghai') ? list : ['Asia/Shanghai', ...list]
      } catch {
        /* keep fallback */
      }
    })
  return zones
}
