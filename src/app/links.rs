//! Short links: create, change, delete, import. Each write is stored with its change log row
//! (one transaction, see the store), then announced through the [`ChangeNotice`].

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

use super::{passwords, AppError, ChangeNotice};
use crate::domain::{
    Invalid, MaxVisits, Password, PasswordHash, RedirectStatus, RuleSpec, Rules, Slug, SlugPolicy,
    Tags, TargetPolicy, TargetUrl, Title, Validity,
};
use crate::store::{NewUrl, Store, StoreError, Unique, UrlPatch, UrlRecord};

/// When a full title queue was last logged (Unix seconds): at most once a minute.
static TITLE_QUEUE_FULL_LOGGED: AtomicI64 = AtomicI64::new(0);

/// Attempts at finding a free generated slug before giving up.
const SLUG_ATTEMPTS: usize = 8;

/// A link as a caller asks for it, in plain values; [`Links`] parses them.
#[derive(Debug, Clone, Default)]
pub struct LinkInput {
    pub url: String,
    /// A custom slug; `None` to have one generated.
    pub slug: Option<String>,
    pub title: Option<String>,
    pub crawlable: bool,
    /// The API key creating it; `None` for anonymous callers and commands.
    pub created_by: Option<i64>,
    /// When it was created; `None` for now (an import keeps the original time).
    pub created_at: Option<DateTime<Utc>>,
    /// 301, 302, 307 or 308; `None` for the configured `redirect.status`.
    pub redirect_status: Option<u16>,
    /// The link answers from this time on (`None`: at once).
    pub valid_since: Option<DateTime<Utc>>,
    /// The link expires at this time (`None`: never).
    pub valid_until: Option<DateTime<Utc>>,
    /// At least 1; `None` for no cap.
    pub max_visits: Option<i64>,
    /// Redirect rules, in order; empty for none.
    pub rules: Vec<RuleSpec>,
    /// `None` takes the server's `redirect.forward_query`.
    pub forward_query: Option<bool>,
    /// A password to ask for before redirecting: hashed here, never stored as given.
    pub password: Option<String>,
    /// The hash of a password as an export wrote it (`kurz import`): kept as it is, so the
    /// link asks for the same password.
    pub password_hash: Option<String>,
    /// Tag names as given (checked and deduplicated by [`Tags::parse`]).
    pub tags: Vec<String>,
}

/// What a change sets; a field left `None` stays as it is, `title: Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct LinkEdit {
    pub url: Option<String>,
    pub title: Option<Option<String>>,
    pub crawlable: Option<bool>,
    /// `Some(None)` goes back to the configured status.
    pub redirect_status: Option<Option<u16>>,
    /// `Some(None)` removes the bound.
    pub valid_since: Option<Option<DateTime<Utc>>>,
    pub valid_until: Option<Option<DateTime<Utc>>>,
    /// `Some(None)` removes the cap.
    pub max_visits: Option<Option<i64>>,
    /// Replaces every rule; an empty list removes them.
    pub rules: Option<Vec<RuleSpec>>,
    pub forward_query: Option<bool>,
    /// A new password; `Some(None)` removes it.
    pub password: Option<Option<String>>,
    /// `Some` replaces the link's tags (an empty list removes them all).
    pub tags: Option<Vec<String>>,
}

/// A parsed link, ready to store.
#[derive(Debug, Clone)]
pub struct PreparedLink {
    pub url: NewUrl,
    /// The slug was generated (the caller gave none): another may replace it when taken.
    pub generated: bool,
}

/// What an import batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportOutcome {
    pub created: u64,
    /// Links whose slug existed already, left as they were.
    pub skipped: u64,
}

/// A link created without a title, for the title fetcher (`titles.fetch`, `src/titles/`).
#[derive(Debug, Clone)]
pub struct UntitledLink {
    pub slug: Slug,
    pub target: TargetUrl,
}

pub struct Links {
    store: Arc<dyn Store>,
    slugs: Arc<SlugPolicy>,
    targets: Arc<TargetPolicy>,
    notice: Arc<dyn ChangeNotice>,
    /// `forward_query` of links created without one (`redirect.forward_query`).
    forward_query: bool,
    /// Where links created without a title are announced; `None` when titles are not fetched.
    untitled: Option<mpsc::Sender<UntitledLink>>,
}

