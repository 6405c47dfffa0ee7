/**
 * kpi for Google Sheets: numbers from a running `kpi serve` in cells, a "kpi" menu to sync the
 * managed tabs, insert a KPI and set the API address and key.
 *
 *   =KPI("cac"; "last-quarter")                       a number (format the cell as you like)
 *   =KPI("win_rate"; "2026-Q3"; "segment=SMB")        filters: "dim=value", several with ";" or ","
 *   =KPI(A2:A10; "last-quarter")                      a column of metrics in, a column of numbers out
 *   =KPI("win_rate"; B1)                              B1 a date: that day's value
 *   =KPI_TABLE("win_rate last-quarter by region")     a table (header row + one row per value)
 *
 * Answers are cached in CacheService for as long as the API says (Cache-Control: max-age, which is
 * the definitions' cache_ttl_seconds). Errors become cell errors with kpi's one-line message.
 *
 * @OnlyCurrentDoc
 */

var KPI_URL_PROPERTY = 'KPI_API_URL';
var KPI_KEY_PROPERTY = 'KPI_API_KEY';
var KPI_MAX_TTL = 21600; // CacheService's limit (6 h)
var KPI_DEFAULT_TTL = 300;

function onOpen(e) {
  SpreadsheetApp.getUi().createAddonMenu()
    .addItem(kpiT_('Sync now'), 'syncNow')
    .addItem(kpiT_('Insert KPI'), 'showInsertKpi')
    .addItem(kpiT_('Settings'), 'showSettings')
    .addToUi();
}

function onInstall(e) {
  onOpen(e);
}

/**
 * A KPI as a number, from the kpi service.
 *
 * @param {string|Array<Array<string>>} metric a metric name or synonym ("cac", "win rate"), or a range of them
 * @param {string} period e.g. "last-quarter", "2026-Q3", "ytd" (default: the definitions' default period)
 * @param {string} filters optional, e.g. "segment=SMB" or "segment=SMB; region=EMEA"
 * @param {*} refresh optional: any cell; change it to fetch again
 * @return {number} the value (a ratio as a fraction: 0.27 for 27 %)
 * @customfunction
 */
function KPI(metric, period, filters, refresh) {
  if (Array.isArray(metric)) {
    var names = [];
    metric.forEach(function (row) { row.forEach(function (m) { if (!kpiBlank_(m)) names.push(m); }); });
    var answers = names.length ? kpiAnswers_(names.map(function (m) { return kpiQuestion_(m, period, filters); })) : [];
    var i = 0;
    return metric.map(function (row) {  // a blank cell of the range stays blank
      return row.map(function (m) { return kpiBlank_(m) ? '' : kpiNumber_(answers[i++]); });
    });
  }
  return kpiNumber_(kpiAnswers_([kpiQuestion_(metric, period, filters)])[0]);
}

function kpiBlank_(m) {
  return m === undefined || m === null || String(m).trim() === '';
}

/**
 * A question's answer as a table: a header row, then one row per breakdown value or period.
 *
 * @param {string} question e.g. "win_rate last-quarter by region", "cac last-6-months grain month"
 * @param {*} refresh optional: any cell; change it to fetch again
 * @return {Array<Array<*>>} the table
 * @customfunction
 */
function KPI_TABLE(question, refresh) {
  if (!question || typeof question !== 'string') throw new Error(kpiT_('kpi: write a question, e.g. "win_rate last-quarter by region"'));
  var r = kpiAnswers_([question])[0];
  if (r.error) throw new Error('kpi: ' + r.error);
  var body = r.body;
  if (body.rows && body.rows.length) {
    var dims = body.dimensions || [];
    var table = [dims.concat([body.label])];
    body.rows.forEach(function (row) {
      table.push(dims.map(function (d) { return row[d]; }).concat([kpiValue_(row.value)]));
    });
    return table;
  }
  if (body.series && body.series.length) {
    var out = [[kpiT_('period'), body.label]];
    body.series.forEach(function (p) { out.push([p.label, kpiValue_(p.value)]); });
    return out;
  }
  return [[body.label], [kpiValue_(body.value)]];
}

