import { mediaFlag } from '@/composables/useMobile'

// Chat, announcements and search switch to one-screen-at-a-time below this width.
const narrow = mediaFlag('(max-width: 640px)')

/** True on phone-sized screens (≤ 640px). */
export function useNarrow() {
  return narrow
}