impl Links {
    pub fn new(
        store: Arc<dyn Store>,
        slugs: Arc<SlugPolicy>,
        targets: Arc<TargetPolicy>,
        notice: Arc<dyn ChangeNotice>,
    ) -> Self {
        Self {
            store,
            slugs,
            targets,
            notice,
            forward_query: false,
            untitled: None,
        }
    }

    /// Links created (by [`Links::create`]) without a title are sent here, never waiting: when
    /// the queue is full the link keeps no title, and that is logged and counted.
    pub fn announcing_untitled(mut self, untitled: mpsc::Sender<UntitledLink>) -> Self {
        self.untitled = Some(untitled);
        self
    }

    /// Links created without a `forward_query` of their own get this one.
    pub fn forwarding_queries(mut self, default: bool) -> Self {
        self.forward_query = default;
        self
    }

    /// Parses a link by the target and slug policies; a slug is generated when none is given.
    pub fn prepare(&self, input: &LinkInput) -> Result<PreparedLink, Invalid> {
        let target = self.targets.parse(&input.url)?;
        let (slug, generated) = match input.slug.as_deref() {
            None => (self.slugs.generate(), true),
            Some(value) => (Slug::parse(value, &self.slugs)?, false),
        };
        let title = Title::parse_optional(input.title.as_deref())?;
        let redirect_status = input
            .redirect_status
            .map(RedirectStatus::parse)
            .transpose()?;
        let validity = Validity::new(input.valid_since, input.valid_until)?;
        let max_visits = input.max_visits.map(MaxVisits::parse).transpose()?;
        let rules = Rules::parse(&input.rules, &self.targets)?;
        let password_hash = input
            .password_hash
            .as_deref()
            .map(PasswordHash::parse)
            .transpose()?;
        if input.password.is_some() && password_hash.is_some() {
            return Err(Invalid::new(
                "password",
                "give a password or the hash of one, not both",
            ));
        }
        let protected = input.password.is_some() || password_hash.is_some();
        if input.crawlable && protected {
            return Err(not_crawlable());
        }
        let tags = Tags::parse(&input.tags, "tags")?;
        Ok(PreparedLink {
            url: NewUrl {
                slug,
                target,
                title,
                crawlable: input.crawlable,
                created_at: input.created_at.unwrap_or_else(Utc::now),
                created_by: input.created_by,
                redirect_status,
                valid_since: validity.since,
                valid_until: validity.until,
                max_visits,
                human_visits: 0,
                rules,
                forward_query: input.forward_query.unwrap_or(self.forward_query),
                password_hash,
                tags: tags.into_names(),
            },
            generated,
        })
    }

    /// Creates a link; a generated slug that is taken is replaced by another, a custom one is
    /// [`AppError::SlugTaken`].
    #[tracing::instrument(skip_all)]
    pub async fn create(&self, input: LinkInput) -> Result<UrlRecord, AppError> {
        let password = input.password.clone().map(Password::parse).transpose()?;
        let mut link = self.prepare(&input)?;
        if let Some(password) = password {
            link.url.password_hash = Some(passwords::hash(password).await?);
        }
        let record = self.store_new(link).await?;
        // A probe may have cached this slug as unknown a moment ago.
        self.notice
            .links_changed(std::slice::from_ref(&record.slug))
            .await;
        if record.title.is_none() {
            self.announce_untitled(&record);
        }
        Ok(record)
    }

    fn announce_untitled(&self, record: &UrlRecord) {
        let Some(untitled) = &self.untitled else {
            return;
        };
        let link = UntitledLink {
            slug: record.slug.clone(),
            target: record.target.clone(),
        };
        if let Err(mpsc::error::TrySendError::Full(link)) = untitled.try_send(link) {
            metrics::counter!("kurz_titles_dropped_total").increment(1);
            // A burst of creates (10 000 a second in bench/run.sh) would log a line per link.
            let now = Utc::now().timestamp();
            let last = TITLE_QUEUE_FULL_LOGGED.load(Ordering::Relaxed);
            if now - last >= 60
                && TITLE_QUEUE_FULL_LOGGED
                    .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                    .is_ok()
            {
                tracing::warn!(
                    slug = %link.slug,
                    "title queue full: links created while it is get no fetched title \
                     (kurz_titles_dropped_total counts them; logged at most once a minute)"
                );
            }
        }
    }

