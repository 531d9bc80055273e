//! `kurz import --from shlink --url URL --api-key KEY`: a Shlink server read through its REST
//! API v3, as its own clients read it.
//!
//! Links come from the short URL list, oldest first, 500 a page; each with redirect rules gets
//! them from `GET /short-urls/{code}/redirect-rules` (Shlink 4) or from its `deviceLongUrls`
//! (Shlink 3.5 to 3.7). Visits come from each link's visit list, and orphan visits from
//! `GET /visits/orphan`, 5 000 a page, enriched as live clicks are (browser, OS and device from
//! the user agent) with Shlink's location and bot flag kept; Shlink does not show addresses.
//!
//! Shlink lists visits newest first and has no order parameter, so history is read over a
//! fixed window: up to a few seconds before the import began, by the server's own clock (its
//! `Date` header). In that window the pages do not move, so a link's pages are read last to
//! first and each reversed: oldest first, as the marks need. A link's mark is `time#n`: every
//! visit before `time`, and the first `n` of those at `time` (Shlink's times are whole
//! seconds), are imported; once the window is read it is the window's end with `#0`. A re-run
//! asks from the mark on, so nothing is imported twice and a broken run resumes.
//!
//! At most four requests are in flight; a 5xx answer, a 429 or a failed connection is tried
//! again with a growing delay. Links of Shlink's other domains are left out (kurz has one).

use std::collections::{BTreeMap, HashMap, HashSet};

use async_trait::async_trait;
use chrono::{DateTime, SubsecRound, Utc};
use futures_util::{stream, StreamExt};

use answers::{time, Listing, RuleList, ShortUrl, ShortUrlList, Visit, VisitList, VisitLocation};
use client::{Client, Failure};
use cursor::Cursor;

use super::import_from::{mark, Listed, Source, SourceLink, SourceLinks, Target, Targets};
use super::import_visits::History;
use crate::app::LinkInput;
use crate::config::Settings;
use crate::domain::{OrphanKind, RuleSpec};
use crate::http::compat::shlink::rules::{rules_to_kurz, ShlinkCondition, ShlinkRuleInput};
use crate::store::{ImportMark, NewOrphanVisit, NewVisit};
use crate::visits::{imported_orphan, imported_visit, Enricher};

mod answers;
mod client;
mod cursor;

/// Links per page of the list.
const LINK_PAGE: u32 = 500;
/// Visits per page (the most Shlink's own web client asks for).
const VISIT_PAGE: u32 = 5_000;
/// Requests in flight at once.
const IN_FLIGHT: usize = 4;
/// Visits written per transaction at most, and marks moved with them.
const WRITE_BATCH: usize = 5_000;
const MARK_BATCH: usize = 1_000;
/// How long before the import began the history window ends: clicks still being written by
/// then (a kurz source writes in batches) come with the next run.
const SETTLE: chrono::Duration = chrono::Duration::seconds(5);

pub(super) struct Shlink {
    client: Client,
    name: String,
    enricher: Enricher,
    /// The history window's end: visits before it are read.
    end: Option<DateTime<Utc>>,
    /// Each listed link's short code and visit total, by key.
    listed: HashMap<String, (String, u64)>,
}

/// A link's history to read.
struct Work {
    key: String,
    code: String,
    target: Target,
    cursor: Cursor,
}

/// Visits and marks gathered for the next write.
#[derive(Default)]
struct Pending {
    rows: Vec<NewVisit>,
    marks: BTreeMap<String, ImportMark>,
}

impl Pending {
    /// Writes what is gathered once a batch is full, or (`all`) whatever there is.
    async fn flush(&mut self, history: &mut History, all: bool) -> anyhow::Result<()> {
        let full = self.rows.len() >= WRITE_BATCH || self.marks.len() >= MARK_BATCH;
        let some = !self.rows.is_empty() || !self.marks.is_empty();
        if full || (all && some) {
            let rows = std::mem::take(&mut self.rows);
            let marks = std::mem::take(&mut self.marks).into_values().collect();
            history.visits(rows, marks).await?;
        }
        Ok(())
    }
}

