import { ref, type Ref } from 'vue'

/** A shared reactive flag that follows a CSS media query (one listener per query, app-wide). */
export function mediaFlag(query: string): Ref<boolean> {
  const mql = typeof window !== 'undefined' && window.matchMedia ? window.matchMedia(query) : null
  const flag = ref(mql ? mql.matches : false)
  if (mql) {
    const update = () => (flag.value = mql.matches)
    if (mql.addEventListener) mql.addEventListener('change', update)
    else mql.addListener(update)
  }
  return flag
}

const mobile = mediaFlag('(max-width: 600px)')

/** True on phone-sized screens (≤ 600px). */
export function useMobile() {
  return mobile
}