    /// Gives a link without a title this fetched one (a title set meanwhile stays); `None`
    /// when nothing changed.
    #[tracing::instrument(skip_all, fields(slug = %slug))]
    pub async fn fill_title(
        &self,
        slug: &Slug,
        title: &Title,
    ) -> Result<Option<UrlRecord>, AppError> {
        let record = self.store.fill_title(slug, title).await?;
        if record.is_some() {
            self.notice.links_changed(std::slice::from_ref(slug)).await;
        }
        Ok(record)
    }

    async fn store_new(&self, link: PreparedLink) -> Result<UrlRecord, AppError> {
        if !link.generated {
            let slug = link.url.slug.to_string();
            return self.store.create_url(link.url).await.map_err(|e| match e {
                StoreError::Conflict(Unique::Slug) => AppError::SlugTaken(slug),
                other => other.into(),
            });
        }
        let mut url = link.url;
        for _ in 0..SLUG_ATTEMPTS {
            match self.store.create_url(url.clone()).await {
                Err(StoreError::Conflict(Unique::Slug)) => url.slug = self.slugs.generate(),
                other => return Ok(other?),
            }
        }
        Err(AppError::NoFreeSlug(SLUG_ATTEMPTS))
    }

    /// The link with this slug.
    pub async fn get(&self, slug: &Slug) -> Result<UrlRecord, AppError> {
        self.store.get_url(slug).await.map_err(|e| no_such(e, slug))
    }

    /// Changes a link's fields; those `edit` leaves `None` stay as they are. A link with a
    /// password is never crawlable: setting one turns `crawlable` off, and asking for
    /// `crawlable` on a link that keeps its password is refused.
    #[tracing::instrument(skip_all, fields(slug = %slug))]
    pub async fn update(&self, slug: &Slug, edit: LinkEdit) -> Result<UrlRecord, AppError> {
        let password = match edit.password {
            None => None,
            Some(None) => Some(None),
            Some(Some(password)) => Some(Some(Password::parse(password)?)),
        };
        let mut crawlable = edit.crawlable;
        match (&password, crawlable) {
            (Some(Some(_)), Some(true)) => return Err(not_crawlable().into()),
            (Some(Some(_)), _) => crawlable = Some(false),
            _ => {}
        }
        let keeps_password = password.is_none() && crawlable == Some(true);
        if keeps_password || edit.valid_since.is_some() || edit.valid_until.is_some() {
            let current = self.get(slug).await?;
            if keeps_password && current.password_hash.is_some() {
                return Err(not_crawlable().into());
            }
            // The window as it will be must still end after it starts.
            Validity::new(
                edit.valid_since.unwrap_or(current.valid_since),
                edit.valid_until.unwrap_or(current.valid_until),
            )?;
        }
        let password_hash = match password {
            None => None,
            Some(None) => Some(None),
            Some(Some(password)) => Some(Some(passwords::hash(password).await?)),
        };
        let patch = UrlPatch {
            target: edit
                .url
                .as_deref()
                .map(|u| self.targets.parse(u))
                .transpose()?,
            title: edit
                .title
                .map(|t| Title::parse_optional(t.as_deref()))
                .transpose()?,
            crawlable,
            redirect_status: edit
                .redirect_status
                .map(|status| status.map(RedirectStatus::parse).transpose())
                .transpose()?,
            valid_since: edit.valid_since,
            valid_until: edit.valid_until,
            max_visits: edit
                .max_visits
                .map(|cap| cap.map(MaxVisits::parse).transpose())
                .transpose()?,
            rules: edit
                .rules
                .map(|specs| Rules::parse(&specs, &self.targets))
                .transpose()?,
            forward_query: edit.forward_query,
            password_hash,
            tags: edit
                .tags
                .map(|names| Tags::parse(&names, "tags").map(Tags::into_names))
                .transpose()?,
        };
        let record = self
            .store
            .update_url(slug, patch)
            .await
            .map_err(|e| no_such(e, slug))?;
        self.notice.links_changed(std::slice::from_ref(slug)).await;
        Ok(record)
    }