impl Shlink {
    pub async fn connect(url: &str, key: &str, settings: &Settings) -> anyhow::Result<Self> {
        let client = Client::new(url, key)?;
        let name = format!("shlink:{}", client.server());
        Ok(Self {
            client,
            name,
            enricher: Enricher::new(&settings.enrichment),
            end: None,
            listed: HashMap::new(),
        })
    }

    /// A page of the short URL list, oldest first; the server's time.
    async fn link_page(
        &self,
        page: u64,
    ) -> anyhow::Result<(Listing<ShortUrl>, Option<DateTime<Utc>>)> {
        let query = [
            ("page", page.to_string()),
            ("itemsPerPage", LINK_PAGE.to_string()),
            ("orderBy", "dateCreated-ASC".to_owned()),
        ];
        match self
            .client
            .get::<ShortUrlList>(&["short-urls"], &query)
            .await
        {
            Ok((list, date)) => Ok((list.short_urls, date)),
            Err(Failure::NotFound) => Err(anyhow::anyhow!(
                "{}: no Shlink REST API v3 there (`GET /rest/v3/short-urls` answered 404)",
                self.client.server()
            )),
            Err(failure) => Err(anyhow::anyhow!(
                "cannot list Shlink's short URLs: {failure}"
            )),
        }
    }

    /// A link's redirect rules, by priority; `None` when the server has no rules (before
    /// Shlink 4) or the link is gone.
    async fn rules(&self, code: &str) -> anyhow::Result<Option<Vec<ShlinkRuleInput>>> {
        match self
            .client
            .get::<RuleList>(&["short-urls", code, "redirect-rules"], &[])
            .await
        {
            Ok((mut list, _)) => {
                list.redirect_rules.sort_by_key(|rule| rule.priority);
                Ok(Some(
                    list.redirect_rules.into_iter().map(|r| r.rule).collect(),
                ))
            }
            Err(Failure::NotFound) => Ok(None),
            Err(failure) => Err(anyhow::anyhow!(
                "{code}: cannot read its redirect rules: {failure}"
            )),
        }
    }

    /// One page of a visit list (`segments`) in the cursor's window; `None` when it is gone.
    async fn visit_page(
        &self,
        segments: &[&str],
        cursor: &Cursor,
        page: u64,
    ) -> anyhow::Result<Option<Listing<Visit>>> {
        self.try_visit_page(segments, cursor, page)
            .await
            .map_err(|failure| {
                anyhow::anyhow!("{}: cannot read visits: {failure}", segments.join("/"))
            })
    }

    /// [`Self::visit_page`], failures as they are.
    async fn try_visit_page(
        &self,
        segments: &[&str],
        cursor: &Cursor,
        page: u64,
    ) -> Result<Option<Listing<Visit>>, Failure> {
        let mut query = cursor.window();
        query.push(("page", page.to_string()));
        query.push(("itemsPerPage", VISIT_PAGE.to_string()));
        match self.client.get::<VisitList>(segments, &query).await {
            Ok((list, _)) => Ok(Some(list.visits)),
            Err(Failure::NotFound) => Ok(None),
            Err(failure) => Err(failure),
        }
    }

    /// A visit as kurz's: enriched from its user agent, with Shlink's place and bot flag.
    fn visit(&self, url_id: i64, at: DateTime<Utc>, visit: Visit) -> NewVisit {
        let referrer = visit.referer.filter(|r| !r.trim().is_empty());
        let row = imported_visit(url_id, at, None, visit.user_agent, referrer);
        let mut row = self.enricher.enrich_imported(row);
        row.location = visit
            .visit_location
            .map(VisitLocation::into_location)
            .unwrap_or_default();
        row.is_bot = visit.potential_bot;
        row
    }

