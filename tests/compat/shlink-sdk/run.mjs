// Shlink's published JS SDK (@shlinkio/shlink-js-sdk, its ShlinkApiClient with the SDK's Node
// HTTP client) against a live kurz, with every answer checked against Shlink's contract.
//
//   KURZ_URL=http://127.0.0.1:8080 KURZ_KEY=<admin key> node run.mjs
//
// KURZ_VIEWER_KEY (optional): a viewer key, for Shlink's forbidden-tag-operation.
// KURZ_SDK_KEEP_GOING=1: run every section and list which passed, instead of stopping at the
// first mismatch (the sections share the links the first ones create, so a failure early on
// makes later ones fail too).
//
// The server must hold no links when it starts: counts and orders are checked exactly. It is
// run by tests/api/shlink_sdk.rs against a fresh kurz; exits 1 on the first mismatch, with the
// section, the message and the answer that did not match.

import assert from 'node:assert/strict';
import { ShlinkApiClient } from '@shlinkio/shlink-js-sdk';
import { ErrorType } from '@shlinkio/shlink-js-sdk/api-contract';
import { NodeHttpClient } from '@shlinkio/shlink-js-sdk/node';

const BASE = (process.env.KURZ_URL ?? '').replace(/\/+$/, '');
const KEY = process.env.KURZ_KEY ?? '';
const VIEWER_KEY = process.env.KURZ_VIEWER_KEY ?? '';
const KEEP_GOING = process.env.KURZ_SDK_KEEP_GOING === '1';
if (!BASE || !KEY) {
  console.error('KURZ_URL and KURZ_KEY must be set (the server and an admin API key)');
  process.exit(2);
}

/**
 * `target` with every method's rejection marked with the call that failed (a non-enumerable
 * `call`: Shlink's problem documents are plain objects without a stack).
 */
const traced = (target) => new Proxy(target, {
  get(object, name) {
    const member = object[name];
    if (typeof member !== 'function') return member;
    return (...args) => member.apply(object, args).catch((error) => {
      if (error && typeof error === 'object' && !(error instanceof Error)) {
        const call = `${String(name)}(${args.map((a) => JSON.stringify(a)).join(', ')})`;
        Object.defineProperty(error, 'call', { value: call, enumerable: false, configurable: true });
      }
      throw error;
    });
  },
});
const sdk = (apiKey) => traced(new ShlinkApiClient(http, { baseUrl: BASE, apiKey }));

const http = traced(new NodeHttpClient());
const client = sdk(KEY);

const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0';
const ANDROID = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) '
  + 'Chrome/131.0.0.0 Mobile Safari/537.36';
const GOOGLEBOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';
const ATOM = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/;
const HOUR = 3_600_000;
const atom = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+00:00');

// --- helpers ------------------------------------------------------------------------------

/** Awaits `call`, which must fail with Shlink's problem `type` (and `status`); returns it. */
async function problem(call, type, status) {
  let error;
  try {
    const answer = await call();
    assert.fail(`expected a ${type} problem, got the answer ${JSON.stringify(answer)}`);
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    error = e;
  }
  if (error instanceof Error) assert.fail(`expected a ${type} problem, got ${error.stack}`);
  assert.equal(error?.type, type, `the problem's type, in ${error?.call} → ${JSON.stringify(error)}`);
  if (status !== undefined) assert.equal(error.status, status, `status of ${JSON.stringify(error)}`);
  assert.equal(typeof error.title, 'string', `title of ${JSON.stringify(error)}`);
  assert.equal(typeof error.detail, 'string', `detail of ${JSON.stringify(error)}`);
  return error;
}

/** Polls `probe` until it returns something other than undefined (15 s at most). */
async function eventually(what, probe) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Follows a short link as a browser would, without following the redirect. */
async function follow(path, userAgent = FIREFOX, headers = {}) {
  const response = await fetch(`${BASE}${path}`, {
    redirect: 'manual',
    headers: { 'user-agent': userAgent, ...headers },
  });
  await response.arrayBuffer();
  return response;
}

const codes = (list) => list.data.map((s) => s.shortCode);
const sorted = (values) => [...values].sort();

/** The whole list (itemsPerPage -1 is every item in Shlink) with `params`. */
async function listAll(params = {}) {
  const list = await client.listShortUrls({ itemsPerPage: -1, ...params });
  assert.equal(list.pagination.totalItems, list.data.length, `totals of ${JSON.stringify(params)}`);
  return list;
}

function checkPagination(pagination, expected, what) {
  for (const [name, value] of Object.entries(expected)) {
    assert.equal(pagination[name], value, `pagination.${name} of ${what}: ${JSON.stringify(pagination)}`);
  }
}

