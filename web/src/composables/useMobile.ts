import { ref } from 'vue'

const QUERY = '(max-width: 600px)'
const mql = typeof window !== 'undefined' && window.matchMedia ? window.matchMedia(QUERY) : null
const shared = ref(mql ? mql.matches : false)
if (mql) {
  const update = () => (shared.value = mql.matches)
  if (mql.addEventListener) mql.addEventListener('change', update)
  else mql.addListener(update)
}

/** True on phone-sized screens (≤ 600px). */
export function useMobile() {
  return shared
}