    /// Deletes a link and its visits.
    #[tracing::instrument(skip_all, fields(slug = %slug))]
    pub async fn delete(&self, slug: &Slug) -> Result<(), AppError> {
        self.store
            .delete_url(slug)
            .await
            .map_err(|e| no_such(e, slug))?;
        self.notice.links_changed(std::slice::from_ref(slug)).await;
        Ok(())
    }

    /// Stores a batch of prepared links in one transaction. Slugs that exist are skipped (so
    /// importing a file again changes nothing), except that a generated slug that happened to
    /// be taken gets another one.
    #[tracing::instrument(skip_all, fields(batch = batch.len()))]
    pub async fn import(&self, batch: &[PreparedLink]) -> Result<ImportOutcome, AppError> {
        let urls: Vec<NewUrl> = batch.iter().map(|link| link.url.clone()).collect();
        // Only the links created are announced: a skipped slug's link did not change.
        let mut changed = self.store.import_urls(&urls).await?;
        let mut created = changed.len() as u64;
        let mut skipped = urls.len() as u64 - created;
        if skipped > 0 {
            for link in batch.iter().filter(|link| link.generated) {
                if self.is_stored(&link.url).await? {
                    continue;
                }
                let record = self.store_new(link.clone()).await?;
                changed.push(record.slug);
                skipped = skipped.saturating_sub(1);
                created += 1;
            }
        }
        self.notice.links_changed(&changed).await;
        Ok(ImportOutcome { created, skipped })
    }

    /// Imports a batch from another system (`kurz import --from ...`): as [`Links::import`],
    /// and in the same transaction an import mark for each link created, `source_ids` being
    /// the links' keys in `source` in the batch's order, so that a re-run skips them. The ids
    /// and slugs of the links created; a slug taken meanwhile is skipped.
    pub async fn import_marked(
        &self,
        source: &str,
        batch: &[PreparedLink],
        source_ids: &[String],
    ) -> Result<Vec<(i64, Slug)>, AppError> {
        let urls: Vec<NewUrl> = batch.iter().map(|link| link.url.clone()).collect();
        let created = self
            .store
            .import_marked_urls(source, &urls, source_ids)
            .await?;
        let slugs: Vec<Slug> = created.iter().map(|(_, slug)| slug.clone()).collect();
        self.notice.links_changed(&slugs).await;
        Ok(created)
    }

    /// Whether a link has this slug.
    pub async fn slug_taken(&self, slug: &Slug) -> Result<bool, AppError> {
        match self.store.get_url(slug).await {
            Ok(_) => Ok(true),
            Err(StoreError::NotFound) => Ok(false),
            Err(other) => Err(other.into()),
        }
    }

    /// The first of `slug-2`, `slug-3`, ... that the slug rules accept, no link has, and
    /// `taken` does not hold (slugs planned by the same import): `--on-conflict rename`.
    pub async fn free_variant(
        &self,
        slug: &Slug,
        taken: &std::collections::HashSet<String>,
    ) -> Result<Slug, AppError> {
        let mut n = 2u64;
        loop {
            let candidate = match Slug::parse(&format!("{slug}-{n}"), &self.slugs) {
                Ok(candidate) => candidate,
                // Too long with the suffix: a generated slug instead.
                Err(_) => self.slugs.generate(),
            };
            if !taken.contains(candidate.as_str()) && !self.slug_taken(&candidate).await? {
                return Ok(candidate);
            }
            n += 1;
        }
    }

    /// Whether the link stored under this slug is this one (created by the same batch).
    async fn is_stored(&self, url: &NewUrl) -> Result<bool, AppError> {
        match self.store.get_url(&url.slug).await {
            Ok(stored) => Ok(stored.target == url.target
                && stored.created_at.timestamp_micros() == url.created_at.timestamp_micros()),
            Err(StoreError::NotFound) => Ok(false),
            Err(other) => Err(other.into()),
        }
    }
}

/// Crawlers cannot give a password: a link with one is never listed in robots.txt.
fn not_crawlable() -> Invalid {
    Invalid::new(
        "crawlable",
        "a link with a password cannot be crawlable (crawlers cannot give the password)",
    )
}

fn no_such(error: StoreError, slug: &Slug) -> AppError {
    match error {
        StoreError::NotFound => AppError::NoSuchLink(slug.to_string()),
        other => other.into(),
    }
}
