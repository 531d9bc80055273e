//! `kurz import --from yourls|kutt|bitly`: the real binary reading YOURLS's tables in a fresh
//! MariaDB database, Kutt's in a fresh PostgreSQL database and a Bitly CSV export, into both
//! backends. Conflicts (skip, rename, fail), dry runs that write nothing, re-runs that add only
//! what is new, and the counters and statistics afterwards.

use std::sync::atomic::{AtomicU32, Ordering};

use chrono::{NaiveDate, Utc};
use kurz::domain::{Slug, TagName};
use kurz::store::{StatsOf, StatsQuery, Store};
use serde_json::Value;
use sqlx::Connection;

use super::common::database::{Backend, TestDatabase};
use super::Kurz;

pub const DEFAULT_TEST_MYSQL_URL: &str = "mysql://root@127.0.0.1:3306/";

/// A fresh MariaDB/MySQL database, dropped when the test ends.
struct TestMysql {
    admin: String,
    name: String,
    url: String,
}

impl TestMysql {
    async fn create() -> Self {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let admin =
            std::env::var("TEST_MYSQL_URL").unwrap_or_else(|_| DEFAULT_TEST_MYSQL_URL.to_owned());
        let name = format!(
            "kurz_yourls_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            Utc::now().timestamp_subsec_nanos()
        );
        let mut connection = sqlx::MySqlConnection::connect(&admin)
            .await
            .unwrap_or_else(|error| {
                panic!(
                    "MariaDB is not reachable at {admin} ({error}). The YOURLS import tests never \
                     skip: start a server, or point TEST_MYSQL_URL at one, e.g. \
                     TEST_MYSQL_URL=mysql://root@127.0.0.1:3306/"
                )
            });
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut connection)
            .await
            .expect("CREATE DATABASE for a test");
        let mut url = url::Url::parse(&admin).expect("TEST_MYSQL_URL is a URL");
        url.set_path(&name);
        Self {
            admin,
            name,
            url: url.to_string(),
        }
    }

    async fn execute(&self, statements: &str) {
        let mut connection = sqlx::MySqlConnection::connect(&self.url).await.unwrap();
        for statement in statements.split(";\n").filter(|s| !s.trim().is_empty()) {
            sqlx::query(statement)
                .execute(&mut connection)
                .await
                .unwrap_or_else(|e| panic!("{statement}: {e}"));
        }
    }
}

impl Drop for TestMysql {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for clean-up");
            runtime.block_on(async move {
                if let Ok(mut connection) = sqlx::MySqlConnection::connect(&admin).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
                        .execute(&mut connection)
                        .await;
                }
            });
        })
        .join();
    }
}

/// YOURLS's two tables as YOURLS creates them (`yourls_create_sql_tables`), with a prefix.
fn yourls_schema(prefix: &str) -> String {
    format!(
        "CREATE TABLE `{prefix}url` (
           `keyword` varchar(100) BINARY NOT NULL,
           `url` text BINARY NOT NULL,
           `title` text CHARACTER SET utf8mb4,
           `timestamp` timestamp NOT NULL DEFAULT current_timestamp(),
           `ip` varchar(41) NOT NULL,
           `clicks` int(10) unsigned NOT NULL,
           PRIMARY KEY (`keyword`), KEY `ip` (`ip`), KEY `timestamp` (`timestamp`)
         ) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
         CREATE TABLE `{prefix}log` (
           `click_id` int(11) NOT NULL AUTO_INCREMENT,
           `click_time` datetime NOT NULL,
           `shorturl` varchar(100) BINARY NOT NULL,
           `referrer` varchar(200) NOT NULL,
           `user_agent` varchar(255) NOT NULL,
           `ip_address` varchar(41) NOT NULL,
           `country_code` char(2) NOT NULL,
           PRIMARY KEY (`click_id`), KEY `shorturl` (`shorturl`)
         ) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
"
    )
}

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like \
                      Gecko) Chrome/126.0.0.0 Safari/537.36";
const BOT: &str = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

