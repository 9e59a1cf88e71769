/**
 * Poster layout geometry (pure, unit-tested): boxes in canvas pixels, screen ⇄ canvas scale, drag
 * and keyboard moves clamped inside the canvas, and the QR overlap the API refuses.
 * Mirrors chalicelib/posters/layout.py: a text box is `max_width` wide and ceil(1.4 × font) tall.
 */

export interface QrBox {
  x: number
  y: number
  size: number
}
export interface AvatarBox {
  x: number
  y: number
  size: number
  shape?: 'circle' | 'square'
}
export interface TextBox {
  x: number
  y: number
  font_size: number
  color?: string
  max_width: number
  align?: 'left' | 'center' | 'right'
}
export interface Layout {
  qr: QrBox
  avatar?: AvatarBox | null
  nickname?: TextBox | null
  texts?: Array<TextBox & { text: string }>
}
export type BoxKind = 'qr' | 'avatar' | 'nickname'
export interface Rect {
  x: number
  y: number
  w: number
  h: number
}

export const MIN_QR = 160

export function lineHeight(fontSize: number): number {
  return Math.ceil(fontSize * 1.4)
}

export function rectOf(layout: Layout, kind: BoxKind): Rect | null {
  if (kind === 'qr') return { x: layout.qr.x, y: layout.qr.y, w: layout.qr.size, h: layout.qr.size }
  if (kind === 'avatar') {
    const a = layout.avatar
    return a ? { x: a.x, y: a.y, w: a.size, h: a.size } : null
  }
  const n = layout.nickname
  return n ? { x: n.x, y: n.y, w: n.max_width, h: lineHeight(n.font_size) } : null
}

export function overlaps(a: Rect, b: Rect): boolean {
  return !(a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y)
}

/** Boxes the API would refuse because they cover the QR code. */
export function qrConflicts(layout: Layout): BoxKind[] {
  const qr = rectOf(layout, 'qr')!
  return (['avatar', 'nickname'] as const).filter((k) => {
    const r = rectOf(layout, k)
    return r !== null && overlaps(r, qr)
  })
}

const clamp = (v: number, lo: number, hi: number): number =>
  Math.min(Math.max(v, lo), Math.max(lo, hi))

/** Screen pixels to canvas pixels at a display scale (display width / canvas width). */
export function toCanvas(screenDelta: number, scale: number): number {
  return Math.round(screenDelta / (scale > 0 ? scale : 1))
}

/** The layout with one box placed at (x, y) canvas pixels, kept whole inside the canvas. */
export function placeBox(
  layout: Layout,
  kind: BoxKind,
  x: number,
  y: number,
  width: number,
  height: number,
): Layout {
  const r = rectOf(layout, kind)
  if (!r) return layout
  const nx = clamp(Math.round(x), 0, width - r.w)
  const ny = clamp(Math.round(y), 0, height - r.h)
  const box = { ...(layout[kind] as object), x: nx, y: ny }
  return { ...layout, [kind]: box } as Layout
}

/** A drag: the box's position when the pointer went down plus the pointer's screen movement. */
export function dragBox(
  layout: Layout,
  kind: BoxKind,
  start: { x: number; y: number },
  screenDx: number,
  screenDy: number,
  scale: number,
  width: number,
  height: number,
): Layout {
  return placeBox(
    layout,
    kind,
    start.x + toCanvas(screenDx, scale),
    start.y + toCanvas(screenDy, scale),
    width,
    height,
  )
}

/** Arrow keys move a box 10 canvas px (Shift: 50); other keys do nothing (null). */
export function nudge(key: string, shift: boolean): { dx: number; dy: number } | null {
  const step = shift ? 50 : 10
  switch (key) {
    case 'ArrowLeft':
      return { dx: -step, dy: 0 }
    case 'ArrowRight':
      return { dx: step, dy: 0 }
    case 'ArrowUp':
      return { dx: 0, dy: -step }
    case 'ArrowDown':
      return { dx: 0, dy: step }
    default:
      return null
  }
}

/** A starting layout for a new template: QR bottom right, avatar and nickname top left. */
export function defaultLayout(width: number, height: number): Layout {
  const qr = Math.max(MIN_QR, Math.round(Math.min(width, height) * 0.3))
  const margin = Math.round(width * 0.06)
  const avatar = Math.round(width * 0.12)
  return {
    qr: { x: width - qr - margin, y: height - qr - margin, size: qr },
    avatar: { x: margin, y: margin, size: avatar, shape: 'circle' },
    nickname: {
      x: margin + avatar + Math.round(margin / 2),
      y: margin + Math.round(avatar / 2) - Math.round(lineHeight(Math.round(width * 0.04)) / 2),
      font_size: Math.round(width * 0.04),
      color: '#1f2329',
      max_width: Math.round(width * 0.5),
      align: 'left',
    },
    texts: [],
  }
}

/** The layout as the API takes it (no null boxes, integers). */
export function layoutBody(l: Layout): Layout {
  const out: Layout = {
    qr: { x: Math.round(l.qr.x), y: Math.round(l.qr.y), size: Math.round(l.qr.size) },
  }
  if (l.avatar) out.avatar = { ...l.avatar }
  if (l.nickname) out.nickname = { ...l.nickname }
  if (l.texts?.length) out.texts = l.texts.map((t) => ({ ...t }))
  return out
}