function checkShortUrl(shortUrl, expected) {
  assert.equal(shortUrl.shortUrl, `${BASE}/${shortUrl.shortCode}`, 'shortUrl');
  assert.match(shortUrl.dateCreated, ATOM, 'dateCreated is ATOM');
  assert.equal(shortUrl.domain, null, 'domain (kurz has one, the default)');
  for (const [name, value] of Object.entries(expected)) {
    assert.deepEqual(shortUrl[name], value, `${name} of ${shortUrl.shortCode}: ${JSON.stringify(shortUrl)}`);
  }
}

function checkVisit(visit, { shortUrl, longUrl, bot, userAgent }) {
  assert.match(visit.date, ATOM, `date of ${JSON.stringify(visit)}`);
  assert.equal(visit.potentialBot, bot, `potentialBot of ${JSON.stringify(visit)}`);
  assert.equal(visit.userAgent, userAgent, 'userAgent');
  assert.equal(typeof visit.referer, 'string', 'referer is a string');
  assert.equal(visit.visitLocation, null, 'no geolocation configured: visitLocation null');
  if (shortUrl !== undefined) assert.equal(visit.visitedUrl, shortUrl, 'visitedUrl');
  if (longUrl !== undefined) assert.equal(visit.redirectUrl, longUrl, 'redirectUrl');
}

// --- the links every section uses ---------------------------------------------------------

/** Visits each link gets from `follow` (people, bots). */
const PLAN = {
  'sdk-alpha': { people: 0, bots: 4 },
  'sdk-bravo': { people: 3, bots: 0 },
  'sdk-charlie': { people: 1, bots: 0 },
  'sdk-delta': { people: 2, bots: 0 },
  'sdk-echo': { people: 0, bots: 0 },
  'sdk-foxtrot': { people: 0, bots: 0 },
};
const links = {};
const PAST_UNTIL = '2021-01-01T00:00:00+00:00';
const FUTURE_SINCE = '2099-01-01T00:00:00+00:00';
let orphans = 0;

const sections = [];
const section = (name, run) => sections.push({ name, run });

section('health', async () => {
  const health = await client.health();
  assert.equal(health.status, 'pass');
  assert.match(health.version, /^\d+\.\d+\.\d+$/, `version ${health.version}`);
});

section('create', async () => {
  await problem(() => client.getShortUrl({ shortCode: 'sdk-alpha' }), ErrorType.INVALID_SHORTCODE, 404);
  links.alpha = await client.createShortUrl({
    longUrl: 'https://example.com/alpha',
    customSlug: 'sdk-alpha',
    title: 'Alpha',
    tags: ['mobile', 'launch'],
    crawlable: true,
    forwardQuery: true,
  });
  checkShortUrl(links.alpha, {
    shortCode: 'sdk-alpha',
    longUrl: 'https://example.com/alpha',
    title: 'Alpha',
    tags: ['launch', 'mobile'],
    crawlable: true,
    forwardQuery: true,
    meta: { validSince: null, validUntil: null, maxVisits: null },
    visitsSummary: { total: 0, nonBots: 0, bots: 0 },
    hasRedirectRules: false,
  });

  links.bravo = await client.createShortUrl({
    longUrl: 'https://example.net/bravo',
    customSlug: 'sdk-bravo',
    title: 'Bravo',
    tags: ['launch'],
  });
  checkShortUrl(links.bravo, { tags: ['launch'], crawlable: false });

  links.charlie = await client.createShortUrl({
    longUrl: 'https://example.org/charlie',
    customSlug: 'sdk-charlie',
    title: 'Charlie',
    tags: ['promo'],
    maxVisits: 1,
  });
  checkShortUrl(links.charlie, { meta: { validSince: null, validUntil: null, maxVisits: 1 } });

  links.delta = await client.createShortUrl({
    longUrl: 'https://example.com/delta-draft',
    customSlug: 'sdk-delta',
    title: 'Delta draft',
    tags: ['desktop'],
    maxVisits: 10,
    validUntil: '2098-06-01T12:00:00+02:00',
  });
  checkShortUrl(links.delta, {
    meta: { validSince: null, validUntil: '2098-06-01T10:00:00+00:00', maxVisits: 10 },
  });

  links.echo = await client.createShortUrl({
    longUrl: 'https://example.com/echo',
    customSlug: 'sdk-echo',
    title: 'Echo',
    tags: ['promo'],
    validSince: '2020-01-01T00:00:00+00:00',
    validUntil: PAST_UNTIL,
  });
  checkShortUrl(links.echo, {
    meta: { validSince: '2020-01-01T00:00:00+00:00', validUntil: PAST_UNTIL, maxVisits: null },
  });

  links.foxtrot = await client.createShortUrl({
    longUrl: 'https://example.com/foxtrot',
    customSlug: 'sdk-foxtrot',
    title: 'Foxtrot',
    validSince: FUTURE_SINCE,
  });
  checkShortUrl(links.foxtrot, { tags: [], meta: { validSince: FUTURE_SINCE, validUntil: null, maxVisits: null } });

  // findIfExists: the existing link of that long URL, whatever the title; a new one when a
  // given field differs (here the tags).
  const found = await client.createShortUrl({ longUrl: 'https://example.com/alpha', findIfExists: true, title: 'Other' });
  assert.equal(found.shortCode, 'sdk-alpha', `findIfExists: ${JSON.stringify(found)}`);
  assert.equal(found.title, 'Alpha', 'findIfExists answers the link as it is');
  const sameTags = await client.createShortUrl({
    longUrl: 'https://example.com/alpha', findIfExists: true, tags: ['launch', 'mobile'],
  });
  assert.equal(sameTags.shortCode, 'sdk-alpha', 'findIfExists with the same tags');
  const otherTags = await client.createShortUrl({
    longUrl: 'https://example.com/alpha', findIfExists: true, tags: ['launch'], shortCodeLength: 6,
  });
  assert.notEqual(otherTags.shortCode, 'sdk-alpha', 'findIfExists with other tags creates one');
  assert.match(otherTags.shortCode, /^[A-Za-z0-9_-]{6}$/, `shortCodeLength 6: ${otherTags.shortCode}`);
  assert.deepEqual(otherTags.tags, ['launch']);
  await client.deleteShortUrl({ shortCode: otherTags.shortCode });

  const generated = await client.createShortUrl({ longUrl: 'https://example.com/generated' });
  assert.ok(generated.shortCode.length >= 4, `a generated slug: ${generated.shortCode}`);
  await client.deleteShortUrl({ shortCode: generated.shortCode });
  await problem(() => client.getShortUrl({ shortCode: generated.shortCode }), ErrorType.INVALID_SHORTCODE, 404);
});

