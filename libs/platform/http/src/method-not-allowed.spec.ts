import Fastify from 'fastify';
import { allowHeader, registerMethodNotAllowed, RouteTable } from './method-not-allowed';

describe('RouteTable: a concrete path resolves to the one resource it names', () => {
  const table = new RouteTable();
  table.add('/strategies', ['GET', 'POST']);
  table.add('/strategies/templates', 'GET');
  table.add('/strategies/:id', ['GET', 'PUT', 'DELETE']);
  table.add('/strategies/:id/versions/:version', 'GET');
  table.add('/market-data', ['GET', 'POST']);
  table.add('/market-data/*', ['GET', 'POST', 'PATCH']);

  const allowed = (p: string) => {
    const m = table.allowed(p);
    return m && allowHeader(m);
  };

  it('prefers a static segment to a parameter, a parameter to a wildcard', () => {
    expect(allowed('/strategies')).toBe('GET, HEAD, POST');
    expect(allowed('/strategies/templates')).toBe('GET, HEAD');
    expect(allowed('/strategies/s1')).toBe('DELETE, GET, HEAD, PUT');
    expect(allowed('/strategies/s1/versions/2')).toBe('GET, HEAD');
    expect(allowed('/market-data')).toBe('GET, HEAD, POST');
    expect(allowed('/market-data/bars/deep')).toBe('GET, HEAD, PATCH, POST');
  });

  it('names no resource for a path no route serves', () => {
    expect(allowed('/nope')).toBeUndefined();
    expect(allowed('/strategies/s1/versions')).toBeUndefined();
    expect(allowed('/strategies//versions/1')).toBeUndefined();
  });
});

describe('registerMethodNotAllowed', () => {
  it('answers an undeclared method with 405 problem+json and Allow, OPTIONS with 204 and Allow, others pass', async () => {
    const app = Fastify();
    registerMethodNotAllowed(app);
    app.get('/things/:id', async () => ({ ok: true }));
    app.put('/things/:id', async () => ({ ok: true }));
    app.get('/things/special', async () => ({ special: true }));
    await app.ready();
    const patch = await app.inject({ method: 'PATCH', url: '/things/1?x=1' });
    expect(patch.statusCode).toBe(405);
    expect(patch.headers.allow).toBe('GET, HEAD, PUT');
    expect(patch.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(patch.json()).toMatchObject({
      type: 'urn:strata:problem:method-not-allowed',
      status: 405,
      instance: '/things/1',
    });
    // The static route owns its path: PUT is not routed to /things/:id.
    const put = await app.inject({ method: 'PUT', url: '/things/special' });
    expect([put.statusCode, put.headers.allow]).toEqual([405, 'GET, HEAD']);
    const options = await app.inject({ method: 'OPTIONS', url: '/things/1' });
    expect([options.statusCode, options.headers.allow]).toEqual([204, 'GET, HEAD, PUT']);
    expect((await app.inject({ method: 'GET', url: '/things/1' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/elsewhere' })).statusCode).toBe(404);
    await app.close();
  });
});
