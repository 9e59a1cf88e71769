import { describe, expect, it } from 'vitest'
import { contentBody } from './api'

const base = {
  type: 'text',
  title: ' Hi ',
  body: 'b',
  url: ' https://x.test ',
  tags: ['a'],
  card: { appid: ' wx0123456789abcdef ', path: 'p', title: '' },
}

describe('content form → API body', () => {
  it('sends only what the type takes; type only on create', () => {
    expect(contentBody(base, null, null, true)).toEqual({
      type: 'text',
      title: 'Hi',
      body: 'b',
      tags: ['a'],
    })
    expect(contentBody({ ...base, type: 'link' }, null, null, false)).toEqual({
      title: 'Hi',
      url: 'https://x.test',
      tags: ['a'],
    })
  })
  it('media only when a new file was chosen; card with its thumbnail', () => {
    expect(contentBody({ ...base, type: 'image' }, null, null, false)).not.toHaveProperty('media')
    expect(
      contentBody({ ...base, type: 'image' }, { data: 'QQ==', filename: 'a.png' }, null, true)
        .media,
    ).toEqual({ data: 'QQ==', filename: 'a.png' })
    expect(contentBody({ ...base, type: 'miniprogram' }, null, 'TQ==', true).card).toEqual({
      appid: 'wx0123456789abcdef',
      path: 'p',
      thumbnail: 'TQ==',
    })
  })
})