section('create: refused', async () => {
  const taken = await problem(
    () => client.createShortUrl({ longUrl: 'https://example.com/x', customSlug: 'sdk-alpha' }),
    ErrorType.INVALID_SLUG,
    400,
  );
  assert.equal(taken.customSlug, 'sdk-alpha');
  const badUrl = await problem(
    () => client.createShortUrl({ longUrl: 'javascript:alert(1)' }),
    ErrorType.INVALID_ARGUMENT,
    400,
  );
  assert.deepEqual(badUrl.invalidElements, ['longUrl']);
  const badCap = await problem(
    () => client.createShortUrl({ longUrl: 'https://example.com/x', maxVisits: -3 }),
    ErrorType.INVALID_ARGUMENT,
    400,
  );
  assert.deepEqual(badCap.invalidElements, ['maxVisits']);
  const badDate = await problem(
    () => client.createShortUrl({ longUrl: 'https://example.com/x', validSince: 'next tuesday' }),
    ErrorType.INVALID_ARGUMENT,
    400,
  );
  assert.deepEqual(badDate.invalidElements, ['validSince']);
  const badDomain = await problem(
    () => client.createShortUrl({ longUrl: 'https://example.com/x', domain: 'elsewhere.example' }),
    ErrorType.INVALID_ARGUMENT,
    400,
  );
  assert.deepEqual(badDomain.invalidElements, ['domain']);
});

section('get', async () => {
  const alpha = await client.getShortUrl({ shortCode: 'sdk-alpha' });
  assert.deepEqual(alpha, links.alpha, 'get answers what create did');
  const viaDefault = await client.getShortUrl({ shortCode: 'sdk-alpha', domain: 'DEFAULT' });
  assert.equal(viaDefault.shortCode, 'sdk-alpha', 'domain DEFAULT');
  const missing = await problem(() => client.getShortUrl({ shortCode: 'sdk-nothing' }), ErrorType.INVALID_SHORTCODE, 404);
  assert.equal(missing.shortCode, 'sdk-nothing');
});

section('edit', async () => {
  const edited = await client.updateShortUrl({ shortCode: 'sdk-delta' }, {
    longUrl: 'https://example.com/delta',
    title: 'Delta',
    maxVisits: null,
    validUntil: null,
    tags: ['desktop'],
    crawlable: true,
  });
  checkShortUrl(edited, {
    shortCode: 'sdk-delta',
    longUrl: 'https://example.com/delta',
    title: 'Delta',
    crawlable: true,
    tags: ['desktop'],
    meta: { validSince: null, validUntil: null, maxVisits: null },
  });
  links.delta = edited;
  assert.deepEqual(await client.getShortUrl({ shortCode: 'sdk-delta' }), edited, 'the edit is kept');
  const cleared = await client.updateShortUrl({ shortCode: 'sdk-delta' }, { title: null, crawlable: false });
  assert.equal(cleared.title, null, 'title: null clears it');
  links.delta = await client.updateShortUrl({ shortCode: 'sdk-delta' }, { title: 'Delta' });
  assert.equal(links.delta.longUrl, 'https://example.com/delta', 'members not sent are kept');
  const badEdit = await problem(
    () => client.updateShortUrl({ shortCode: 'sdk-delta' }, { longUrl: 'ftp://example.com/' }),
    ErrorType.INVALID_ARGUMENT,
    400,
  );
  assert.deepEqual(badEdit.invalidElements, ['longUrl']);
  await problem(
    () => client.updateShortUrl({ shortCode: 'sdk-nothing' }, { title: 'x' }),
    ErrorType.INVALID_SHORTCODE,
    404,
  );
});

