//! `kurz url create|list|show|delete`: the short links, validated by the same domain types as
//! the HTTP API.

use anyhow::anyhow;
use chrono::{DateTime, Days, NaiveDate, Utc};
use clap::Subcommand;
use serde::Serialize;

use super::output::{self, Table};
use super::password::PasswordSource;
use super::{Context, UsageError};
use crate::app::{LinkEdit, LinkInput};
use crate::domain::{ConditionKind, Cursor, Invalid, RuleSpec, Slug, Tags};
use crate::http::api::UrlView;
use crate::store::{PageRequest, StatsOf, StatsQuery, StoreError, TagFilter, UrlFilter, UrlRecord};

/// Search text limits, as `GET /api/urls/search` has them.
const SEARCH_MAX_QUERY_CHARS: usize = 100;
/// `url show` totals this many days, today included.
const RECENT_DAYS: u64 = 30;

#[derive(Debug, Subcommand)]
pub enum UrlCommand {
    /// Shorten a URL.
    Create(CreateArgs),
    /// List URLs newest first, one page at a time (or those matching --search).
    List(ListArgs),
    /// Show a URL with its visit totals.
    Show {
        /// The slug of the URL.
        slug: String,
    },
    /// Change a URL's target, title, crawlability, redirect status, validity, cap, rules,
    /// tags or password; running servers follow within a second.
    Update(UpdateArgs),
    /// Delete a URL and all its visits (asks first on a terminal).
    Delete {
        /// The slug of the URL.
        slug: String,
        /// Do not ask for confirmation (required when stdin is not a terminal).
        #[arg(long, short)]
        yes: bool,
    },
}

#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// Where the short link points: an absolute http or https URL.
    pub target: String,
    /// A custom slug (A-Z a-z 0-9 - _); without one kurz generates one.
    #[arg(long)]
    pub slug: Option<String>,
    /// A label for the link.
    #[arg(long)]
    pub title: Option<String>,
    /// List the link as allowed in robots.txt.
    #[arg(long)]
    pub crawlable: bool,
    /// The link's own redirect status: 301, 302, 307 or 308 (default: `redirect.status`).
    #[arg(long)]
    pub redirect_status: Option<u16>,
    /// The link answers from this time on (RFC 3339, e.g. 2026-12-24T18:00:00Z).
    #[arg(long)]
    pub valid_since: Option<DateTime<Utc>>,
    /// The link expires at this time (RFC 3339).
    #[arg(long)]
    pub valid_until: Option<DateTime<Utc>>,
    /// How many visits by people the link answers (bots do not count).
    #[arg(long)]
    pub max_visits: Option<i64>,
    /// Redirect rules: a JSON array as the API takes it, e.g.
    /// '[{"target":"https://example.com/de","conditions":[{"type":"language","value":"de"}]}]'.
    #[arg(long, value_parser = parse_rules)]
    pub rules: Option<RulesArg>,
    /// Append the click's query string to the target (default: `redirect.forward_query`).
    #[arg(long)]
    pub forward_query: Option<bool>,
    /// A tag (a-z 0-9 - _ ., up to 64 characters); repeat for several, at most 20.
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    #[command(flatten)]
    pub password: PasswordSource,
}

