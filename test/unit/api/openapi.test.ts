import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeHarness, type Harness } from './harness.js';

let h: Harness;
let doc: any;

beforeAll(async () => {
  h = await makeHarness();
  const r = await h.app.inject({ url: '/api/openapi.json' });
  expect(r.statusCode).toBe(200);
  doc = r.json();
});
afterAll(async () => h.close());

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

describe('OpenAPI document', () => {
  it('is OpenAPI 3.1 with the token and admin-key security schemes and the app version', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.version).toBe('0.1.0-test');
    expect(doc.components.securitySchemes.token).toMatchObject({ type: 'apiKey', in: 'header', name: 'token' });
    expect(doc.components.securitySchemes.adminKey).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('describes every compat route with its parameters', () => {
    for (const p of ['get-user-calls', 'get-queue-calls', 'get-ringgroup-calls', 'get-system-status']) expect(doc.paths[`/api/integration/v2/${p}`].get).toBeDefined();
    const post = doc.paths['/api/integration/v2/call-to-number'].post;
    expect(Object.keys(post.requestBody.content).sort()).toEqual(['application/json', 'application/x-www-form-urlencoded', 'multipart/form-data']);
    const names = doc.paths['/api/integration/v2/get-user-calls'].get.parameters.map((p: any) => p.name);
    expect(names).toEqual(['from_date', 'to_date', 'sort_by', 'offset', 'limit', 'unique_call_id', 'users_numbers']);
    const row = doc.paths['/api/integration/v2/get-queue-calls'].get.responses['200'].content['application/json'].schema.properties.data.items;
    expect(Object.keys(row.properties)).toContain('callerid');
  });

  it('documents every route of the app (none is missing from the document)', () => {
    const documented = new Set<string>();
    for (const [path, ops] of Object.entries<any>(doc.paths)) for (const m of Object.keys(ops)) documented.add(`${m.toUpperCase()} ${path}`);
    // printRoutes draws a tree (4 columns per level, each node a suffix of its parent's path): rebuild full paths.
    const stack: string[] = [];
    const routes: Array<[string, string[]]> = [];
    for (const line of h.app.printRoutes({ commonPrefix: false }).split('\n')) {
      const m = /^([│ ├└─]*)(\S.*) \(([A-Z, ]+)\)$/.exec(line);
      if (!m) continue;
      const depth = m[1]!.length / 4;
      stack.length = depth;
      const full = (stack[depth - 1] ?? '') + m[2]!;
      stack[depth] = full;
      if (/^\/api\/(admin|integration|recordings)/.test(full)) routes.push([full, m[3]!.split(', ')]);
    }
    expect(routes.length).toBeGreaterThan(30);
    for (const [rawPath, methods] of routes) {
      const path = rawPath.replace(/:(\w+)/g, '{$1}');
      for (const m of methods.filter((x) => x !== 'HEAD')) expect(documented.has(`${m} ${path}`), `${m} ${path}`).toBe(true);
    }
  });

  it('declares a success response, the error envelope, security and tags on every operation', () => {
    for (const [path, ops] of Object.entries<any>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(ops)) {
        if (!METHODS.includes(method)) continue;
        const codes = Object.keys(op.responses);
        expect(codes.some((c) => /^20[012]$/.test(c)), `${method} ${path}`).toBe(true);
        expect(op.responses['401'], `${method} ${path} 401`).toBeDefined();
        // Recording files by signed link take no key: the link's signature is the authorisation.
        const security = path.startsWith('/api/admin') ? [{ adminKey: [] }] : path.startsWith('/api/recordings/') || path.startsWith('/api/voicemail/') ? [{ signedLink: [] }] : [{ token: [] }];
        expect(op.security, `${method} ${path}`).toEqual(security);
        expect(op.tags?.length, `${method} ${path}`).toBeGreaterThan(0);
        if (['post', 'put', 'patch'].includes(method) && !path.endsWith('redeliver') && !path.endsWith('regenerate') && !path.endsWith('/apply')) {
          expect(op.requestBody, `${method} ${path} body`).toBeDefined();
        }
      }
    }
  });

  it('resolves every $ref to a component', () => {
    const refs = new Set<string>();
    JSON.stringify(doc, (k, v) => {
      if (k === '$ref') refs.add(v);
      return v;
    });
    expect(refs.size).toBeGreaterThan(5);
    for (const ref of refs) {
      const m = /^#\/components\/schemas\/(.+)$/.exec(ref);
      expect(m, ref).not.toBeNull();
      expect(doc.components.schemas[m![1]!], ref).toBeDefined();
    }
  });
});

describe('docs page (/api/docs)', () => {
  it('serves Swagger UI and all of its assets from the package (works offline)', async () => {
    const page = await h.app.inject({ url: '/api/docs/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    const assets = [...page.body.matchAll(/(?:href|src)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThanOrEqual(4);
    for (const a of assets) {
      expect(a, 'no external asset').not.toMatch(/^(https?:)?\/\//);
      const r = await h.app.inject({ url: new URL(a, 'http://x/api/docs/').pathname });
      expect(r.statusCode, a).toBe(200);
      expect(r.body.length, a).toBeGreaterThan(0);
    }
    const init = await h.app.inject({ url: '/api/docs/static/swagger-initializer.js' });
    // Nothing is fetched from elsewhere (the logo is an inline data: URI, whose SVG names its XML namespaces; one
    // comment cites a web page).
    const code = init.body.replace(/'data:[^']*'/g, "''").replace(/^\s*\/\/.*$/gm, '');
    expect(code).not.toMatch(/https?:\/\//i);
    expect(init.body).toContain('"validatorUrl":null');
    const spec = await h.app.inject({ url: '/api/docs/json' });
    expect(spec.statusCode).toBe(200);
    expect(spec.json().openapi).toBe('3.1.0');
  });

  it('also serves the page without the trailing slash, with absolute asset paths', async () => {
    const page = await h.app.inject({ url: '/api/docs' });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('/api/docs/static/swagger-ui-bundle.js');
  });
});