section('authentication', async () => {
  const wrong = sdk('kurz_not-a-key');
  await problem(() => wrong.listTags(), ErrorType.INVALID_API_KEY, 401);
  // Health needs no key.
  const none = sdk('');
  assert.equal((await none.health()).status, 'pass');
  // An unknown route, through the SDK's own HTTP client.
  const unknown = await problem(
    () => http.jsonRequest(`${BASE}/rest/v3/no-such-route`, { headers: { 'X-Api-Key': KEY } }),
    ErrorType.NOT_FOUND,
    404,
  );
  assert.equal(unknown.title, 'Not found');
});

section('follow links (visits for the next sections)', async () => {
  for (const [slug, { people, bots }] of Object.entries(PLAN)) {
    for (let i = 0; i < people; i += 1) {
      const response = await follow(`/${slug}`, FIREFOX, { referer: 'https://news.example/' });
      assert.equal(response.status, 302, `following ${slug}`);
    }
    for (let i = 0; i < bots; i += 1) {
      const response = await follow(`/${slug}`, GOOGLEBOT);
      assert.equal(response.status, 302, `following ${slug} as a bot`);
    }
  }
  for (const slug of Object.keys(PLAN)) {
    const { people, bots } = PLAN[slug];
    const summary = await eventually(`the visits of ${slug}`, async () => {
      const { visitsSummary } = await client.getShortUrl({ shortCode: slug });
      return visitsSummary.total === people + bots ? visitsSummary : undefined;
    });
    assert.deepEqual(summary, { total: people + bots, nonBots: people, bots }, `visitsSummary of ${slug}`);
  }
  // Orphan visits: an unknown slug, an expired link, a link not valid yet (Shlink's
  // invalid_short_url), the base URL (base_url) and a path of two segments (regular_404).
  assert.equal((await follow('/sdk-nothing')).status, 404);
  assert.notEqual((await follow('/sdk-echo')).status, 302, 'an expired link does not redirect');
  assert.equal((await follow('/sdk-foxtrot')).status, 404, 'a link before its validSince');
  await follow('/');
  assert.equal((await follow('/some/where')).status, 404);
  orphans = 5;
});

section('list: pages', async () => {
  const all = await client.listShortUrls();
  checkPagination(all.pagination, { currentPage: 1, pagesCount: 1, itemsPerPage: 10, itemsInCurrentPage: 6, totalItems: 6 }, 'the default page');
  // Shlink's default order is dateCreated-DESC: newest first.
  assert.deepEqual(codes(all), ['sdk-foxtrot', 'sdk-echo', 'sdk-delta', 'sdk-charlie', 'sdk-bravo', 'sdk-alpha']);
  const seen = [];
  for (let page = 1; page <= 3; page += 1) {
    const list = await client.listShortUrls({ page: String(page), itemsPerPage: 2 });
    checkPagination(list.pagination, { currentPage: page, pagesCount: 3, itemsPerPage: 2, itemsInCurrentPage: 2, totalItems: 6 }, `page ${page}`);
    seen.push(...codes(list));
  }
  assert.deepEqual(seen, codes(all), 'pages 1..3 of 2 are the list');
  const every = await listAll();
  assert.equal(every.data.length, 6, 'itemsPerPage -1: every item');
  const alpha = every.data.find((s) => s.shortCode === 'sdk-alpha');
  assert.deepEqual(alpha.visitsSummary, { total: 4, nonBots: 0, bots: 4 }, 'a listed link\'s visitsSummary');
  assert.deepEqual(alpha.tags, ['launch', 'mobile']);
});

