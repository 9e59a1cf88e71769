import { afterEach, describe, expect, it, vi } from 'vitest'
import { api } from './client'
import { listLiveCodes, reorderTargets } from './livecodes'

const ok = (data: unknown) => ({ data, response: new Response(null, { status: 200 }) })

afterEach(() => vi.restoreAllMocks())

describe('live codes API', () => {
  it('searches on the server with q (trimmed; an empty search sends none)', async () => {
    const get = vi
      .spyOn(api, 'GET')
      .mockResolvedValue(ok({ items: [], next_cursor: null }) as never)
    await listLiveCodes('abcdefgh', 20, '  双11 Needle ')
    expect(get).toHaveBeenLastCalledWith('/v1/livecodes', {
      params: { query: { limit: 20, cursor: 'abcdefgh', q: '双11 Needle' } },
    })
    await listLiveCodes(undefined, 20, '   ')
    expect(get).toHaveBeenLastCalledWith('/v1/livecodes', {
      params: { query: { limit: 20, cursor: undefined, q: undefined } },
    })
  })
  it('reorders saved targets with one PUT of their ids', async () => {
    const put = vi.spyOn(api, 'PUT').mockResolvedValue(ok({ id: 'c1', targets: [] }) as never)
    await reorderTargets('c1', ['b', 'a'])
    expect(put).toHaveBeenCalledWith('/v1/livecodes/{code_id}/targets/order', {
      params: { path: { code_id: 'c1' } },
      body: { target_ids: ['b', 'a'] },
    })
  })
})
