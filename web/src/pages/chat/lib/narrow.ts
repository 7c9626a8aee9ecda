import { ref } from 'vue'

// Chat, announcements and search switch to one-screen-at-a-time below this width.
const QUERY = '(max-width: 640px)'
const mql = typeof window !== 'undefined' && window.matchMedia ? window.matchMedia(QUERY) : null
const shared = ref(mql ? mql.matches : false)
if (mql) {
  const update = () => (shared.value = mql.matches)
  if (mql.addEventListener) mql.addEventListener('change', update)
  else mql.addListener(update)
}

/** True on phone-sized screens (≤ 640px). */
export function useNarrow() {
  return shared
}