section('list: tags, search, dates, excludes', async () => {
  const cases = [
    [{ tags: ['launch'] }, ['sdk-alpha', 'sdk-bravo']],
    [{ tags: ['launch', 'mobile'], tagsMode: 'any' }, ['sdk-alpha', 'sdk-bravo']],
    [{ tags: ['launch', 'mobile'], tagsMode: 'all' }, ['sdk-alpha']],
    [{ tags: ['promo', 'desktop'] }, ['sdk-charlie', 'sdk-delta', 'sdk-echo']],
    [{ excludeTags: ['promo'] }, ['sdk-alpha', 'sdk-bravo', 'sdk-delta', 'sdk-foxtrot']],
    [{ excludeTags: ['launch', 'desktop'], excludeTagsMode: 'any' }, ['sdk-charlie', 'sdk-echo', 'sdk-foxtrot']],
    [{ excludeTags: ['launch', 'mobile'], excludeTagsMode: 'all' }, ['sdk-bravo', 'sdk-charlie', 'sdk-delta', 'sdk-echo', 'sdk-foxtrot']],
    [{ tags: ['launch'], excludeTags: ['mobile'] }, ['sdk-bravo']],
    [{ searchTerm: 'bravo' }, ['sdk-bravo']],
    [{ searchTerm: 'example.org' }, ['sdk-charlie']],
    [{ searchTerm: 'Foxtrot' }, ['sdk-foxtrot']],
    [{ searchTerm: 'deskt' }, ['sdk-delta']],
    [{ searchTerm: 'sdk-', tags: ['promo'] }, ['sdk-charlie', 'sdk-echo']],
    [{ startDate: atom(Date.now() - HOUR) }, Object.keys(PLAN)],
    [{ startDate: atom(Date.now() + HOUR) }, []],
    [{ endDate: atom(Date.now() - HOUR) }, []],
    [{ startDate: atom(Date.now() - HOUR), endDate: atom(Date.now() + HOUR) }, Object.keys(PLAN)],
    [{ excludeMaxVisitsReached: true }, ['sdk-alpha', 'sdk-bravo', 'sdk-delta', 'sdk-echo', 'sdk-foxtrot']],
    // Only validUntil counts: a link not valid yet (foxtrot) stays.
    [{ excludePastValidUntil: true }, ['sdk-alpha', 'sdk-bravo', 'sdk-charlie', 'sdk-delta', 'sdk-foxtrot']],
    [{ excludeMaxVisitsReached: true, excludePastValidUntil: true }, ['sdk-alpha', 'sdk-bravo', 'sdk-delta', 'sdk-foxtrot']],
    [{ domain: 'DEFAULT' }, Object.keys(PLAN)],
  ];
  for (const [params, expected] of cases) {
    const list = await listAll(params);
    assert.deepEqual(sorted(codes(list)), sorted(expected), `list with ${JSON.stringify(params)}`);
  }
  const paged = await client.listShortUrls({ tags: ['launch', 'promo'], itemsPerPage: 2, page: '2' });
  checkPagination(paged.pagination, { currentPage: 2, pagesCount: 2, itemsInCurrentPage: 2, totalItems: 4 }, 'a filtered page 2');
});

section('list: orderBy', async () => {
  const keyOf = {
    dateCreated: (s) => Object.keys(PLAN).indexOf(s.shortCode),
    shortCode: (s) => s.shortCode,
    longUrl: (s) => s.longUrl,
    title: (s) => s.title,
    visits: (s) => s.visitsSummary.total,
    nonBotVisits: (s) => s.visitsSummary.nonBots,
  };
  const all = (await listAll()).data;
  for (const [field, key] of Object.entries(keyOf)) {
    for (const dir of ['ASC', 'DESC']) {
      const list = await listAll({ orderBy: { field, dir } });
      const expected = all.map(key).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      if (dir === 'DESC') expected.reverse();
      assert.deepEqual(list.data.map(key), expected, `orderBy ${field}-${dir}: ${codes(list)}`);
    }
  }
  // The counts differ per link, so these orders are exact.
  const byVisits = await listAll({ orderBy: { field: 'visits', dir: 'DESC' }, excludeTags: ['promo'] });
  assert.deepEqual(codes(byVisits).slice(0, 3), ['sdk-alpha', 'sdk-bravo', 'sdk-delta']);
  const byPeople = await listAll({ orderBy: { field: 'nonBotVisits', dir: 'DESC' }, excludeTags: ['promo'] });
  assert.deepEqual(codes(byPeople).slice(0, 2), ['sdk-bravo', 'sdk-delta']);
});

