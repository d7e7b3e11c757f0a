// The LocalizeVideos example app: a home page, a session login, /api/me,
// and Prometheus metrics. It serves what `npm run build` wrote to dist/ and
// reads its feature flags once, at start (flags.json, or $FLAGS_FILE).
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const client = require('prom-client');
const { readFlags } = require('./flags');

const PORT = Number(process.env.PORT || 3000);
const HOST = process.env.HOST || '127.0.0.1';
const DIST = path.join(__dirname, 'dist');
const SESSION_COOKIE = 'lv_session';

// Fixed demo users: email -> password. Nothing here is a secret.
const USERS = new Map([
  ['smoke@localizevideos.com', 'smoke-password'],
  ['alice@localizevideos.com', 'alice-password'],
  ['bob@localizevideos.com', 'bob-password'],
]);
const EMAILS = [...USERS.keys()];

const flags = readFlags(process.env.FLAGS_FILE || path.join(__dirname, 'flags.json'));

let index;
let buildInfo;
try {
  index = fs.readFileSync(path.join(DIST, 'index.html'), 'utf8');
  buildInfo = JSON.parse(fs.readFileSync(path.join(DIST, 'build-info.json'), 'utf8'));
} catch (err) {
  console.error(`localizevideos-app: no build in ${DIST} (run npm run build): ${err.message}`);
  process.exit(1);
}

// Metrics. Every label combination the smoke checks and the safety signals
// read starts at 0, so a rate has a baseline from the first scrape.
const registry = new client.Registry();
client.collectDefaultMetrics({ register: registry });
const requests = new client.Counter({
  name: 'http_requests_total',
  help: 'HTTP requests by method, route and status code.',
  labelNames: ['method', 'route', 'code'],
  registers: [registry],
});
const logins = new client.Counter({
  name: 'auth_login_total',
  help: 'Login attempts by result.',
  labelNames: ['result'],
  registers: [registry],
});
const latency = new client.Histogram({
  name: 'http_request_duration_seconds',
  help: 'HTTP request latency by route.',
  labelNames: ['route'],
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers: [registry],
});
const ROUTES = [['GET', '/'], ['POST', '/login'], ['POST', '/logout'], ['GET', '/api/me'], ['GET', '/api/version'], ['GET', '/metrics']];
for (const [method, route] of ROUTES) {
  for (const code of ['200', '401', '500']) requests.inc({ method, route, code }, 0);
  latency.zero({ route });
}
requests.inc({ method: 'GET', route: 'other', code: '404' }, 0);
for (const result of ['success', 'failure']) logins.inc({ result }, 0);

const sessions = new Map(); // session id -> email

function sessionOf(req) {
  const cookies = Object.fromEntries((req.headers.cookie || '').split(';').map((c) => {
    const i = c.indexOf('=');
    return i < 0 ? [c.trim(), ''] : [c.slice(0, i).trim(), decodeURIComponent(c.slice(i + 1).trim())];
  }));
  const id = cookies[SESSION_COOKIE];
  return id && sessions.has(id) ? { id, email: sessions.get(id) } : null;
}

// userOf is who a session belongs to. The new session store (behind the
// new-session-store flag) has a lookup bug: it answers with the next user.
function userOf(session) {
  if (!flags.enabled('new-session-store')) return session.email;
  return EMAILS[(EMAILS.indexOf(session.email) + 1) % EMAILS.length];
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks = [];
    req.on('data', (c) => {
      size += c.length;
      if (size > 16 * 1024) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function credentials(req, raw) {
  const type = (req.headers['content-type'] || '').split(';')[0].trim();
  if (type === 'application/json') {
    const v = JSON.parse(raw || '{}');
    return { email: String(v.email || ''), password: String(v.password || '') };
  }
  const v = new URLSearchParams(raw);
  return { email: v.get('email') || '', password: v.get('password') || '' };
}

function send(res, code, body, headers = {}) {
  const json = typeof body !== 'string';
  res.writeHead(code, {
    'content-type': json ? 'application/json' : 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(json ? JSON.stringify(body) : body);
}

// errorInjected answers whether this request fails on purpose: the
// inject-errors flag fails the given share (rate) of requests, evenly.
let served = 0;
function errorInjected() {
  const rate = flags.rate('inject-errors');
  if (rate <= 0) return false;
  served += 1;
  return Math.floor(served * rate) > Math.floor((served - 1) * rate);
}

async function handle(req, res) {
  const url = new URL(req.url, 'http://localhost');
  const route = `${req.method} ${url.pathname}`;
  if (route !== 'GET /metrics' && errorInjected()) {
    return send(res, 500, { error: 'injected failure (flag inject-errors)' });
  }
  switch (route) {
    case 'GET /':
      return send(res, 200, index);
    case 'GET /api/version':
      return send(res, 200, buildInfo);
    case 'GET /metrics':
      return send(res, 200, await registry.metrics(), { 'content-type': registry.contentType });
    case 'POST /login': {
      const { email, password } = credentials(req, await readBody(req));
      if (!USERS.has(email) || USERS.get(email) !== password) {
        logins.inc({ result: 'failure' });
        return send(res, 401, { error: 'wrong email or password' });
      }
      logins.inc({ result: 'success' });
      const id = crypto.randomBytes(24).toString('base64url');
      sessions.set(id, email);
      return send(res, 200, { user: email }, {
        'set-cookie': `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Lax`,
      });
    }
    case 'POST /logout': {
      const s = sessionOf(req);
      if (s) sessions.delete(s.id);
      return send(res, 200, { ok: true }, {
        'set-cookie': `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`,
      });
    }
    case 'GET /api/me': {
      const s = sessionOf(req);
      if (!s) return send(res, 401, { error: 'not signed in' });
      return send(res, 200, { user: userOf(s) });
    }
    default:
      return send(res, 404, { error: 'not found' });
  }
}

const known = new Set(ROUTES.map(([m, r]) => `${m} ${r}`));

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  const route = known.has(`${req.method} ${url.pathname}`) ? url.pathname : 'other';
  const end = latency.startTimer({ route });
  res.on('finish', () => {
    end();
    requests.inc({ method: req.method, route, code: String(res.statusCode) });
  });
  handle(req, res).catch((err) => {
    console.error(`localizevideos-app: ${req.method} ${url.pathname}: ${err.message}`);
    if (!res.headersSent) send(res, err instanceof SyntaxError ? 400 : 500, { error: err.message });
  });
});

server.listen(PORT, HOST, () => {
  const on = flags.names().filter((n) => flags.enabled(n));
  console.log(`localizevideos-app ${buildInfo.commit} listening on http://${HOST}:${PORT} (flags on: ${on.join(', ') || 'none'})`);
});

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => server.close(() => process.exit(0)));
}
