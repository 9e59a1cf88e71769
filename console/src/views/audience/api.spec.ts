import { describe, expect, it } from 'vitest'
import { segmentOf, userQuery } from './api'

describe('audience search → API', () => {
  it('identity search wins over segment filters', () => {
    expect(userQuery({ identity: 'openid:o1', tags: ['a'] })).toEqual({ identity: 'openid:o1' })
  })
  it('segment filters become the list query and the same audience for the size preview', () => {
    const q = { tags: ['a', 'b'], match: 'any' as const, not: ['x'], stages: ['new', 'paying'] }
    expect(userQuery(q)).toEqual({ tags: 'a,b', match: 'any', not: 'x', stage: 'new,paying' })
    expect(segmentOf(q)).toEqual({
      tags_any: ['a', 'b'],
      tags_none: ['x'],
      stages: ['new', 'paying'],
    })
    expect(segmentOf({ tags: ['a'], match: 'all' })).toEqual({ tags_all: ['a'] })
    expect(segmentOf({})).toEqual({})
  })
})