    /// Adds a page's visits (newest first, as listed) to `pending`, oldest first.
    fn take_page(&self, work: &mut Work, visits: Vec<Visit>, pending: &mut Pending) -> u64 {
        let mut unreadable = 0;
        for visit in visits.into_iter().rev() {
            let Some(at) = time(&visit.date) else {
                unreadable += 1;
                continue;
            };
            if work.cursor.admit(at) {
                pending.rows.push(self.visit(work.target.url_id, at, visit));
            }
        }
        if let Some(through) = work.cursor.partial() {
            pending
                .marks
                .insert(work.key.clone(), mark(&work.key, &work.target, through));
        }
        unreadable
    }

    /// The pages of a visit list's window, last to first, `IN_FLIGHT` asked for at once.
    fn last_page_first<'a>(
        &'a self,
        segments: &'a [&'a str],
        window: &'a Cursor,
        pages: u64,
    ) -> impl futures_util::Stream<Item = anyhow::Result<Option<Listing<Visit>>>> + 'a {
        stream::iter((1..=pages).rev())
            .map(move |page| self.visit_page(segments, window, page))
            .buffered(IN_FLIGHT)
    }

    /// Reads one link's window: every page, last to first.
    async fn read_link(
        &self,
        work: &mut Work,
        pages: u64,
        pending: &mut Pending,
        history: &mut History,
    ) -> anyhow::Result<()> {
        let code = work.code.clone();
        let segments = ["short-urls", code.as_str(), "visits"];
        let window = work.cursor.clone();
        let mut listed = self.last_page_first(&segments, &window, pages);
        while let Some(page) = listed.next().await {
            let Some(page) = page? else {
                break;
            };
            let unreadable = self.take_page(work, page.data, pending);
            report_unreadable(history, &work.key, unreadable);
            pending.flush(history, false).await?;
        }
        Ok(())
    }

    /// Shlink's orphan visits after the source's orphan mark.
    async fn orphans(&self, end: DateTime<Utc>, history: &mut History) -> anyhow::Result<()> {
        let mark = history.orphan_mark().await?;
        let mut cursor = Cursor::new(mark.as_deref(), end);
        if cursor.closed() {
            return Ok(());
        }
        let segments = ["visits", "orphan"];
        let first = match self.try_visit_page(&segments, &cursor, 1).await {
            Ok(Some(first)) => first,
            // Before Shlink 2.6 there are none to read.
            Ok(None) => return Ok(()),
            // A key of "authored short URLs" reads its links, not the orphan visits.
            Err(Failure::Forbidden(why)) => {
                history.report(&format!("orphan visits not imported: {why}"));
                return Ok(());
            }
            Err(failure) => return Err(anyhow::anyhow!("cannot read orphan visits: {failure}")),
        };
        let pages = first.pagination.pages_count.max(1);
        let window = cursor.clone();
        let mut listed = self.last_page_first(&segments, &window, pages);
        while let Some(page) = listed.next().await {
            let Some(page) = page? else {
                break;
            };
            let mut rows: Vec<NewOrphanVisit> = Vec::new();
            for visit in page.data.into_iter().rev() {
                let Some(at) = time(&visit.date) else {
                    continue;
                };
                if !cursor.admit(at) {
                    continue;
                }
                let kind = match visit.kind.as_deref() {
                    Some("base_url") => OrphanKind::BaseUrl,
                    Some("regular_404") => OrphanKind::Regular404,
                    _ => OrphanKind::InvalidSlug,
                };
                let path = visit
                    .visited_url
                    .as_deref()
                    .and_then(|u| url::Url::parse(u).ok())
                    .map_or_else(|| "/".to_owned(), |u| u.path().to_owned());
                rows.push(imported_orphan(kind, path, self.visit(0, at, visit)));
            }
            if let Some(through) = cursor.partial() {
                history.orphans(rows, through).await?;
            }
        }
        history.orphans(Vec::new(), cursor.done()).await
    }

    /// A listed short URL as a link, or why it is left out.
    async fn link(&self, short_url: ShortUrl) -> anyhow::Result<Result<(SourceLink, u64), Listed>> {
        let key = short_url.short_code.clone();
        let out = |reason: String| {
            Ok(Err(Listed {
                key: key.clone(),
                reason,
            }))
        };
        if let Some(domain) = short_url
            .domain
            .as_deref()
            .filter(|d| !d.is_empty() && *d != "DEFAULT")
        {
            return out(format!(
                "on Shlink's domain `{domain}` (kurz has one domain)"
            ));
        }
        let mut bounds = [None, None];
        for (slot, (name, value)) in bounds.iter_mut().zip([
            ("validSince", &short_url.meta.valid_since),
            ("validUntil", &short_url.meta.valid_until),
        ]) {
            if let Some(value) = value.as_deref() {
                match time(value) {
                    Some(at) => *slot = Some(at),
                    None => return out(format!("its {name} `{value}` is not a time")),
                }
            }
        }
        // Redirect rules: Shlink 4's, or Shlink 3's long URL per device.
        let mut shlink_rules: Vec<ShlinkRuleInput> = Vec::new();
        if let Some(devices) = &short_url.device_long_urls {
            for (device, url) in devices {
                if let Some(url) = url.as_deref().filter(|u| !u.is_empty()) {
                    shlink_rules.push(ShlinkRuleInput {
                        long_url: Some(url.to_owned()),
                        conditions: Some(vec![ShlinkCondition {
                            kind: "device".into(),
                            match_key: None,
                            match_value: Some(device.clone()),
                        }]),
                    });
                }
            }
        }
        if short_url.has_redirect_rules != Some(false) {
            if let Some(rules) = self.rules(&short_url.short_code).await? {
                shlink_rules.extend(rules);
            }
        }
        let (rules, rules_dropped) = kurz_rules(&key, &shlink_rules);
        let visits = short_url
            .visits_summary
            .map(|s| s.total)
            .or(short_url.visits_count)
            .unwrap_or(u64::MAX);
        let link = SourceLink {
            key: key.clone(),
            input: LinkInput {
                url: short_url.long_url,
                slug: Some(short_url.short_code),
                title: short_url.title.filter(|t| !t.trim().is_empty()),
                crawlable: short_url.crawlable,
                created_at: short_url.date_created.as_deref().and_then(time),
                valid_since: bounds[0],
                valid_until: bounds[1],
                max_visits: short_url.meta.max_visits,
                rules,
                forward_query: short_url.forward_query,
                tags: short_url.tags,
                ..LinkInput::default()
            },
            password_dropped: false,
            rules_dropped,
        };
        Ok(Ok((link, visits)))
    }
}