function kpiQuestion_(metric, period, filters) {
  if (metric === undefined || metric === null || String(metric).trim() === '') {
    throw new Error(kpiT_('kpi: name a metric, e.g. =KPI("win_rate"; "last-quarter")'));
  }
  var q = String(metric).trim();
  if (period) q += ' ' + kpiPeriod_(period);
  var where = String(filters || '').split(/[;,]/).map(function (f) { return f.trim(); }).filter(String);
  if (where.length) q += ' where ' + where.join(' and ');
  return q + ' vs none';
}

/** A period argument: text as written; a date cell as that day (yyyy-MM-dd in the sheet's timezone). */
function kpiPeriod_(period) {
  if (Object.prototype.toString.call(period) === '[object Date]') {
    if (isNaN(period.getTime())) throw new Error(kpiT_('kpi: the period cell holds no valid date'));
    var tz = SpreadsheetApp.getActiveSpreadsheet().getSpreadsheetTimeZone();
    return Utilities.formatDate(period, tz, 'yyyy-MM-dd');
  }
  return String(period).trim();
}

function kpiNumber_(answer) {
  if (answer.error) throw new Error('kpi: ' + answer.error);
  return kpiValue_(answer.body.value);
}

function kpiValue_(v) {
  return v === null || v === undefined ? '' : Number(v);
}

function kpiSettings_() {
  var user = PropertiesService.getUserProperties();
  var doc = PropertiesService.getDocumentProperties();
  var url = user.getProperty(KPI_URL_PROPERTY) || (doc && doc.getProperty(KPI_URL_PROPERTY));
  var key = user.getProperty(KPI_KEY_PROPERTY) || (doc && doc.getProperty(KPI_KEY_PROPERTY));
  if (!url || !key) throw new Error(kpiT_('kpi: no API address or key yet: open the menu Extensions > kpi > Settings'));
  return { url: url.replace(/\/+$/, ''), key: key };
}

function kpiCacheKey_(url, question) {
  var digest = Utilities.computeDigest(Utilities.DigestAlgorithm.SHA_256, url + '\n' + question);
  return 'kpi:' + Utilities.base64EncodeWebSafe(digest);
}

/** Answers to questions, from the cache or in one UrlFetchApp.fetchAll: [{body} or {error}]. */
function kpiAnswers_(questions) {
  var s = kpiSettings_();
  var cache = CacheService.getUserCache();
  var keys = questions.map(function (q) { return kpiCacheKey_(s.url, q); });
  var hit = cache.getAll(keys);
  var missing = [];
  questions.forEach(function (q, i) { if (!hit[keys[i]]) missing.push(i); });
  var fetched = {};
  if (missing.length) {
    var responses = UrlFetchApp.fetchAll(missing.map(function (i) {
      return {
        url: s.url + '/v1/query?q=' + encodeURIComponent(questions[i]),
        headers: { Authorization: 'Bearer ' + s.key },
        muteHttpExceptions: true
      };
    }));
    responses.forEach(function (resp, n) {
      var i = missing[n];
      var answer = kpiParse_(resp);
      fetched[i] = answer;
      if (!answer.error) {
        cache.put(keys[i], resp.getContentText(), kpiTtl_(resp));
      }
    });
  }
  return questions.map(function (q, i) {
    return i in fetched ? fetched[i] : { body: JSON.parse(hit[keys[i]]) };
  });
}

function kpiParse_(resp) {
  var code = resp.getResponseCode();
  var text = resp.getContentText();
  var body;
  try {
    body = JSON.parse(text);
  } catch (e) {
    return { error: kpiT_('the kpi service answered {code} (not JSON): {text}', { code: code, text: String(text).slice(0, 120) }) };
  }
  if (code === 200) return { body: body };
  var msg = body && body.error ? body.error.message : text;
  if (code === 429) msg = kpiT_('too many requests; try again in a moment');
  return { error: String(msg).split('\n')[0] };
}

function kpiTtl_(resp) {
  var headers = resp.getHeaders() || {};
  var cc = headers['Cache-Control'] || headers['cache-control'] || '';
  var m = /max-age=(\d+)/.exec(cc);
  var ttl = m ? parseInt(m[1], 10) : KPI_DEFAULT_TTL;
  return Math.max(1, Math.min(KPI_MAX_TTL, ttl));
}