/// Links of every kind YOURLS has: an uppercase keyword, one outside kurz's slug characters,
/// one whose slug kurz has already, one whose `clicks` exceeds its logged clicks.
async fn yourls_rows(db: &TestMysql, prefix: &str) {
    db.execute(&yourls_schema(prefix)).await;
    db.execute(&format!(
        "INSERT INTO `{prefix}url` VALUES
           ('Spring', 'https://example.com/spring', 'Spring launch', '2026-11-01 09:00:00', '203.0.113.1', 3),
           ('bad.key', 'https://example.com/bad', NULL, '2026-11-01 10:00:00', '203.0.113.1', 0),
           ('taken', 'https://example.com/theirs', '', '2026-11-02 10:00:00', '203.0.113.1', 1),
           ('gaps', 'https://example.com/gaps', 'Logged in part', '2026-11-02 11:00:00', '203.0.113.1', 5);
         INSERT INTO `{prefix}log` (click_time, shorturl, referrer, user_agent, ip_address, country_code) VALUES
           ('2026-11-01 10:00:00', 'Spring', 'direct', '{FIREFOX}', '203.0.113.9', 'DE'),
           ('2026-11-02 10:00:00', 'Spring', 'https://news.example.org/item', '{CHROME}', '2001:db8::1', 'fr'),
           ('2026-11-02 11:00:00', 'Spring', 'direct', '{BOT}', 'not an address', ''),
           ('2026-11-02 12:00:00', 'taken', 'direct', '{FIREFOX}', '203.0.113.9', 'DE'),
           ('2026-11-03 08:00:00', 'gaps', 'direct', '{FIREFOX}', '203.0.113.9', ''),
           ('2026-11-03 09:00:00', 'gaps', 'https://www.example.net/', '{CHROME}', '203.0.113.10', 'US'),
           ('2026-11-03 10:00:00', 'gaps', 'direct', '{FIREFOX}', '203.0.113.9', 'US')"
    ))
    .await;
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
}

async fn stats(store: &dyn Store, slug: &str) -> kurz::store::UrlStats {
    stats_between(store, slug, day(1), day(30)).await
}

