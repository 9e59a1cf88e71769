/**
 * `v-scroll-region` on an el-table: its scrolling box (a narrow screen scrolls the table sideways)
 * becomes keyboard reachable and named, so the arrow keys scroll it (axe scrollable-region-focusable).
 */
import type { Directive } from 'vue'

function mark(el: HTMLElement): void {
  const label = el.getAttribute('aria-label') ?? ''
  el.querySelectorAll<HTMLElement>('.el-table__body-wrapper .el-scrollbar__wrap').forEach(
    (wrap) => {
      if (wrap.getAttribute('tabindex') === null) wrap.setAttribute('tabindex', '0')
      if (label && !wrap.getAttribute('aria-label')) {
        wrap.setAttribute('role', 'region')
        wrap.setAttribute('aria-label', label)
      }
    },
  )
}

export const vScrollRegion: Directive<HTMLElement> = {
  mounted: mark,
  updated: mark,
}