/** Menu: kpi > Sync now. Writes the managed tabs through the service (needs a key with the sync scope). */
function syncNow() {
  var s = kpiSettings_();
  var resp = UrlFetchApp.fetch(s.url + '/v1/sync', {
    method: 'post',
    contentType: 'application/json',
    payload: '{}',
    headers: { Authorization: 'Bearer ' + s.key },
    muteHttpExceptions: true
  });
  var answer = kpiParse_(resp);
  var message = answer.error ? kpiT_('Sync failed: {error}', { error: answer.error })
    : kpiT_('Tabs synced: {count} in {seconds} s', { count: answer.body.tabs.length, seconds: answer.body.seconds });
  SpreadsheetApp.getActiveSpreadsheet().toast(message, 'kpi', 8);
  return message;
}

/** Menu: kpi > Insert KPI (a sidebar listing the metrics this key may read). */
function showInsertKpi() {
  var html = HtmlService.createTemplateFromFile('Sidebar');
  html.panel = 'insert';
  html.messages = kpiMessages_();
  SpreadsheetApp.getUi().showSidebar(html.evaluate().setTitle('kpi'));
}

/** Menu: kpi > Settings (the same sidebar, on its settings panel). */
function showSettings() {
  var html = HtmlService.createTemplateFromFile('Sidebar');
  html.panel = 'settings';
  html.messages = kpiMessages_();
  SpreadsheetApp.getUi().showSidebar(html.evaluate().setTitle(kpiT_('kpi settings')));
}

/** Sidebar: the metrics this key may read, as [{name, label, description}]. */
function listMetrics() {
  var s = kpiSettings_();
  var resp = UrlFetchApp.fetch(s.url + '/v1/metrics', {
    headers: { Authorization: 'Bearer ' + s.key }, muteHttpExceptions: true
  });
  var answer = kpiParse_(resp);
  if (answer.error) throw new Error(answer.error);
  return answer.body.map(function (m) { return { name: m.name, label: m.label, description: m.description }; });
}

/** Sidebar: put =KPI(...) in the active cell. */
function insertKpi(metric, period, filters) {
  var args = ['"' + String(metric).replace(/"/g, '') + '"'];
  if (period || filters) args.push('"' + String(period || '').replace(/"/g, '') + '"');
  if (filters) args.push('"' + String(filters).replace(/"/g, '') + '"');
  var formula = '=KPI(' + args.join(',') + ')';
  SpreadsheetApp.getActiveRange().setFormula(formula);
  return formula;
}

/** Sidebar: save the API address and key (for you; `shared`: for every editor of this file too). */
function saveSettings(url, key, shared) {
  url = String(url || '').trim();
  key = String(key || '').trim();
  if (!/^https?:\/\//.test(url)) throw new Error(kpiT_('the kpi API address starts with https://'));
  if (!/^kpi_/.test(key)) throw new Error(kpiT_('an API key starts with kpi_ (create one with: kpi api keys create --scope query)'));
  var props = {};
  props[KPI_URL_PROPERTY] = url;
  props[KPI_KEY_PROPERTY] = key;
  PropertiesService.getUserProperties().setProperties(props);
  if (shared) PropertiesService.getDocumentProperties().setProperties(props);
  return 'saved';
}

// -- Words: the add-on's messages in the user's language (KPI_MESSAGES, made from kpi's gettext catalogs) --

/** The language to speak: the spreadsheet's locale (custom functions may read it), else the user's. */
function kpiLanguage_() {
  var locale = '';
  try { locale = SpreadsheetApp.getActiveSpreadsheet().getSpreadsheetLocale() || ''; } catch (e) { /* no file yet */ }
  if (!locale) {
    try { locale = Session.getActiveUserLocale() || ''; } catch (e) { /* AuthMode.NONE */ }
  }
  return String(locale).split(/[_-]/)[0].toLowerCase();
}

/** The catalog for the language ({msgid: text}); English is the msgids themselves. */
function kpiMessages_() {
  return KPI_MESSAGES[kpiLanguage_()] || {};
}

/** A message in the user's language, with {name} placeholders filled from ``args``. */
function kpiT_(msgid, args) {
  var text = kpiMessages_()[msgid] || msgid;
  return text.replace(/\{(\w+)\}/g, function (all, name) {
    return args && Object.prototype.hasOwnProperty.call(args, name) ? String(args[name]) : all;
  });
}