/// A link's statistics over the days `from..=to`, bots included.
pub(super) async fn stats_between(
    store: &dyn Store,
    slug: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> kurz::store::UrlStats {
    let url = store
        .get_url(&Slug::for_lookup(slug).unwrap())
        .await
        .unwrap();
    store
        .url_stats(StatsQuery {
            of: StatsOf::Url(url.id),
            from,
            to,
            include_bots: true,
            top: 10,
        })
        .await
        .unwrap()
}

pub(super) fn counted(values: &[kurz::store::ValueCount]) -> Vec<(Option<String>, i64)> {
    values.iter().map(|v| (v.value.clone(), v.visits)).collect()
}

async fn yourls_links_and_clicks_are_imported_once(backend: Backend) {
    let mysql = TestMysql::create().await;
    yourls_rows(&mysql, "yourls_").await;
    let kurz = Kurz::new(backend).await;
    kurz.ok(&[
        "url",
        "create",
        "https://example.com/mine",
        "--slug",
        "taken",
    ]);
    let db = mysql.url.as_str();
    fn with<'a>(db: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
        let mut args = vec!["import", "--from", "yourls", "--database", db];
        args.extend_from_slice(extra);
        args
    }
    let import = |extra: &[&'static str]| with(db, extra);

    // A dry run reports and writes nothing.
    let dry = kurz.json(&import(&["--dry-run"]));
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["links"], 4);
    assert_eq!(dry["created"], 2, "{dry}");
    assert_eq!(dry["skipped"], 1);
    assert_eq!(dry["invalid"], 1);
    assert_eq!(dry["visits"], 6, "{dry}");
    assert_eq!(dry["counted_clicks"], 2);
    let store = kurz.store().await;
    assert_eq!(store.visit_total(None).await.unwrap(), 0);
    let list = kurz.json(&["url", "list"]);
    assert_eq!(super::slugs(&list), ["taken"]);

    // Skip (the default): the taken slug's link and its click are left out, the bad keyword
    // reported invalid.
    let done = kurz.json(&import(&[]));
    assert_eq!(done["created"], 2, "{done}");
    assert_eq!(done["skipped"], 1);
    assert_eq!(done["invalid"], 1);
    assert_eq!(done["invalid_links"][0]["key"], "bad.key");
    assert_eq!(done["visits"], 6);
    assert_eq!(done["counted_clicks"], 2);
    let spring = store
        .get_url(&Slug::for_lookup("Spring").unwrap())
        .await
        .unwrap();
    assert_eq!(spring.title.as_deref(), Some("Spring launch"));
    assert_eq!(spring.created_at.to_rfc3339(), "2026-11-01T09:00:00+00:00");
    assert_eq!((spring.visit_count, spring.human_visits), (3, 2));
    let gaps = store
        .get_url(&Slug::for_lookup("gaps").unwrap())
        .await
        .unwrap();
    // Five clicks in YOURLS, three logged: two counted on its creation day.
    assert_eq!((gaps.visit_count, gaps.human_visits), (5, 5));
    let mine = store
        .get_url(&Slug::for_lookup("taken").unwrap())
        .await
        .unwrap();
    assert_eq!(mine.target.as_str(), "https://example.com/mine");
    assert_eq!(mine.visit_count, 0);
    assert_eq!(store.visit_total(None).await.unwrap(), 8);

    // The clicks as live ones: browsers, bots, referrers, countries.
    let spring_stats = stats(store.as_ref(), "Spring").await;
    assert_eq!(spring_stats.bot_visits, 1);
    assert_eq!(
        counted(&spring_stats.browsers),
        [
            (Some("Chrome".into()), 1),
            (Some("Firefox".into()), 1),
            (Some("Googlebot".into()), 1)
        ]
    );
    assert_eq!(
        counted(&spring_stats.referrer_hosts),
        [(None, 2), (Some("news.example.org".into()), 1)]
    );
    assert_eq!(
        counted(&spring_stats.countries),
        [(None, 1), (Some("DE".into()), 1), (Some("FR".into()), 1)]
    );
    let gaps_stats = stats(store.as_ref(), "gaps").await;
    assert_eq!(gaps_stats.visits, 5);
    assert_eq!(gaps_stats.days[1].visits, 2, "{:?}", gaps_stats.days);
    assert_eq!(
        counted(&gaps_stats.countries),
        [(None, 3), (Some("US".into()), 2)]
    );
    let rows = kurz.ok(&["visits", "export", "--url", "Spring", "--format", "jsonl"]);
    assert_eq!(rows.lines().count(), 3, "{rows}");
    // Addresses anonymised as live clicks' are (`enrichment.anonymize_ips`).
    assert!(rows.contains("\"client_ip\":\"203.0.113.0\""), "{rows}");

    // Again: nothing new. Then two new clicks in YOURLS: only they are added.
    let again = kurz.json(&import(&[]));
    assert_eq!(again["already_imported"], 2, "{again}");
    assert_eq!(again["created"], 0);
    assert_eq!(again["visits"], 0);
    assert_eq!(again["counted_clicks"], 0);
    mysql
        .execute(&format!(
            "INSERT INTO yourls_log (click_time, shorturl, referrer, user_agent, ip_address, \
             country_code) VALUES
               ('2026-11-04 10:00:00', 'Spring', 'direct', '{FIREFOX}', '203.0.113.9', 'DE'),
               ('2026-11-04 11:00:00', 'gaps', 'direct', '{FIREFOX}', '203.0.113.9', 'DE')"
        ))
        .await;
    let newer = kurz.json(&import(&[]));
    assert_eq!(newer["visits"], 2, "{newer}");
    assert_eq!(newer["counted_clicks"], 0);
    let spring = store
        .get_url(&Slug::for_lookup("Spring").unwrap())
        .await
        .unwrap();
    assert_eq!(spring.visit_count, 4);
    assert_eq!(store.visit_total(None).await.unwrap(), 10);
    let global = store.global_stats(day(1), day(30), true).await.unwrap();
    assert_eq!(global.visits, 10);

    // The text summary.
    let text = kurz.ok(&import(&[]));
    assert!(text.starts_with("imported yourls:127.0.0.1/"), "{text}");
    assert!(text.contains("2 already imported"), "{text}");
}

