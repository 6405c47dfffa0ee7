// sheets/addon/Code.gs under Node against the real kpi API (started by tests/bot/test_serve_addon.py,
// which passes KPI_URL, KPI_QUERY_KEY, KPI_WIN_ONLY_KEY and KPI_ADDON).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { httpSync, loadAddon } from './gas_shim.mjs';

const URL_ = process.env.KPI_URL;
const KEY = process.env.KPI_QUERY_KEY;

function addon(key = KEY) {
  const a = loadAddon(process.env.KPI_ADDON);
  if (key) a.g.saveSettings(URL_, key, false);
  return a;
}

// What the API itself answers (one request per call, no pooled connection to go stale).
async function api(q) {
  const r = httpSync({ url: `${URL_}/v1/query?q=${encodeURIComponent(q)}`, method: 'GET',
                       headers: { Authorization: `Bearer ${KEY}` } });
  assert.equal(r.status, 200);
  return JSON.parse(r.body);
}

// Values made inside the add-on's vm context carry that context's prototypes: compare plain copies.
const plain = (x) => JSON.parse(JSON.stringify(x));

function throwsMessage(fn, re) {
  let message = null;
  try { fn(); } catch (e) { message = String(e.message); }
  assert.notEqual(message, null, 'expected an error');
  assert.match(message, re);
}

test('the kpi menu has Sync now, Insert KPI and Settings', () => {
  const a = addon(null);
  a.g.onOpen({ authMode: 'FULL' });
  assert.deepEqual(plain(a.rec.menus), [{ name: 'kpi', items: [['Sync now', 'syncNow'], ['Insert KPI', 'showInsertKpi'],
                                                         ['Settings', 'showSettings']] }]);
});

test('=KPI returns the number the API gives, as a number', async () => {
  const a = addon();
  const got = a.g.KPI('win_rate', 'last-quarter');
  assert.equal(typeof got, 'number');
  assert.equal(got, (await api('win_rate last-quarter vs none')).value);
  assert.ok(got > 0 && got < 1);
});

test('=KPI with a filter asks with where, and gets another number', async () => {
  const a = addon();
  const smb = a.g.KPI('win_rate', 'last-quarter', 'segment=SMB');
  assert.equal(smb, (await api('win_rate last-quarter where segment=SMB vs none')).value);
  assert.notEqual(smb, a.g.KPI('win_rate', 'last-quarter'));
  assert.match(decodeURIComponent(a.rec.fetches[0].url), /where segment=SMB/);
});

test('answers are cached for the TTL the API sends; after it, fetched again', () => {
  const a = addon();
  const first = a.g.KPI('avg_deal_size', 'last-quarter');
  assert.equal(a.g.KPI('avg_deal_size', 'last-quarter'), first);
  assert.equal(a.rec.fetches.length, 1);
  assert.equal(a.cache.puts[0].ttl, 300); // definitions.yaml: connection.cache_ttl_seconds
  a.clock.now += 301 * 1000;
  a.g.KPI('avg_deal_size', 'last-quarter');
  assert.equal(a.rec.fetches.length, 2);
});

test('a range of metrics in, a column of numbers out, in one fetchAll', async () => {
  const a = addon();
  const got = plain(a.g.KPI([['win_rate'], ['avg_deal_size']], 'last-quarter'));
  assert.deepEqual(got, [[(await api('win_rate last-quarter vs none')).value],
                         [(await api('avg_deal_size last-quarter vs none')).value]]);
});

test('blank cells of a metric range stay blank; the others are answered in one fetchAll', async () => {
  const a = addon();
  const got = plain(a.g.KPI([['win_rate'], [''], [null], ['avg_deal_size']], 'last-quarter'));
  assert.deepEqual(got, [[(await api('win_rate last-quarter vs none')).value], [''], [''],
                         [(await api('avg_deal_size last-quarter vs none')).value]]);
  assert.equal(a.rec.fetches.length, 2);
  assert.deepEqual(plain(a.g.KPI([[''], ['']], 'last-quarter')), [[''], ['']]);
  assert.equal(a.rec.fetches.length, 2); // nothing to ask, nothing fetched
});