section('visits: lists', async () => {
  const alpha = await client.getShortUrlVisits({ shortCode: 'sdk-alpha' });
  checkPagination(alpha.pagination, { currentPage: 1, pagesCount: 1, totalItems: 4 }, 'alpha\'s visits');
  for (const visit of alpha.data) {
    checkVisit(visit, { shortUrl: links.alpha.shortUrl, longUrl: links.alpha.longUrl, bot: true, userAgent: GOOGLEBOT });
  }
  const people = await client.getShortUrlVisits({ shortCode: 'sdk-alpha' }, { excludeBots: true });
  assert.equal(people.data.length, 0, 'excludeBots');
  assert.equal(people.pagination.totalItems, 0);

  const bravo = await client.getShortUrlVisits({ shortCode: 'sdk-bravo' });
  assert.equal(bravo.data.length, 3);
  for (const visit of bravo.data) {
    checkVisit(visit, { shortUrl: links.bravo.shortUrl, longUrl: links.bravo.longUrl, bot: false, userAgent: FIREFOX });
    assert.equal(visit.referer, 'https://news.example/');
  }
  const dates = bravo.data.map((v) => v.date);
  assert.deepEqual(dates, [...dates].sort().reverse(), 'newest first');
  const page2 = await client.getShortUrlVisits({ shortCode: 'sdk-bravo' }, { page: 2, itemsPerPage: 2 });
  checkPagination(page2.pagination, { currentPage: 2, pagesCount: 2, itemsPerPage: 2, itemsInCurrentPage: 1, totalItems: 3 }, 'bravo\'s visits, page 2');
  for (const [params, count] of [
    [{ startDate: atom(Date.now() + HOUR) }, 0],
    [{ endDate: atom(Date.now() - HOUR) }, 0],
    [{ startDate: atom(Date.now() - HOUR), endDate: atom(Date.now() + HOUR) }, 3],
  ]) {
    const list = await client.getShortUrlVisits({ shortCode: 'sdk-bravo' }, params);
    assert.equal(list.data.length, count, `bravo's visits with ${JSON.stringify(params)}`);
  }
  await problem(() => client.getShortUrlVisits({ shortCode: 'sdk-nothing' }), ErrorType.INVALID_SHORTCODE, 404);

  const launch = await client.getTagVisits('launch');
  assert.equal(launch.pagination.totalItems, 7, 'the visits of tag launch (alpha 4, bravo 3)');
  assert.equal(launch.data.length, 7);
  assert.equal((await client.getTagVisits('launch', { excludeBots: true })).data.length, 3);
  await problem(() => client.getTagVisits('no-such-tag'), ErrorType.TAG_NOT_FOUND, 404);

  const nonOrphan = await client.getNonOrphanVisits();
  assert.equal(nonOrphan.pagination.totalItems, 10, 'non-orphan visits');
  assert.equal(nonOrphan.data.length, 10);
  assert.equal((await client.getNonOrphanVisits({ excludeBots: true })).data.length, 6);

  const orphan = await eventually('the orphan visits', async () => {
    const list = await client.getOrphanVisits();
    return list.data.length >= orphans ? list : undefined;
  });
  assert.equal(orphan.pagination.totalItems, orphans, `orphan visits: ${JSON.stringify(orphan.data)}`);
  const types = sorted(orphan.data.map((v) => v.type));
  assert.deepEqual(types, ['base_url', 'invalid_short_url', 'invalid_short_url', 'invalid_short_url', 'regular_404']);
  for (const visit of orphan.data) {
    checkVisit(visit, { bot: false, userAgent: FIREFOX });
    assert.ok(visit.visitedUrl.startsWith(BASE), `visitedUrl ${visit.visitedUrl}`);
  }
  assert.equal((await client.getOrphanVisits({ type: 'invalid_short_url' })).data.length, 3);
  assert.equal((await client.getOrphanVisits({ type: 'base_url' })).data.length, 1);
  assert.equal((await client.getOrphanVisits({ type: 'regular_404' })).data.length, 1);
});

section('visits: of the domain', async () => {
  const ofDomain = await client.getDomainVisits('DEFAULT');
  assert.equal(ofDomain.pagination.totalItems, 10, 'the default domain\'s visits');
  await problem(() => client.getDomainVisits('elsewhere.example'), ErrorType.DOMAIN_NOT_FOUND, 404);
  assert.equal((await client.getDomainVisits('DEFAULT', { excludeBots: true })).data.length, 6);
});

section('visits: overview and deletions', async () => {
  await eventually('the orphan visits in the overview', async () => {
    const { orphanVisits } = await client.getVisitsOverview();
    return orphanVisits.total >= orphans ? true : undefined;
  });
  const overview = await client.getVisitsOverview();
  assert.deepEqual(overview.nonOrphanVisits, { total: 10, nonBots: 6, bots: 4 }, 'overview: non-orphan');
  assert.deepEqual(overview.orphanVisits, { total: orphans, nonBots: orphans, bots: 0 }, 'overview: orphan');

  const deleted = await client.deleteShortUrlVisits({ shortCode: 'sdk-delta' });
  assert.deepEqual(deleted, { deletedVisits: 2 });
  assert.deepEqual((await client.getShortUrl({ shortCode: 'sdk-delta' })).visitsSummary, { total: 0, nonBots: 0, bots: 0 });
  assert.equal((await client.getShortUrlVisits({ shortCode: 'sdk-delta' })).data.length, 0);
  const deletedOrphans = await client.deleteOrphanVisits();
  assert.deepEqual(deletedOrphans, { deletedVisits: orphans });
  const after = await client.getVisitsOverview();
  assert.deepEqual(after.nonOrphanVisits, { total: 8, nonBots: 4, bots: 4 }, 'overview after the deletions');
  assert.deepEqual(after.orphanVisits, { total: 0, nonBots: 0, bots: 0 });
});

