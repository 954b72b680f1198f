/** The route table (services/kit/http/route-table.ts): the matching rules @koa/router had, kept. */
import { describe, expect, it } from 'vitest';
import { createRouteTable } from '../../../services/kit/http/route-table.ts';

function table() {
  const t = createRouteTable<string>();
  t.add('get', '/api/content/search', '/api/content/search', 'search');
  t.add('get', '/api/content/{content_id}', '/api/content/:content_id', 'read');
  t.add('put', '/api/content/{content_id}', '/api/content/:content_id', 'update');
  t.add('post', '/api/courses/{course_id}/items/{item_id}', '/api/courses/:course_id/items/:item_id', 'add-item');
  t.add('get', '/', '/', 'root');
  return t;
}

describe('the route table', () => {
  it('finds a route by method and path, with its decoded parameters and its metrics label', () => {
    expect(table().lookup('GET', '/api/content/abc')).toEqual({
      handler: 'read',
      params: { content_id: 'abc' },
      label: '/api/content/:content_id',
    });
    expect(table().lookup('POST', '/api/courses/c%201/items/%F0%9F%A6%8C')).toEqual({
      handler: 'add-item',
      params: { course_id: 'c 1', item_id: '🦌' },
      label: '/api/courses/:course_id/items/:item_id',
    });
    expect(table().lookup('GET', '/')).toMatchObject({ handler: 'root' });
  });

  it('keeps a parameter as sent when it does not decode', () => {
    expect(table().lookup('GET', '/api/content/%E0%A4%A')).toMatchObject({ params: { content_id: '%E0%A4%A' } });
  });

  it('tries routes in the order they were added: a literal added first wins over a parameter', () => {
    expect(table().lookup('GET', '/api/content/search')).toMatchObject({ handler: 'search' });
  });

  it('ignores the case of literal segments and one trailing slash, but not a second one', () => {
    expect(table().lookup('GET', '/API/Content/Abc/')).toMatchObject({ handler: 'read', params: { content_id: 'Abc' } });
    expect(table().lookup('GET', '/api/content/abc//')).toEqual({ allowed: [] });
  });

  it('answers HEAD with a GET route', () => {
    expect(table().lookup('HEAD', '/api/content/abc')).toMatchObject({ handler: 'read' });
  });

  it('names the methods a path has when the request method is not one of them, in the order they were added', () => {
    expect(table().lookup('DELETE', '/api/content/abc')).toEqual({ allowed: ['HEAD', 'GET', 'PUT'] });
    expect(table().lookup('GET', '/api/courses/c/items/i')).toEqual({ allowed: ['POST'] });
  });

  it('finds nothing for a path no route has, an empty parameter, or a different length', () => {
    expect(table().lookup('GET', '/api/nothing')).toEqual({ allowed: [] });
    expect(table().lookup('POST', '/api/courses//items/i')).toEqual({ allowed: [] });
    expect(table().lookup('GET', '/api/content/abc/more')).toEqual({ allowed: [] });
  });
});
