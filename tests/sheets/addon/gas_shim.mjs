// A small stand-in for the Apps Script services the add-on uses, for running sheets/addon/Code.gs
// under Node (node:vm) against the real kpi API on 127.0.0.1. Only the HTTP seam is real:
// UrlFetchApp makes real, synchronous requests (a child node process per request, as Apps Script's
// fetch is synchronous). Everything else records what the add-on did, for the tests to check.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import vm from 'node:vm';

const CHILD = `
let data = '';
process.stdin.on('data', (c) => { data += c; });
process.stdin.on('end', async () => {
  const req = JSON.parse(data);
  try {
    const r = await fetch(req.url, { method: req.method, headers: req.headers, body: req.body });
    const headers = {};
    r.headers.forEach((v, k) => { headers[k] = v; });
    process.stdout.write(JSON.stringify({ status: r.status, headers, body: await r.text() }));
  } catch (e) {
    process.stdout.write(JSON.stringify({ error: String(e) }));
  }
});`;

export function httpSync(req) {
  const out = JSON.parse(execFileSync(process.execPath, ['-e', CHILD], { input: JSON.stringify(req) }).toString());
  if (out.error) throw new Error('Exception: Address unavailable: ' + req.url + ' (' + out.error + ')');
  return out;
}

class HTTPResponse {
  constructor(r) { this.r = r; }
  getResponseCode() { return this.r.status; }
  getContentText() { return this.r.body; }
  getHeaders() {
    // Apps Script gives header names as the server sent them; HTTP/1.1 servers here send lower case.
    const h = {};
    for (const [k, v] of Object.entries(this.r.headers)) h[k.replace(/(^|-)([a-z])/g, (m) => m.toUpperCase())] = v;
    return h;
  }
}

function toRequest(url, params = {}) {
  if (typeof url === 'object') { params = url; url = params.url; }
  const headers = { ...(params.headers || {}) };
  if (params.contentType) headers['Content-Type'] = params.contentType;
  return { url, method: (params.method || 'get').toUpperCase(), headers, body: params.payload,
           mute: params.muteHttpExceptions };
}

class Store {
  constructor() { this.data = {}; }
  getProperty(k) { return k in this.data ? this.data[k] : null; }
  setProperty(k, v) { this.data[k] = String(v); return this; }
  setProperties(o) { for (const [k, v] of Object.entries(o)) this.data[k] = String(v); return this; }
  deleteProperty(k) { delete this.data[k]; return this; }
}

class Cache {
  constructor(now) { this.items = {}; this.now = now; this.puts = []; }
  get(k) { const it = this.items[k]; return it && it.until > this.now() ? it.value : null; }
  getAll(keys) { const o = {}; for (const k of keys) { const v = this.get(k); if (v !== null) o[k] = v; } return o; }
  put(k, value, ttl = 600) {
    if (k.length > 250) throw new Error('Argument too large: key');
    if (value.length > 100 * 1024) throw new Error('Argument too large: value');
    if (ttl < 1 || ttl > 21600) throw new Error('Invalid ttl ' + ttl);
    this.items[k] = { value, until: this.now() + ttl * 1000 };
    this.puts.push({ key: k, ttl });
  }
}

export function loadAddon(codePath) {
  const clock = { now: Date.now(), timeZone: 'Europe/Warsaw', locale: 'en_US' };
  const rec = { fetches: [], menus: [], toasts: [], formulas: [], sidebars: [] };
  const userCache = new Cache(() => clock.now);
  const props = { user: new Store(), document: new Store(), script: new Store() };
  const fetchOne = (url, params) => {
    const req = toRequest(url, params);
    rec.fetches.push(req);
    const r = new HTTPResponse(httpSync(req));
    if (!req.mute && r.getResponseCode() >= 400) {
      throw new Error(`Exception: Request failed for ${req.url} returned code ${r.getResponseCode()}`);
    }
    return r;
  };
  const menu = (name) => {
    const m = { name, items: [] };
    return { addItem(label, fn) { m.items.push([label, fn]); return this; }, addSeparator() { return this; },
             addToUi() { rec.menus.push(m); } };
  };
  const template = (file) => ({ evaluate() { return { setTitle(t) { return { file, title: t }; } }; } });
  const context = {
    UrlFetchApp: { fetch: fetchOne, fetchAll: (reqs) => reqs.map((r) => fetchOne(r)) },
    PropertiesService: { getUserProperties: () => props.user, getDocumentProperties: () => props.document,
                         getScriptProperties: () => props.script },
    CacheService: { getUserCache: () => userCache, getScriptCache: () => userCache, getDocumentCache: () => userCache },
    Utilities: {
      DigestAlgorithm: { SHA_256: 'sha256', MD5: 'md5' },
      computeDigest: (alg, text) => [...createHash(alg).update(text, 'utf8').digest()].map((b) => (b > 127 ? b - 256 : b)),
      base64EncodeWebSafe: (bytes) => Buffer.from(bytes.map((b) => b & 255)).toString('base64url') + '==',
      formatDate: (date, tz, pattern) => {  // the one pattern the add-on uses
        if (pattern !== 'yyyy-MM-dd') throw new Error('shim: formatDate supports yyyy-MM-dd only');
        return new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' })
          .format(date);
      },
    },
    SpreadsheetApp: {
      getUi: () => ({ createAddonMenu: () => menu('kpi'), createMenu: (n) => menu(n),
                      showSidebar: (html) => rec.sidebars.push(html) }),
      getActiveSpreadsheet: () => ({ toast: (msg, title) => rec.toasts.push([title, msg]),
                                     getSpreadsheetTimeZone: () => clock.timeZone,
                                     getSpreadsheetLocale: () => clock.locale }),
      getActiveRange: () => ({ setFormula: (f) => rec.formulas.push(f) }),
    },
    Session: { getActiveUserLocale: () => clock.locale.split('_')[0] },
    HtmlService: { createTemplateFromFile: template, createHtmlOutputFromFile: (f) => template(f).evaluate() },
  };
  vm.createContext(context);
  // Apps Script shares one global scope between a project's .gs files: load them all (Messages.gs too).
  const dir = dirname(codePath);
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.gs')).sort()) {
    vm.runInContext(readFileSync(join(dir, name), 'utf8'), context, { filename: name });
  }
  return { g: context, rec, props, cache: userCache, clock };
}