test('a date cell as the period asks for that day, in the sheet timezone', async () => {
  const a = addon();
  // what Sheets passes for a cell holding 30 Sep 2026 in a Europe/Warsaw sheet: midnight there (22:00 UTC the
  // day before); a Date of another realm, as the vm context's is
  const cell = new Date(Date.UTC(2026, 8, 29, 22, 0, 0));
  const got = a.g.KPI('win_rate', cell);
  assert.match(decodeURIComponent(a.rec.fetches[0].url), /q=win_rate 2026-09-30 vs none$/);
  assert.equal(got, (await api('win_rate 2026-09-30 vs none')).value);
  throwsMessage(() => a.g.KPI('win_rate', new Date(NaN)), /^kpi: the period cell holds no valid date/);
});

test('=KPI_TABLE spills a header and one row per value', async () => {
  const a = addon();
  const table = plain(a.g.KPI_TABLE('win_rate last-quarter by region'));
  const body = await api('win_rate last-quarter by region');
  assert.deepEqual(table[0], ['region', 'Win rate']);
  assert.equal(table.length, body.rows.length + 1);
  for (const row of table.slice(1)) {
    assert.equal(typeof row[0], 'string');
    assert.equal(typeof row[1], 'number');
  }
});

test('errors are readable cell errors', () => {
  const a = addon();
  throwsMessage(() => a.g.KPI('wn_rate', 'last-quarter'), /^kpi: unknown metric 'wn_rate' \(did you mean 'win_rate'/);
  throwsMessage(() => a.g.KPI('win_rate', 'lst-quarter'), /^kpi: .*lst-quarter/);
  throwsMessage(() => a.g.KPI('', 'last-quarter'), /^kpi: name a metric/);
  throwsMessage(() => addon(null).g.KPI('win_rate', 'last-quarter'), /no API address or key yet/);
  const narrow = addon(process.env.KPI_WIN_ONLY_KEY);
  throwsMessage(() => narrow.g.KPI('cac', 'last-quarter'), /^kpi: key win-only may not read 'cac'$/);
  assert.equal(a.cache.puts.length, 0); // errors are never cached
});

test('Sync now says what the service answered', () => {
  const a = addon(); // a query-only key: the service refuses, and the toast says why
  const msg = a.g.syncNow();
  assert.match(msg, /^Sync failed: key .* lacks the 'sync' scope/);
  assert.deepEqual(plain(a.rec.toasts), [['kpi', msg]]);
});

test('Insert KPI lists the metrics the key may read and writes the formula', () => {
  const a = addon(process.env.KPI_WIN_ONLY_KEY);
  assert.deepEqual(plain(a.g.listMetrics().map((m) => m.name)), ['win_rate']);
  assert.equal(a.g.insertKpi('win_rate', 'last-quarter', 'segment=SMB'), '=KPI("win_rate","last-quarter","segment=SMB")');
  assert.deepEqual(plain(a.rec.formulas), ['=KPI("win_rate","last-quarter","segment=SMB")']);
  throwsMessage(() => a.g.saveSettings('ftp://x', 'kpi_1', false), /starts with https:\/\//);
});

test('the add-on speaks the spreadsheet\'s language: menu, toasts and its own cell errors in Polish', () => {
  const a = addon(null);
  a.clock.locale = 'pl_PL';
  a.g.onOpen({ authMode: 'FULL' });
  assert.deepEqual(plain(a.rec.menus[0].items.map((i) => i[0])), ['Synchronizuj teraz', 'Wstaw KPI', 'Ustawienia']);
  throwsMessage(() => a.g.KPI('win_rate', 'last-quarter'), /^kpi: brak adresu API lub klucza/);
  throwsMessage(() => a.g.saveSettings('ftp://x', 'kpi_1', false), /^adres API kpi zaczyna się od https:\/\//);
  const b = addon();
  b.clock.locale = 'pl_PL';
  throwsMessage(() => b.g.KPI('', 'last-quarter'), /^kpi: podaj wskaźnik/);
  assert.match(b.g.syncNow(), /^Synchronizacja nie powiodła się: /);
  b.clock.locale = 'de_DE'; // a language kpi does not speak: English
  assert.match(b.g.syncNow(), /^Sync failed: /);
});
