import { describe, expect, it } from 'vitest'
import {
  defaultLayout,
  dragBox,
  layoutBody,
  lineHeight,
  nudge,
  placeBox,
  qrConflicts,
  rectOf,
  toCanvas,
  type Layout,
} from './boxes'

const L: Layout = {
  qr: { x: 700, y: 1500, size: 300 },
  avatar: { x: 60, y: 60, size: 120 },
  nickname: { x: 200, y: 90, font_size: 40, max_width: 500 },
}

describe('poster box geometry', () => {
  it('text boxes are max_width wide and 1.4 × font tall, like the API', () => {
    expect(lineHeight(40)).toBe(56)
    expect(rectOf(L, 'nickname')).toEqual({ x: 200, y: 90, w: 500, h: 56 })
    expect(rectOf({ qr: L.qr }, 'avatar')).toBeNull()
  })
  it('converts screen drags to canvas pixels at the display scale', () => {
    // canvas 1080 wide shown 360 wide: scale 1/3, 10 screen px = 30 canvas px
    expect(toCanvas(10, 360 / 1080)).toBe(30)
    const moved = dragBox(L, 'avatar', { x: 60, y: 60 }, 10, -5, 1 / 3, 1080, 1920)
    expect(moved.avatar).toMatchObject({ x: 90, y: 45, size: 120 })
    expect(L.avatar!.x).toBe(60) // the input layout is not changed
  })
  it('keeps a dragged box whole inside the canvas', () => {
    const far = dragBox(L, 'qr', { x: 700, y: 1500 }, 1000, 1000, 1, 1080, 1920)
    expect(far.qr).toEqual({ x: 780, y: 1620, size: 300 })
    const neg = placeBox(L, 'nickname', -40, -3, 1080, 1920)
    expect(neg.nickname).toMatchObject({ x: 0, y: 0 })
  })
  it('flags boxes that cover the QR code', () => {
    expect(qrConflicts(L)).toEqual([])
    expect(qrConflicts(placeBox(L, 'avatar', 650, 1450, 1080, 1920))).toEqual(['avatar'])
  })
  it('arrow keys nudge 10 px, 50 with Shift; others are ignored', () => {
    expect(nudge('ArrowLeft', false)).toEqual({ dx: -10, dy: 0 })
    expect(nudge('ArrowDown', true)).toEqual({ dx: 0, dy: 50 })
    expect(nudge('Enter', false)).toBeNull()
  })
  it('a default layout fits the canvas without covering the QR', () => {
    for (const [w, h] of [
      [1080, 1920],
      [750, 1334],
      [240, 240],
    ] as const) {
      const d = defaultLayout(w, h)
      for (const k of ['qr', 'avatar', 'nickname'] as const) {
        const r = rectOf(d, k)!
        expect(r.x >= 0 && r.y >= 0 && r.x + r.w <= w && r.y + r.h <= h).toBe(true)
      }
      if (w > 240) expect(qrConflicts(d)).toEqual([])
      expect(d.qr.size).toBeGreaterThanOrEqual(160)
    }
    expect(layoutBody({ qr: { x: 1.4, y: 2.6, size: 200 }, avatar: null })).toEqual({
      qr: { x: 1, y: 3, size: 200 },
    })
  })
})
