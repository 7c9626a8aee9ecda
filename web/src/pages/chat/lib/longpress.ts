// Long-press on touch screens opens the same menu as a right-click.
export interface PressPoint {
  x: number
  y: number
}

export function useLongPress(onPress: (p: PressPoint) => void, ms = 500) {
  let timer: ReturnType<typeof setTimeout> | null = null
  let start: PressPoint | null = null
  function cancel() {
    if (timer) clearTimeout(timer)
    timer = null
    start = null
  }
  return {
    onTouchstart(ev: TouchEvent) {
      const t = ev.touches[0]
      if (!t || ev.touches.length > 1) return cancel()
      start = { x: t.clientX, y: t.clientY }
      timer = setTimeout(() => {
        const p = start
        cancel()
        if (p) onPress(p)
      }, ms)
    },
    onTouchmove(ev: TouchEvent) {
      const t = ev.touches[0]
      if (start && t && Math.hypot(t.clientX - start.x, t.clientY - start.y) > 10) cancel()
    },
    onTouchend: cancel,
    onTouchcancel: cancel,
  }
}