section('tags', async () => {
  const tags = await client.listTags();
  assert.deepEqual(tags.data, ['desktop', 'launch', 'mobile', 'promo']);
  const stats = await client.tagsStats();
  const byName = Object.fromEntries(stats.data.map((s) => [s.tag, s]));
  assert.deepEqual(Object.keys(byName).sort(), ['desktop', 'launch', 'mobile', 'promo']);
  assert.equal(byName.launch.shortUrlsCount, 2);
  assert.deepEqual(byName.launch.visitsSummary, { total: 7, nonBots: 3, bots: 4 });
  assert.equal(byName.promo.shortUrlsCount, 2);
  assert.deepEqual(byName.promo.visitsSummary, { total: 1, nonBots: 1, bots: 0 });
  assert.deepEqual(byName.mobile.visitsSummary, { total: 4, nonBots: 0, bots: 4 });

  assert.deepEqual(await client.editTag({ oldName: 'mobile', newName: 'handheld' }), { oldName: 'mobile', newName: 'handheld' });
  assert.deepEqual((await client.getShortUrl({ shortCode: 'sdk-alpha' })).tags, ['handheld', 'launch']);
  const missing = await problem(() => client.editTag({ oldName: 'mobile', newName: 'x' }), ErrorType.TAG_NOT_FOUND, 404);
  assert.equal(missing.tag, 'mobile');
  const conflict = await problem(() => client.editTag({ oldName: 'handheld', newName: 'launch' }), ErrorType.TAG_CONFLICT, 409);
  assert.equal(conflict.oldName, 'handheld');
  assert.equal(conflict.newName, 'launch');
  if (VIEWER_KEY) {
    const viewer = sdk(VIEWER_KEY);
    assert.deepEqual((await viewer.listTags()).data, ['desktop', 'handheld', 'launch', 'promo'], 'a viewer reads');
    await problem(() => viewer.editTag({ oldName: 'handheld', newName: 'phone' }), ErrorType.FORBIDDEN_OPERATION, 403);
    await problem(() => viewer.deleteTags(['handheld']), ErrorType.FORBIDDEN_OPERATION, 403);
  }
  assert.deepEqual(await client.deleteTags(['handheld', 'never-was']), { tags: ['handheld', 'never-was'] });
  assert.deepEqual((await client.listTags()).data, ['desktop', 'launch', 'promo']);
  assert.deepEqual((await client.getShortUrl({ shortCode: 'sdk-alpha' })).tags, ['launch']);
});

section('redirect rules', async () => {
  const initial = await client.getShortUrlRedirectRules({ shortCode: 'sdk-bravo' });
  assert.deepEqual(initial, { defaultLongUrl: 'https://example.net/bravo', redirectRules: [] });
  const rule = (longUrl, ...conditions) => ({ longUrl, conditions });
  const condition = (type, matchValue, matchKey = null) => ({ type, matchKey, matchValue });
  const rules = [
    rule('https://example.com/ios', condition('device', 'ios'), condition('language', 'en')),
    rule('https://example.com/desktop', condition('device', 'desktop')),
    rule('https://example.com/promo', condition('query-param', 'spring', 'promo')),
    rule('https://example.com/campaign', condition('any-value-query-param', null, 'campaign')),
    rule('https://example.com/office', condition('ip-address', '192.168.0.0/16')),
    rule('https://example.com/de', condition('geolocation-country-code', 'DE')),
    rule('https://example.com/early', condition('before-date', '2000-01-01T00:00:00+00:00')),
    rule('https://example.com/late', condition('after-date', '2020-01-01T00:00:00+00:00')),
  ];
  const expected = {
    defaultLongUrl: 'https://example.net/bravo',
    redirectRules: rules.map((r, i) => ({ ...r, priority: i + 1 })),
  };
  assert.deepEqual(await client.setShortUrlRedirectRules({ shortCode: 'sdk-bravo' }, { redirectRules: rules }), expected);
  assert.deepEqual(await client.getShortUrlRedirectRules({ shortCode: 'sdk-bravo' }), expected, 'rules read back');
  assert.equal((await client.getShortUrl({ shortCode: 'sdk-bravo' })).hasRedirectRules, true);

  // kurz follows them, for an Android phone (no device rule of the list matches it): a query
  // parameter, then the after-date rule for anyone else. (Without the query string: whether it
  // is forwarded is the link's forwardQuery.)
  const target = async (path) => (await follow(path, ANDROID)).headers.get('location')?.split('?')[0];
  assert.equal(await target('/sdk-bravo?promo=spring'), 'https://example.com/promo');
  assert.equal(await target('/sdk-bravo?campaign=summer'), 'https://example.com/campaign');
  assert.equal(await target('/sdk-bravo'), 'https://example.com/late');

  for (const refused of [
    condition('device', 'chromeos'),
    condition('valueless-query-param', null, 'promo'),
    condition('geolocation-city-name', 'Berlin'),
    condition('browser', 'firefox'),
    condition('ip-address', '192.*.1.*'),
    condition('device', 'toaster'),
  ]) {
    const answer = await problem(
      () => client.setShortUrlRedirectRules({ shortCode: 'sdk-bravo' }, { redirectRules: [rule('https://example.com/x', refused)] }),
      ErrorType.INVALID_ARGUMENT,
      400,
    );
    assert.deepEqual(answer.invalidElements, ['redirectRules'], `refusing ${JSON.stringify(refused)}`);
  }
  assert.deepEqual(await client.getShortUrlRedirectRules({ shortCode: 'sdk-bravo' }), expected, 'refusals change nothing');
  const wildcard = await client.setShortUrlRedirectRules({ shortCode: 'sdk-bravo' }, {
    redirectRules: [rule('https://example.com/lan', condition('ip-address', '10.1.*.*'))],
  });
  assert.ok(['10.1.*.*', '10.1.0.0/16'].includes(wildcard.redirectRules[0].conditions[0].matchValue),
    `a wildcard of whole octets: ${JSON.stringify(wildcard)}`);
  const none = await client.setShortUrlRedirectRules({ shortCode: 'sdk-bravo' }, { redirectRules: [] });
  assert.deepEqual(none.redirectRules, []);
  assert.equal((await client.getShortUrl({ shortCode: 'sdk-bravo' })).hasRedirectRules, false);
  await problem(() => client.getShortUrlRedirectRules({ shortCode: 'sdk-nothing' }), ErrorType.INVALID_SHORTCODE, 404);
});