async fn yourls_conflicts_rename_or_fail(backend: Backend) {
    let mysql = TestMysql::create().await;
    // Another prefix, as YOURLS_DB_PREFIX allows.
    yourls_rows(&mysql, "short_").await;
    let kurz = Kurz::new(backend).await;
    kurz.ok(&[
        "url",
        "create",
        "https://example.com/mine",
        "--slug",
        "taken",
    ]);
    let db = mysql.url.as_str();
    let base = [
        "import",
        "--from",
        "yourls",
        "--database",
        db,
        "--table-prefix",
        "short_",
    ];

    // Fail: nothing written, the conflict named.
    let mut fail = base.to_vec();
    fail.extend(["--on-conflict", "fail"]);
    let stderr = kurz.fails(&fail, 2);
    assert!(
        stderr.contains("taken: the slug `taken` is another link's"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was imported"), "{stderr}");
    assert_eq!(super::slugs(&kurz.json(&["url", "list"])), ["taken"]);

    // A prefix that is not a name is refused.
    let mut bad = base.to_vec();
    bad[6] = "x; DROP TABLE y";
    kurz.fails(&bad, 2);

    // Rename: the taken slug gets -2, the bad keyword a generated slug, and both keep their
    // clicks; a second run renames nothing again.
    let mut rename = base.to_vec();
    rename.extend(["--on-conflict", "rename"]);
    let done = kurz.json(&rename);
    assert_eq!(done["created"], 4, "{done}");
    assert_eq!(done["renamed"], 2);
    assert_eq!(done["visits"], 7);
    let renamed: Vec<(String, String)> = done["renamed_links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["key"].as_str().unwrap().to_owned(),
                r["slug"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(renamed[1], ("taken".into(), "taken-2".into()));
    let store = kurz.store().await;
    let theirs = store
        .get_url(&Slug::for_lookup("taken-2").unwrap())
        .await
        .unwrap();
    assert_eq!(theirs.target.as_str(), "https://example.com/theirs");
    assert_eq!(theirs.visit_count, 1);
    let generated = store
        .get_url(&Slug::for_lookup(&renamed[0].1).unwrap())
        .await
        .unwrap();
    assert_eq!(generated.target.as_str(), "https://example.com/bad");
    let again = kurz.json(&rename);
    assert_eq!(again["created"], 0);
    assert_eq!(again["already_imported"], 4);
    assert_eq!(again["renamed"], 0);

    // --no-visits: links only (a fresh database).
    let other = Kurz::new(backend).await;
    let mut links_only = base.to_vec();
    links_only.push("--no-visits");
    let done = other.json(&links_only);
    assert_eq!(done["created"], 3);
    assert_eq!(done["visits"], 0);
    assert_eq!(other.store().await.visit_total(None).await.unwrap(), 0);
    // Their clicks come with the next run that takes them.
    let done = other.json(&base);
    assert_eq!(done["visits"], 7, "{done}");
    assert_eq!(done["counted_clicks"], 2);
}

/// Kutt's tables as its migrations leave them (the columns the import reads, and a few more).
const KUTT_SCHEMA: &str = "
CREATE TABLE domains (id serial PRIMARY KEY, address varchar(255) NOT NULL);
CREATE TABLE links (
  id serial PRIMARY KEY, uuid uuid, address varchar(255) NOT NULL, description varchar(2040),
  banned boolean NOT NULL DEFAULT false, banned_by_id integer, domain_id integer REFERENCES domains,
  password varchar(255), expire_in timestamptz, target varchar(2040) NOT NULL, user_id integer,
  visit_count integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE visits (
  id serial PRIMARY KEY, link_id integer NOT NULL REFERENCES links ON DELETE CASCADE,
  user_id integer, total integer NOT NULL DEFAULT 0,
  countries jsonb DEFAULT '{}', referrers jsonb DEFAULT '{}',
  br_chrome integer DEFAULT 0, br_edge integer DEFAULT 0, br_firefox integer DEFAULT 0,
  br_ie integer DEFAULT 0, br_opera integer DEFAULT 0, br_other integer DEFAULT 0,
  br_safari integer DEFAULT 0, os_android integer DEFAULT 0, os_ios integer DEFAULT 0,
  os_linux integer DEFAULT 0, os_macos integer DEFAULT 0, os_other integer DEFAULT 0,
  os_windows integer DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());
INSERT INTO domains (address) VALUES ('other.example');
INSERT INTO links (address, description, banned, domain_id, password, expire_in, target, created_at) VALUES
  ('guide', 'The guide', false, NULL, NULL, NULL, 'https://example.com/docs', '2026-11-01T08:00:00Z'),
  ('secret', NULL, false, NULL, '$2a$12$abcdefghijklmnopqrstuuRkq0Xq7oUQ1Yk1uQ6v8Y1q3u3o0u3Ci', '2027-01-01T00:00:00Z', 'https://example.com/secret', '2026-11-01T09:00:00Z'),
  ('spam', NULL, true, NULL, NULL, NULL, 'https://spam.example/', '2026-11-01T10:00:00Z'),
  ('elsewhere', NULL, false, 1, NULL, NULL, 'https://example.com/else', '2026-11-01T11:00:00Z');
INSERT INTO visits (link_id, total, countries, referrers, br_chrome, br_firefox, br_other, os_linux, os_windows, os_other, created_at) VALUES
  (1, 5, '{\"de\": 3, \"unknown\": 2}', '{\"news[dot]example[dot]org\": 4, \"direct\": 1}', 3, 2, 0, 1, 4, 0, '2026-11-02T10:00:00Z'),
  (1, 2, '{\"fr\": 2}', '{\"direct\": 2}', 0, 0, 2, 0, 0, 2, '2026-11-03T10:00:00Z'),
  (2, 1, '{\"de\": 1}', '{\"direct\": 1}', 1, 0, 0, 0, 1, 0, '2026-11-03T11:00:00Z'),
  (3, 9, '{}', '{}', 9, 0, 0, 9, 0, 0, '2026-11-03T11:00:00Z')";

async fn kutt_links_and_hourly_counts_are_imported(backend: Backend) {
    let kutt = TestDatabase::create(Backend::Postgres).await;
    let mut connection = sqlx::PgConnection::connect(&kutt.url).await.unwrap();
    sqlx::raw_sql(KUTT_SCHEMA)
        .execute(&mut connection)
        .await
        .unwrap();
    let kurz = Kurz::new(backend).await;
    let args = ["import", "--from", "kutt", "--database", kutt.url.as_str()];
    let done = kurz.json(&args);
    assert_eq!(done["links"], 4, "{done}");
    assert_eq!(done["created"], 2, "{done}");
    assert_eq!(done["left_out"], 2);
    assert_eq!(done["passwords_dropped"], 1);
    assert_eq!(done["visits"], 0);
    assert_eq!(done["counted_clicks"], 8);
    let store = kurz.store().await;
    let guide = store
        .get_url(&Slug::for_lookup("guide").unwrap())
        .await
        .unwrap();
    assert_eq!(guide.title.as_deref(), Some("The guide"));
    assert_eq!((guide.visit_count, guide.human_visits), (7, 7));
    let secret = store
        .get_url(&Slug::for_lookup("secret").unwrap())
        .await
        .unwrap();
    assert!(secret.password_hash.is_none());
    assert_eq!(
        secret.valid_until.map(|t| t.to_rfc3339()),
        Some("2027-01-01T00:00:00+00:00".into())
    );
    // Counts, no rows: the charts are right, the visit list is empty.
    let s = stats(store.as_ref(), "guide").await;
    assert_eq!(s.visits, 7);
    assert_eq!(
        counted(&s.browsers),
        [
            (Some("Chrome".into()), 3),
            (None, 2),
            (Some("Firefox".into()), 2)
        ]
    );
    assert_eq!(
        counted(&s.os),
        [
            (Some("Windows".into()), 4),
            (None, 2),
            (Some("Linux".into()), 1)
        ]
    );
    assert_eq!(
        counted(&s.countries),
        [(Some("DE".into()), 3), (None, 2), (Some("FR".into()), 2)]
    );
    assert_eq!(
        counted(&s.referrer_hosts),
        [(Some("news.example.org".into()), 4), (None, 3)]
    );
    assert_eq!(store.visit_total(None).await.unwrap(), 8);
    let rows = kurz.ok(&["visits", "export", "--url", "guide", "--format", "jsonl"]);
    assert_eq!(rows, "");

    // Again: nothing twice. A new finished hour in Kutt: only it is added.
    let again = kurz.json(&args);
    assert_eq!(again["already_imported"], 2);
    assert_eq!(again["counted_clicks"], 0, "{again}");
    sqlx::query(
        "INSERT INTO visits (link_id, total, br_firefox, os_linux, created_at) \
         VALUES (1, 4, 4, 4, '2026-11-04T10:00:00Z')",
    )
    .execute(&mut connection)
    .await
    .unwrap();
    // The hour in progress is not read yet.
    sqlx::query(
        "INSERT INTO visits (link_id, total, br_firefox, os_linux, created_at) \
         VALUES (1, 1, 1, 1, date_trunc('hour', now()))",
    )
    .execute(&mut connection)
    .await
    .unwrap();
    let newer = kurz.json(&args);
    assert_eq!(newer["counted_clicks"], 4, "{newer}");
    let guide = store
        .get_url(&Slug::for_lookup("guide").unwrap())
        .await
        .unwrap();
    assert_eq!(guide.visit_count, 11);
    connection.close().await.unwrap();
}

const BITLY_CSV: &str = "\u{feff}Bitlink,Long URL,Title,Tags,Created,Total Clicks,Campaign,archived
https://bit.ly/spring24,https://example.com/spring,Spring launch,\"launch, mobile\",2026-11-01 09:30:00,12,Q4,false
bit.ly/3xYz9Ab,https://example.com/docs,,,11/02/2026,3,,false
https://bit.ly/old,https://example.com/old,Old,,2026-11-01T00:00:00Z,5,,true
https://bit.ly/bad,javascript:alert(1),,,2026-11-01,1,,false
";

async fn bitly_exports_are_imported_with_their_totals(backend: Backend) {
    let kurz = Kurz::new(backend).await;
    let file = kurz.path("bitly.csv");
    std::fs::write(&file, BITLY_CSV).unwrap();
    let path = file.to_str().unwrap();
    let run = kurz.run(&["import", "--from", "bitly", "--file", path, "--json"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains("columns not read: Campaign"),
        "{}",
        run.stderr
    );
    let done: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(done["links"], 4, "{done}");
    assert_eq!(done["created"], 2);
    assert_eq!(done["invalid"], 1);
    assert_eq!(done["left_out"], 1);
    assert_eq!(done["counted_clicks"], 15);
    let store = kurz.store().await;
    let spring = store
        .get_url(&Slug::for_lookup("spring24").unwrap())
        .await
        .unwrap();
    assert_eq!(spring.visit_count, 12);
    assert_eq!(spring.created_at.to_rfc3339(), "2026-11-01T09:30:00+00:00");
    let tag = store
        .get_tag(&TagName::parse("mobile", "tags").unwrap(), None)
        .await
        .unwrap();
    assert_eq!((tag.links, tag.visits), (1, 12));
    let s = stats(store.as_ref(), "3xYz9Ab").await;
    assert_eq!(s.visits, 3);
    assert_eq!(s.days[1].visits, 3);

    // The same file again: nothing. A later export with more clicks: only the difference.
    let again = kurz.json(&["import", "--from", "bitly", "--file", path]);
    assert_eq!(again["already_imported"], 2);
    assert_eq!(again["counted_clicks"], 0);
    std::fs::write(&file, BITLY_CSV.replace(",12,Q4", ",20,Q4")).unwrap();
    let later = kurz.json(&["import", "--from", "bitly", path]);
    assert_eq!(later["counted_clicks"], 8, "{later}");
    assert_eq!(
        store
            .get_url(&Slug::for_lookup("spring24").unwrap())
            .await
            .unwrap()
            .visit_count,
        20
    );

    // Files that are not Bitly's are refused.
    let other = kurz.path("other.csv");
    std::fs::write(&other, "a,b\n1,2\n").unwrap();
    kurz.fails(
        &[
            "import",
            "--from",
            "bitly",
            "--file",
            other.to_str().unwrap(),
        ],
        2,
    );
    // --dry-run and --on-conflict belong to other systems' imports.
    kurz.fails(&["import", path, "--dry-run"], 2);
}

crate::on_both_backends!(
    yourls_links_and_clicks_are_imported_once,
    yourls_conflicts_rename_or_fail,
    kutt_links_and_hourly_counts_are_imported,
    bitly_exports_are_imported_with_their_totals
);