#[derive(Debug, clap::Args)]
#[command(group(
    clap::ArgGroup::new("change")
        .required(true)
        .multiple(true)
        .args(["password_file", "password_stdin"])
))]
pub struct UpdateArgs {
    /// The slug of the URL.
    pub slug: String,
    /// A new target: an absolute http or https URL.
    #[arg(long, group = "change")]
    pub url: Option<String>,
    /// A new title.
    #[arg(long, group = "change", conflicts_with = "no_title")]
    pub title: Option<String>,
    /// Remove the title.
    #[arg(long, group = "change")]
    pub no_title: bool,
    /// List the link in robots.txt as allowed (`true`) or not (`false`).
    #[arg(long, group = "change")]
    pub crawlable: Option<bool>,
    /// A redirect status of its own: 301, 302, 307 or 308.
    #[arg(long, group = "change", conflicts_with = "default_redirect_status")]
    pub redirect_status: Option<u16>,
    /// Answer with the server's `redirect.status` again.
    #[arg(long, group = "change")]
    pub default_redirect_status: bool,
    /// Replace the link's tags with these; repeat for several.
    #[arg(
        long = "tag",
        value_name = "TAG",
        group = "change",
        conflicts_with = "no_tags"
    )]
    pub tags: Vec<String>,
    /// Remove every tag from the link.
    #[arg(long, group = "change")]
    pub no_tags: bool,
    /// The link answers from this time on (RFC 3339).
    #[arg(long, group = "change", conflicts_with = "no_valid_since")]
    pub valid_since: Option<DateTime<Utc>>,
    /// Remove the start of the validity window.
    #[arg(long, group = "change")]
    pub no_valid_since: bool,
    /// The link expires at this time (RFC 3339).
    #[arg(long, group = "change", conflicts_with = "no_valid_until")]
    pub valid_until: Option<DateTime<Utc>>,
    /// Remove the end of the validity window.
    #[arg(long, group = "change")]
    pub no_valid_until: bool,
    /// A cap on visits by people (visits so far count towards it).
    #[arg(long, group = "change", conflicts_with = "no_max_visits")]
    pub max_visits: Option<i64>,
    /// Remove the visit cap.
    #[arg(long, group = "change")]
    pub no_max_visits: bool,
    /// Replace the redirect rules (a JSON array as the API takes it).
    #[arg(long, group = "change", value_parser = parse_rules, conflicts_with = "no_rules")]
    pub rules: Option<RulesArg>,
    /// Remove every redirect rule.
    #[arg(long, group = "change")]
    pub no_rules: bool,
    /// Append the click's query string to the target (`true`) or not (`false`).
    #[arg(long, group = "change")]
    pub forward_query: Option<bool>,
    #[command(flatten)]
    pub password: PasswordSource,
    /// Remove the password: anyone may follow the link again.
    #[arg(long, group = "change", conflicts_with_all = ["password_file", "password_stdin"])]
    pub no_password: bool,
}

/// The value of `--rules`: one argument holding the API's JSON array of rules.
#[derive(Debug, Clone)]
pub struct RulesArg(Vec<RuleSpec>);

/// `--rules`: the API's JSON array of rules (checked further by the links service).
fn parse_rules(value: &str) -> Result<RulesArg, String> {
    serde_json::from_str(value)
        .map(RulesArg)
        .map_err(|e| format!("not a JSON array of rules: {e}"))
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Only URLs whose slug, or target host, starts with this text.
    #[arg(long, short)]
    pub search: Option<String>,
    /// URLs per page (default pagination.default_limit, at most pagination.max_limit).
    #[arg(long)]
    pub limit: Option<u32>,
    /// Where to continue: the cursor the previous page printed.
    #[arg(long)]
    pub cursor: Option<String>,
    /// Only URLs with this tag; repeat for several (any of them, or all with --tags all).
    #[arg(long = "tag", value_name = "TAG", conflicts_with = "search")]
    pub tag: Vec<String>,
    /// With several --tag: URLs with `any` of them (default) or `all`.
    #[arg(long, value_enum, requires = "tag")]
    pub tags: Option<TagMatchArg>,
    /// Only links that answer now (inside their validity window, visit cap not reached).
    #[arg(long, conflicts_with = "search")]
    pub active: bool,
}