/// Shlink's rules as kurz's; each that cannot be is left out (a rule holds only when all its
/// conditions do, so none is dropped alone) and reported.
fn kurz_rules(key: &str, rules: &[ShlinkRuleInput]) -> (Vec<RuleSpec>, u64) {
    let mut kept = Vec::new();
    let mut dropped = 0;
    for (i, rule) in rules.iter().enumerate() {
        match rules_to_kurz(std::slice::from_ref(rule)) {
            Ok(mut spec) => kept.append(&mut spec),
            Err(why) => {
                dropped += 1;
                let why = why.trim_start_matches("redirectRules[0]");
                eprintln!(
                    "{key}: redirect rule {} left out: {}",
                    i + 1,
                    why.trim_start_matches(['.', ':', ' '])
                );
            }
        }
    }
    (kept, dropped)
}

fn report_unreadable(history: &History, key: &str, unreadable: u64) {
    if unreadable > 0 {
        history.report(&format!(
            "{key}: {unreadable} visits without a readable date left out"
        ));
    }
}

#[async_trait]
impl Source for Shlink {
    fn name(&self) -> &str {
        &self.name
    }

    async fn links(&mut self) -> anyhow::Result<SourceLinks> {
        let mut listed = SourceLinks::default();
        let mut seen: HashSet<String> = HashSet::new();
        let mut short_urls = Vec::new();
        let mut page = 1;
        loop {
            let (list, date) = self.link_page(page).await?;
            if self.end.is_none() {
                let now = date.unwrap_or_else(Utc::now).trunc_subsecs(0);
                self.end = Some(now - SETTLE);
            }
            for short_url in list.data {
                // Links created while the list is read can move one onto the next page.
                let id = format!(
                    "{}@{}",
                    short_url.short_code,
                    short_url.domain.as_deref().unwrap_or("")
                );
                if seen.insert(id) {
                    short_urls.push(short_url);
                }
            }
            if list.pagination.current_page >= list.pagination.pages_count {
                break;
            }
            page += 1;
        }
        let mut links = stream::iter(short_urls)
            .map(|short_url| self.link(short_url))
            .buffered(IN_FLIGHT);
        let mut found = Vec::new();
        while let Some(link) = links.next().await {
            found.push(link?);
        }
        drop(links);
        for link in found {
            match link {
                Ok((link, visits)) => {
                    self.listed.insert(
                        link.key.clone(),
                        (link.input.slug.clone().unwrap_or_default(), visits),
                    );
                    listed.links.push(link);
                }
                Err(left_out) => listed.left_out.push(left_out),
            }
        }
        Ok(listed)
    }

