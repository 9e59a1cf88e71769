import { describe, expect, it } from 'vitest'
import type { LiveCode } from '@/api/types'
import {
  canMove,
  createBody,
  draftFromCode,
  editSteps,
  emptyDraft,
  emptyTarget,
  errorPath,
  move,
  targetOrder,
} from './draft'

const code: LiveCode = {
  id: 'c1',
  name: '海报',
  channel: 'poster',
  strategy: 'fill',
  timezone: 'Asia/Shanghai',
  enabled: true,
  windows: [],
  tags: [],
  targets: [
    {
      id: 'a',
      kind: 'group',
      name: 'A',
      capacity: 200,
      assigned: 3,
      weight: 1,
      enabled: true,
      expires_at: null,
      image_url: '/m/a.png',
    },
    {
      id: 'b',
      kind: 'group',
      name: 'B',
      capacity: 200,
      assigned: 0,
      weight: 1,
      enabled: true,
      expires_at: null,
      image_url: '/m/b.png',
    },
  ],
  fallback: null,
}

describe('createBody', () => {
  it('sends targets in the order shown, with their images', () => {
    const d = emptyDraft('Asia/Shanghai')
    d.name = ' 海报 '
    d.channel = 'poster'
    d.targets[0]!.name = 'A'
    d.targets[0]!.image = 'AAAA'
    const b = emptyTarget('url')
    b.name = 'B'
    b.url = 'https://example.com'
    d.targets.push(b)
    d.targets = move(d.targets, 1, 0)
    const body = createBody(d)
    expect(body.name).toBe('海报')
    expect(body.windows).toBeNull()
    expect((body.targets as Array<{ name: string }>).map((t) => t.name)).toEqual(['B', 'A'])
    expect((body.targets as Array<{ url?: string; image?: string }>)[0]).toMatchObject({
      url: 'https://example.com',
    })
    expect((body.targets as Array<{ image?: string }>)[1]!.image).toBe('AAAA')
  })
})

describe('editSteps', () => {
  it('patches the code and only what changed among the targets', () => {
    const before = draftFromCode(code)
    const after = draftFromCode(code)
    after.name = '新海报'
    after.targets[0]!.capacity = 300
    after.targets.splice(1, 1)
    const c = emptyTarget('group')
    c.name = 'C'
    c.image = 'BBBB'
    after.targets.push(c)
    const steps = editSteps(before, after)
    expect(steps.map((s) => s.op)).toEqual(['patch-code', 'delete', 'update', 'add'])
    expect(steps[0]).toMatchObject({ op: 'patch-code', body: { name: '新海报' } })
    expect(steps[0]!.op === 'patch-code' && 'fallback' in steps[0]!.body).toBe(false)
    expect(steps[1]).toMatchObject({ op: 'delete', id: 'b' })
    expect(steps[2]).toEqual({ op: 'update', index: 0, id: 'a', body: { capacity: 300 } })
    expect(steps[3]).toMatchObject({ op: 'add', index: 1, body: { name: 'C', image: 'BBBB' } })
  })
  it('nothing changed: only the code PATCH', () => {
    expect(editSteps(draftFromCode(code), draftFromCode(code)).map((s) => s.op)).toEqual([
      'patch-code',
    ])
  })
  it('removes or replaces the fallback', () => {
    const withFb = {
      ...code,
      fallback: { id: 'f', kind: 'staff' as const, name: 'F', enabled: true },
    }
    const removed = draftFromCode(withFb)
    removed.fallback = null
    expect(editSteps(draftFromCode(withFb), removed)[0]).toMatchObject({ body: { fallback: null } })
    const renamed = draftFromCode(withFb)
    renamed.fallback!.name = 'G'
    expect(editSteps(draftFromCode(withFb), renamed)[0]).toMatchObject({
      body: { fallback: { name: 'G', kind: 'staff' } },
    })
  })
})

describe('reordering', () => {
  it('moves freely on create', () => {
    const d = emptyDraft('Asia/Shanghai')
    d.targets.push(emptyTarget(), emptyTarget())
    expect(canMove(d.targets, 2, 0)).toBe(true)
    expect(canMove(d.targets, 0, 3)).toBe(false)
    expect(move(['a', 'b', 'c'], 2, 0)).toEqual(['c', 'a', 'b'])
  })
  it('moves saved and new targets alike on edit', () => {
    const d = draftFromCode(code)
    d.targets.push(emptyTarget(), emptyTarget())
    expect(canMove(d.targets, 0, 1)).toBe(true)
    expect(canMove(d.targets, 3, 0)).toBe(true)
    expect(canMove(d.targets, 1, 1)).toBe(false)
    expect(canMove(d.targets, 0, 4)).toBe(false)
  })
  it('reorders saved targets with one call after the others', () => {
    const after = draftFromCode(code)
    after.targets = move(after.targets, 1, 0)
    const steps = editSteps(draftFromCode(code), after)
    expect(steps.map((s) => s.op)).toEqual(['patch-code', 'reorder'])
    expect(targetOrder(after.targets)).toEqual(['b', 'a'])
  })
  it('makes no reorder call when the order is what the API will hold', () => {
    const same = draftFromCode(code)
    expect(editSteps(draftFromCode(code), same).map((s) => s.op)).toEqual(['patch-code'])
    const appended = draftFromCode(code)
    const extra = emptyTarget('url')
    extra.name = 'C'
    extra.url = 'https://example.com/c'
    appended.targets.push(extra)
    expect(editSteps(draftFromCode(code), appended).map((s) => s.op)).toEqual(['patch-code', 'add'])
    const removed = draftFromCode(code)
    removed.targets.splice(0, 1)
    expect(editSteps(draftFromCode(code), removed).map((s) => s.op)).toEqual([
      'patch-code',
      'delete',
    ])
  })
  it('reorders when a new target is placed before saved ones, with its id once added', () => {
    const after = draftFromCode(code)
    const extra = emptyTarget('url')
    extra.name = 'C'
    extra.url = 'https://example.com/c'
    after.targets.unshift(extra)
    const steps = editSteps(draftFromCode(code), after)
    expect(steps.map((s) => s.op)).toEqual(['patch-code', 'add', 'reorder'])
    after.targets[0]!.id = 'c' // what the save does with the add call's answer
    expect(targetOrder(after.targets)).toEqual(['c', 'a', 'b'])
  })
})

describe('errorPath', () => {
  it('places a field error of one target call on that target', () => {
    expect(errorPath('image', "'image' is not a PNG", { targetIndex: 2, targetCount: 3 })).toBe(
      'targets.2.image',
    )
  })
  it('places code fields on the code', () => {
    expect(errorPath('channel', "'channel' is required", { targetCount: 2 })).toBe('channel')
  })
  it('reads the target index from the message when the API gives it', () => {
    expect(errorPath('kind', 'targets[1]: unknown field', { targetCount: 2 })).toBe(
      'targets.1.kind',
    )
  })
  it('a target field with one target goes to it; with several, to the targets section', () => {
    expect(errorPath('capacity', 'x', { targetCount: 1 })).toBe('targets.0.capacity')
    expect(errorPath('capacity', 'x', { targetCount: 3 })).toBe('targets')
    expect(errorPath('image', 'x', { targetCount: 0, fallback: true })).toBe('fallback.image')
  })
})