/// Rules one per line: `1. TARGET if type=value, type=value`.
fn rules_text(rules: &[RuleSpec]) -> String {
    if rules.is_empty() {
        return "-".into();
    }
    rules
        .iter()
        .enumerate()
        .map(|(i, rule)| {
            let conditions: Vec<String> = rule
                .conditions
                .iter()
                .map(|c| format!("{}={}", condition_name(c.kind), c.value))
                .collect();
            format!("{}. {} if {}", i, rule.target, conditions.join(", "))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn condition_name(kind: ConditionKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn optional_time(time: Option<DateTime<Utc>>) -> String {
    time.map_or_else(|| "-".into(), |t| format!("{} UTC", output::time(t)))
}

/// A flag pair `--x VALUE | --no-x` as a change: set, clear, or leave alone.
fn change<T>(value: Option<T>, clear: bool) -> Option<Option<T>> {
    if clear {
        Some(None)
    } else {
        value.map(Some)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TagMatchArg {
    Any,
    All,
}

/// A URL as a command prints it: `--json` prints the API's URL resource ([`UrlView`]), the
/// text these details.
fn details(url: &UrlView) -> Vec<(&'static str, String)> {
    vec![
        ("slug", url.slug.clone()),
        ("short url", url.short_url.clone()),
        ("qr code", url.qr_url.clone()),
        ("url", url.url.clone()),
        ("title", url.title.clone().unwrap_or_else(|| "-".into())),
        ("crawlable", yes_no(url.crawlable).into()),
        ("password", yes_no(url.password_protected).into()),
        (
            "redirect",
            url.redirect_status
                .map_or_else(|| "default".into(), |status| status.to_string()),
        ),
        (
            "tags",
            if url.tags.is_empty() {
                "-".into()
            } else {
                url.tags.join(" ")
            },
        ),
        ("visits", url.visit_count.to_string()),
        ("valid since", optional_time(url.valid_since)),
        ("valid until", optional_time(url.valid_until)),
        (
            "max visits",
            match (url.max_visits, url.visits_left) {
                (Some(cap), Some(left)) => format!("{cap} ({left} left)"),
                _ => "-".into(),
            },
        ),
        (
            "query",
            if url.forward_query {
                "forwarded"
            } else {
                "not forwarded"
            }
            .into(),
        ),
        ("rules", rules_text(&url.rules)),
        ("created", format!("{} UTC", output::time(url.created_at))),
        ("updated", format!("{} UTC", output::time(url.updated_at))),
    ]
}

fn yes_no(value: bool) -> &'static str {
    if value {
        "yes"
    } else {
        "no"
    }
}

#[derive(Serialize)]
struct ListJson {
    items: Vec<UrlView>,
    next_cursor: Option<String>,
}

#[derive(Serialize)]
struct ShowJson {
    #[serde(flatten)]
    url: UrlView,
    recent: RecentJson,
}

/// Visits of the last days, from the statistics rollups.
#[derive(Serialize)]
struct RecentJson {
    from: NaiveDate,
    to: NaiveDate,
    /// Every visit of those days, bots included.
    visits: i64,
    /// The bots' share of `visits`.
    bot_visits: i64,
}

#[derive(Serialize)]
struct DeletedJson {
    deleted: UrlView,
}

pub async fn run(ctx: &Context, command: UrlCommand) -> anyhow::Result<()> {
    match command {
        UrlCommand::Create(args) => create(ctx, args).await,
        UrlCommand::List(args) => list(ctx, args).await,
        UrlCommand::Show { slug } => show(ctx, &slug).await,
        UrlCommand::Update(args) => update(ctx, args).await,
        UrlCommand::Delete { slug, yes } => delete(ctx, &slug, yes).await,
    }
}

async fn create(ctx: &Context, args: CreateArgs) -> anyhow::Result<()> {
    let record = ctx
        .links()
        .await?
        .create(LinkInput {
            url: args.target,
            slug: args.slug,
            title: args.title,
            crawlable: args.crawlable,
            // Commands act as the operator, not as an API key.
            created_by: None,
            created_at: None,
            redirect_status: args.redirect_status,
            valid_since: args.valid_since,
            valid_until: args.valid_until,
            max_visits: args.max_visits,
            rules: args.rules.map(|rules| rules.0).unwrap_or_default(),
            forward_query: args.forward_query,
            tags: args.tags,
            password: args.password.read()?,
            password_hash: None,
        })
        .await?;
    let url = UrlView::new(&ctx.public_url(), record);
    if ctx.json {
        return output::json(&url);
    }
    output::emit(&format!(
        "created {}\n\n{}",
        url.short_url,
        output::details(&details(&url))
    ))
}

async fn list(ctx: &Context, args: ListArgs) -> anyhow::Result<()> {
    let pagination = &ctx.settings.pagination;
    let limit = match args.limit {
        None => pagination.default_limit,
        Some(0) => return Err(Invalid::new("limit", "must be at least 1").into()),
        Some(n) => n.min(pagination.max_limit),
    };
    let (records, next) = match args.search.as_deref() {
        Some(search) => {
            if args.cursor.is_some() {
                return Err(UsageError(
                    "--cursor pages through the whole list; a --search answers one page".into(),
                )
                .into());
            }
            let q = search_text(search)?;
            let store = ctx.store().await?;
            (store.search_urls(q, limit, None).await?, None)
        }
        None => {
            let after = match args.cursor.as_deref() {
                None | Some("") => None,
                Some(value) => Some(Cursor::decode(value)?),
            };
            let store = ctx.store().await?;
            let request = PageRequest { after, limit };
            let urls = UrlFilter {
                owner: None,
                active_at: args.active.then(Utc::now),
            };
            let page = if args.tag.is_empty() {
                store.list_urls(request, urls).await?
            } else {
                let filter = TagFilter {
                    names: Tags::parse(&args.tag, "tag")?.into_names(),
                    all: args.tags == Some(TagMatchArg::All),
                };
                store.list_tagged_urls(&filter, request, urls).await?
            };
            (page.items, page.next.map(Cursor::encode))
        }
    };
    let base = ctx.public_url();
    let items: Vec<UrlView> = records
        .into_iter()
        .map(|record| UrlView::new(&base, record))
        .collect();
    if ctx.json {
        return output::json(&ListJson {
            items,
            next_cursor: next,
        });
    }
    if items.is_empty() {
        return output::emit(if args.search.is_some() || !args.tag.is_empty() {
            "no URL matches\n"
        } else {
            "no URLs\n"
        });
    }
    let mut table = Table::new(&["SLUG", "VISITS", "CREATED", "URL", "TITLE", "TAGS"])
        .max_width(3, 60)
        .max_width(4, 40)
        .max_width(5, 40);
    for url in &items {
        table.row(vec![
            url.slug.clone(),
            url.visit_count.to_string(),
            output::time(url.created_at),
            url.url.clone(),
            url.title.clone().unwrap_or_default(),
            url.tags.join(" "),
        ]);
    }
    let mut text = table.render();
    if let Some(cursor) = next {
        let mut filters: String = args.tag.iter().map(|t| format!(" --tag {t}")).collect();
        if args.tags == Some(TagMatchArg::All) {
            filters.push_str(" --tags all");
        }
        if args.active {
            filters.push_str(" --active");
        }
        text.push_str(&format!(
            "\nnext page: kurz url list --limit {limit}{filters} --cursor {cursor}\n"
        ));
    }
    output::emit(&text)
}

/// The search text as the API accepts it: trimmed, 1 to 100 characters, no control characters.
fn search_text(value: &str) -> Result<&str, Invalid> {
    let q = value.trim();
    if q.is_empty() {
        return Err(Invalid::new("search", "must not be empty"));
    }
    if q.chars().count() > SEARCH_MAX_QUERY_CHARS {
        return Err(Invalid::new(
            "search",
            format!("must be at most {SEARCH_MAX_QUERY_CHARS} characters"),
        ));
    }
    if q.chars().any(char::is_control) {
        return Err(Invalid::new(
            "search",
            "must not contain control characters",
        ));
    }
    Ok(q)
}

/// The URL with this slug, or the one-line "no URL has the slug" failure (exit code 1).
async fn find(ctx: &Context, value: &str) -> anyhow::Result<(UrlRecord, Slug)> {
    let missing = || anyhow!("no URL has the slug '{value}'");
    let slug = Slug::for_lookup(value).ok_or_else(missing)?;
    let store = ctx.store().await?;
    match store.get_url(&slug).await {
        Ok(record) => Ok((record, slug)),
        Err(StoreError::NotFound) => Err(missing()),
        Err(other) => Err(other.into()),
    }
}

async fn show(ctx: &Context, value: &str) -> anyhow::Result<()> {
    let (record, _) = find(ctx, value).await?;
    let store = ctx.store().await?;
    let to = Utc::now().date_naive();
    let from = to
        .checked_sub_days(Days::new(RECENT_DAYS - 1))
        .unwrap_or(to);
    let stats = store
        .url_stats(StatsQuery {
            of: StatsOf::Url(record.id),
            from,
            to,
            include_bots: true,
            top: 1,
        })
        .await?;
    let shown = ShowJson {
        url: UrlView::new(&ctx.public_url(), record),
        recent: RecentJson {
            from,
            to,
            visits: stats.visits,
            bot_visits: stats.bot_visits,
        },
    };
    if ctx.json {
        return output::json(&shown);
    }
    let mut rows = details(&shown.url);
    // Right after "visits", wherever the fields before it put that.
    let after_visits = rows
        .iter()
        .position(|(label, _)| *label == "visits")
        .map_or(rows.len(), |at| at + 1);
    rows.insert(
        after_visits,
        (
            "last 30 days",
            format!(
                "{} visits ({} by bots), {from} to {to}",
                shown.recent.visits, shown.recent.bot_visits
            ),
        ),
    );
    output::emit(&output::details(&rows))
}

async fn delete(ctx: &Context, value: &str, yes: bool) -> anyhow::Result<()> {
    let (record, slug) = find(ctx, value).await?;
    output::confirm(
        &format!(
            "Delete {}/{slug} (to {}) and its {} visits?",
            ctx.public_url(),
            record.target,
            record.visit_count
        ),
        yes,
    )?;
    ctx.links().await?.delete(&slug).await?;
    let url = UrlView::new(&ctx.public_url(), record);
    if ctx.json {
        return output::json(&DeletedJson { deleted: url });
    }
    output::emit(&format!(
        "deleted {} and its {} visits\n",
        url.slug, url.visit_count
    ))
}

async fn update(ctx: &Context, args: UpdateArgs) -> anyhow::Result<()> {
    let (_, slug) = find(ctx, &args.slug).await?;
    let edit = LinkEdit {
        url: args.url,
        title: change(args.title, args.no_title),
        crawlable: args.crawlable,
        redirect_status: change(args.redirect_status, args.default_redirect_status),
        valid_since: change(args.valid_since, args.no_valid_since),
        valid_until: change(args.valid_until, args.no_valid_until),
        max_visits: change(args.max_visits, args.no_max_visits),
        rules: change(args.rules.map(|rules| rules.0), args.no_rules)
            .map(Option::unwrap_or_default),
        forward_query: args.forward_query,
        tags: match (args.tags.is_empty(), args.no_tags) {
            (_, true) => Some(Vec::new()),
            (false, false) => Some(args.tags),
            (true, false) => None,
        },
        password: change(args.password.read()?, args.no_password),
    };
    let record = ctx.links().await?.update(&slug, edit).await?;
    let url = UrlView::new(&ctx.public_url(), record);
    if ctx.json {
        return output::json(&url);
    }
    output::emit(&format!(
        "updated {}\n\n{}",
        url.short_url,
        output::details(&details(&url))
    ))
}