    async fn history(&mut self, targets: &Targets, history: &mut History) -> anyhow::Result<()> {
        let this = &*self;
        let end = this
            .end
            .unwrap_or_else(|| Utc::now().trunc_subsecs(0) - SETTLE);
        let mut pending = Pending::default();
        // Links with nothing new need no request: their mark moves to the window's end.
        let mut work = Vec::new();
        let mut expected = 0u64;
        for (key, target) in targets {
            let Some((code, visits)) = this.listed.get(key) else {
                continue;
            };
            let cursor = Cursor::new(target.through.as_deref(), end);
            if cursor.closed() {
                continue;
            }
            if *visits == 0 {
                pending
                    .marks
                    .insert(key.clone(), mark(key, target, cursor.done()));
                pending.flush(history, false).await?;
                continue;
            }
            if target.through.is_none() {
                expected = expected.saturating_add(*visits);
            }
            work.push(Work {
                key: key.clone(),
                code: code.clone(),
                target: target.clone(),
                cursor,
            });
        }
        if expected > 0 && expected != u64::MAX && work.iter().all(|w| w.target.through.is_none()) {
            history.expect(expected);
        }

        // Page 1 of each, four at a time: most links have one page. Longer ones are read
        // afterwards, one at a time, each from its last page.
        let mut longer = Vec::new();
        {
            let mut firsts = stream::iter(work)
                .map(|work| async move {
                    let segments = ["short-urls", work.code.as_str(), "visits"];
                    let page = this.visit_page(&segments, &work.cursor, 1).await;
                    (work, page)
                })
                .buffered(IN_FLIGHT);
            while let Some((mut work, page)) = firsts.next().await {
                match page? {
                    None => {} // Deleted in Shlink since it was listed.
                    Some(page) if page.pagination.pages_count > 1 => {
                        longer.push((work, page.pagination.pages_count));
                    }
                    Some(page) => {
                        let unreadable = this.take_page(&mut work, page.data, &mut pending);
                        report_unreadable(history, &work.key, unreadable);
                        let done = mark(&work.key, &work.target, work.cursor.done());
                        pending.marks.insert(work.key.clone(), done);
                        pending.flush(history, false).await?;
                    }
                }
            }
        }
        for (mut work, pages) in longer {
            this.read_link(&mut work, pages, &mut pending, history)
                .await?;
            let done = mark(&work.key, &work.target, work.cursor.done());
            pending.marks.insert(work.key.clone(), done);
            pending.flush(history, false).await?;
        }
        pending.flush(history, true).await?;
        this.orphans(end, history).await
    }
}
