import { onBeforeUnmount, ref, type Ref } from 'vue'

/** A reactive `matchMedia` (false where matchMedia is missing, e.g. in unit tests). */
export function useMedia(query: string): Ref<boolean> {
  const mql = typeof window !== 'undefined' && window.matchMedia ? window.matchMedia(query) : null
  const matches = ref(mql?.matches ?? false)
  const onChange = (e: MediaQueryListEvent): void => {
    matches.value = e.matches
  }
  mql?.addEventListener('change', onChange)
  onBeforeUnmount(() => mql?.removeEventListener('change', onChange))
  return matches
}

/** Phone width: the sidebar becomes a drawer. */
export const PHONE = '(max-width: 767px)'