section('domains', async () => {
  const domains = await client.listDomains();
  assert.equal(domains.data.length, 1, `one domain: ${JSON.stringify(domains)}`);
  const [domain] = domains.data;
  assert.equal(domain.isDefault, true);
  assert.equal(domain.domain, new URL(BASE).host, 'the domain is the authority of kurz\'s base URL');
  for (const redirects of [domain.redirects, domains.defaultRedirects]) {
    assert.deepEqual(Object.keys(redirects).sort(), ['baseUrlRedirect', 'invalidShortUrlRedirect', 'regular404Redirect']);
  }
  const refused = await problem(
    () => client.editDomainRedirects({ domain: domain.domain, baseUrlRedirect: 'https://example.com/' }),
    ErrorType.INVALID_ARGUMENT,
    400,
  );
  assert.deepEqual(refused.invalidElements, ['domain']);
});

section('mercure-info', async () => {
  await problem(() => client.mercureInfo(), ErrorType.MERCURE_NOT_CONFIGURED, 501);
});

section('delete', async () => {
  await client.deleteShortUrl({ shortCode: 'sdk-foxtrot' });
  await problem(() => client.getShortUrl({ shortCode: 'sdk-foxtrot' }), ErrorType.INVALID_SHORTCODE, 404);
  await problem(() => client.deleteShortUrl({ shortCode: 'sdk-foxtrot' }), ErrorType.INVALID_SHORTCODE, 404);
  // A link with visits goes too (kurz has no visit threshold: never invalid-short-url-deletion).
  await client.deleteShortUrl({ shortCode: 'sdk-alpha' }, {});
  assert.equal((await client.listShortUrls()).pagination.totalItems, 4);
  assert.deepEqual((await client.tagsStats()).data.find((s) => s.tag === 'launch')?.shortUrlsCount, 1);
});

// Last, so that a difference here leaves every other section's result known.
section('Shlink\'s defaults', async () => {
  // The SDK drops `false` members, so Shlink's clients rely on Shlink's defaults: not
  // crawlable, and the query forwarded (Shlink's ShortUrlCreation: forwardQuery = true).
  const plain = await client.createShortUrl({ longUrl: 'https://example.com/defaults', customSlug: 'sdk-defaults' });
  await client.deleteShortUrl({ shortCode: 'sdk-defaults' });
  assert.equal(plain.crawlable, false, 'crawlable by default');
  assert.equal(plain.forwardQuery, true, 'forwardQuery by default (Shlink: true)');
  // An empty X-Api-Key is no key at all for Shlink (AuthenticationMiddleware: empty($apiKey)).
  const none = sdk('');
  const missing = await problem(() => none.getShortUrl({ shortCode: 'sdk-bravo' }), ErrorType.INVALID_AUTHORIZATION, 401);
  assert.deepEqual(missing.expectedHeaders, ['X-Api-Key']);
});

// --- run ----------------------------------------------------------------------------------

const failed = [];
for (const { name, run } of sections) {
  try {
    await run();
    console.log(`ok   ${name}`);
  } catch (error) {
    const message = error instanceof assert.AssertionError
      ? error.message
      : `unexpected error: ${error?.stack ?? `${error?.call} → ${JSON.stringify(error)}`}`;
    console.log(`FAIL ${name}: ${message}`);
    failed.push(name);
    if (!KEEP_GOING || name === 'create') break;
  }
}
if (failed.length) {
  console.log(`the Shlink SDK checks failed: ${failed.join(', ')}`);
  process.exit(1);
}
console.log('all Shlink SDK checks passed');
