//! The management commands, run as the real `kurz` binary against a fresh database of each
//! backend (`DATABASE_URL`), as an operator runs them with `docker exec`.

#[path = "../common/mod.rs"]
mod common;
mod import_shlink;
mod imports;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;

use chrono::{DateTime, Days, Duration, NaiveDate, Utc};
use kurz::config::{Environment, Settings};
use kurz::domain::{PasswordHash, Slug};
use kurz::store::{self, NewVisit, PageRequest, StatsOf, StatsQuery, Store, VisitFilter};
use serde_json::Value;

use common::database::{Backend, TestDatabase};

/// A database, a working directory, and the binary pointed at both.
struct Kurz {
    database: TestDatabase,
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

/// What one run of the binary did.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Kurz {
    async fn new(backend: Backend) -> Self {
        Self {
            database: TestDatabase::create(backend).await,
            dir: tempfile::tempdir().expect("a temporary directory"),
            env: Vec::new(),
        }
    }

    fn with_env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_kurz"));
        // Only what the test sets: no KURZ_* or DATABASE_URL of the environment running it.
        for (name, _) in std::env::vars_os() {
            let name = name.to_string_lossy().into_owned();
            if name.starts_with("KURZ") || name == "DATABASE_URL" || name == "RUST_LOG" {
                command.env_remove(name);
            }
        }
        command
            .env("DATABASE_URL", &self.database.url)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .args(args);
        command
    }

    fn run(&self, args: &[&str]) -> Run {
        let output = self.command(args).output().expect("kurz runs");
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Runs a command that must succeed; its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let run = self.run(args);
        assert_eq!(run.code, 0, "kurz {args:?} failed: {run:?}");
        run.stdout
    }

    /// Runs a command that must succeed with `--json`; its document.
    fn json(&self, args: &[&str]) -> Value {
        let mut args = args.to_vec();
        args.push("--json");
        let stdout = self.ok(&args);
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{args:?}: {e}: {stdout}"))
    }

    /// Runs a command that must fail with `code`; its stderr.
    fn fails(&self, args: &[&str], code: i32) -> String {
        let run = self.run(args);
        assert_eq!(run.code, code, "kurz {args:?}: {run:?}");
        assert!(!run.stderr.is_empty(), "kurz {args:?} says why: {run:?}");
        run.stderr
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs a command with `input` on its stdin.
    fn run_with_stdin(&self, args: &[&str], input: &str) -> Run {
        use std::io::Write;
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kurz runs");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let output = child.wait_with_output().expect("kurz ends");
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// The stored password hash of a link.
    async fn password_hash(&self, slug: &str) -> Option<PasswordHash> {
        let slug = Slug::for_lookup(slug).unwrap();
        self.store()
            .await
            .get_url(&slug)
            .await
            .unwrap()
            .password_hash
    }

    /// The library's store on the same database, to add visits and check what commands did.
    async fn store(&self) -> Arc<dyn Store> {
        let mut settings = Settings::defaults(Environment::Development).unwrap();
        settings.database.url = self.database.url.clone();
        store::connect(&settings.database)
            .await
            .expect("store opens")
    }
}

fn slugs(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|u| u["slug"].as_str().unwrap().to_owned())
        .collect()
}

fn visit(url_id: i64, visited_at: DateTime<Utc>, is_bot: bool) -> NewVisit {
    NewVisit {
        location: Default::default(),
        url_id,
        visited_at,
        client_ip: Some("203.0.113.7".parse().unwrap()),
        user_agent: Some("agent".into()),
        referrer: None,
        referrer_host: None,
        browser: Some("Firefox".into()),
        os: Some("Linux".into()),
        device: Some(if is_bot { "bot" } else { "desktop" }.into()),
        is_bot,
        cap_taken: false,
        rule: None,
    }
}

fn days_ago(days: u64) -> NaiveDate {
    Utc::now()
        .date_naive()
        .checked_sub_days(Days::new(days))
        .unwrap()
}

fn noon(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(12, 0, 0).unwrap().and_utc()
}

async fn urls_are_created_listed_shown_and_deleted(backend: Backend) {
    let kurz = Kurz::new(backend)
        .await
        .with_env("KURZ__SERVER__PUBLIC_URL", "https://sho.rt/");

    let created = kurz.ok(&[
        "url",
        "create",
        "https://Example.COM/spring",
        "--slug",
        "launch",
        "--title",
        "Spring launch",
        "--crawlable",
    ]);
    assert!(
        created.starts_with("created https://sho.rt/launch\n"),
        "{created}"
    );
    assert!(
        created.contains("https://example.com/spring"),
        "normalised: {created}"
    );
    assert!(created.contains("Spring launch"), "{created}");

    let generated = kurz.json(&["url", "create", "https://example.org/page"]);
    let generated_slug = generated["slug"].as_str().unwrap().to_owned();
    assert_eq!(generated_slug.len(), 7);
    assert_eq!(
        generated["short_url"],
        format!("https://sho.rt/{generated_slug}")
    );
    assert_eq!(generated["url"], "https://example.org/page");
    assert_eq!(generated["title"], Value::Null);
    assert_eq!(generated["crawlable"], false);
    assert_eq!(generated["visit_count"], 0);

    // The list: newest first, as a table and as JSON, one keyset page at a time.
    let table = kurz.ok(&["url", "list"]);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("SLUG"), "{table}");
    assert!(lines[1].starts_with(&generated_slug), "{table}");
    assert!(lines[2].starts_with("launch "), "{table}");
    assert!(lines[2].contains("Spring launch"), "{table}");
    let all = kurz.json(&["url", "list"]);
    assert_eq!(slugs(&all), [generated_slug.as_str(), "launch"]);
    assert_eq!(all["next_cursor"], Value::Null);
    let first = kurz.json(&["url", "list", "--limit", "1"]);
    assert_eq!(slugs(&first), [generated_slug.as_str()]);
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let human = kurz.ok(&["url", "list", "--limit", "1"]);
    assert!(
        human.contains(&format!("kurz url list --limit 1 --cursor {cursor}")),
        "{human}"
    );
    let second = kurz.json(&["url", "list", "--limit", "1", "--cursor", &cursor]);
    assert_eq!(slugs(&second), ["launch"]);
    assert_eq!(second["next_cursor"], Value::Null);

    // Show: the URL with its visit totals.
    let store = kurz.store().await;
    let id = store
        .get_url(&kurz::domain::Slug::for_lookup("launch").unwrap())
        .await
        .unwrap()
        .id;
    store
        .record_visits(&[
            visit(id, Utc::now() - Duration::minutes(5), false),
            visit(id, Utc::now() - Duration::minutes(4), true),
            visit(id, noon(days_ago(40)), false),
        ])
        .await
        .unwrap();
    let shown = kurz.json(&["url", "show", "launch"]);
    assert_eq!(shown["slug"], "launch");
    assert_eq!(shown["short_url"], "https://sho.rt/launch");
    assert_eq!(shown["qr_url"], "https://sho.rt/launch/qr");
    assert_eq!(shown["title"], "Spring launch");
    assert_eq!(shown["crawlable"], true);
    assert_eq!(shown["visit_count"], 3);
    assert_eq!(
        shown["created_by"],
        serde_json::Value::Null,
        "made by the CLI"
    );
    assert_eq!(shown["recent"]["visits"], 2, "the last 30 days: {shown}");
    assert_eq!(shown["recent"]["bot_visits"], 1);
    let human = kurz.ok(&["url", "show", "launch"]);
    assert!(human.contains("visits        3\n"), "{human}");
    assert!(
        human.contains("qr code       https://sho.rt/launch/qr\n"),
        "{human}"
    );
    assert!(
        human.contains("last 30 days  2 visits (1 by bots)"),
        "{human}"
    );

    // Update: changes what it names, checks it as the API does.
    let updated = kurz.json(&[
        "url",
        "update",
        "launch",
        "--url",
        "https://example.com/summer",
        "--no-title",
    ]);
    assert_eq!(updated["url"], "https://example.com/summer");
    assert_eq!(updated["title"], Value::Null);
    assert_eq!(updated["crawlable"], true, "left as it was");
    let text = kurz.ok(&["url", "update", "launch", "--crawlable", "false"]);
    assert!(text.starts_with("updated "), "{text}");
    assert!(text.contains("crawlable    no"), "{text}");
    assert!(text.contains("https://example.com/summer"), "{text}");
    let error = kurz.fails(&["url", "update", "launch", "--url", "ftp://x.example"], 2);
    assert!(error.starts_with("kurz: url: "), "{error}");
    assert_eq!(
        kurz.json(&["url", "update", "launch", "--redirect-status", "308"])["redirect_status"],
        308
    );
    let text = kurz.ok(&["url", "show", "launch"]);
    assert!(text.contains("redirect      308"), "{text}");
    assert_eq!(
        kurz.json(&["url", "update", "launch", "--default-redirect-status"])["redirect_status"],
        Value::Null
    );
    let error = kurz.fails(&["url", "update", "launch", "--redirect-status", "303"], 2);
    assert!(error.starts_with("kurz: redirect_status: "), "{error}");
    let capped = kurz.json(&[
        "url",
        "update",
        "launch",
        "--max-visits",
        "5",
        "--valid-until",
        "2030-06-01T00:00:00Z",
    ]);
    assert_eq!(
        (
            capped["max_visits"].as_i64(),
            capped["visits_left"].as_i64()
        ),
        (Some(5), Some(3))
    );
    let text = kurz.ok(&["url", "show", "launch"]);
    assert!(text.contains("max visits    5 (3 left)"), "{text}");
    assert!(
        text.contains("valid until   2030-06-01 00:00:00 UTC"),
        "{text}"
    );
    let cleared = kurz.json(&[
        "url",
        "update",
        "launch",
        "--no-max-visits",
        "--no-valid-until",
    ]);
    assert!(cleared["max_visits"].is_null() && cleared["valid_until"].is_null());
    let error = kurz.fails(&["url", "update", "launch", "--max-visits", "0"], 2);
    assert!(error.starts_with("kurz: max_visits: "), "{error}");
    let error = kurz.fails(
        &[
            "url",
            "update",
            "launch",
            "--valid-since",
            "2031-01-01T00:00:00Z",
            "--valid-until",
            "2030-01-01T00:00:00Z",
        ],
        2,
    );
    assert!(error.starts_with("kurz: valid_until: "), "{error}");
    let error = kurz.fails(&["url", "update", "launch", "--valid-until", "soon"], 2);
    assert!(error.contains("--valid-until"), "{error}");
    let ruled = kurz.json(&[
        "url",
        "update",
        "launch",
        "--forward-query",
        "true",
        "--rules",
        r#"[{"target":"https://example.com/app","conditions":[{"type":"device","value":"ios"},{"type":"language","value":"de"}]}]"#,
    ]);
    assert_eq!(ruled["forward_query"], true);
    assert_eq!(ruled["rules"][0]["target"], "https://example.com/app");
    let text = kurz.ok(&["url", "show", "launch"]);
    assert!(
        text.contains("rules         0. https://example.com/app if device=ios, language=de\n"),
        "{text}"
    );
    assert!(text.contains("query         forwarded\n"), "{text}");
    let error = kurz.fails(
        &["url", "update", "launch", "--rules", r#"[{"target":"https://example.com/","conditions":[{"type":"device","value":"fridge"}]}]"#],
        2,
    );
    assert!(
        error.starts_with("kurz: rules[0].conditions[0].value: "),
        "{error}"
    );
    let error = kurz.fails(&["url", "update", "launch", "--rules", "device=ios"], 2);
    assert!(error.contains("not a JSON array of rules"), "{error}");
    assert_eq!(
        kurz.json(&["url", "update", "launch", "--no-rules"])["rules"],
        serde_json::json!([])
    );
    let error = kurz.fails(&["url", "update", "launch"], 2);
    assert!(
        error.contains("--url"),
        "nothing to change is a usage error: {error}"
    );
    let error = kurz.fails(&["url", "update", "nope", "--title", "x"], 1);
    assert_eq!(error, "kurz: no URL has the slug 'nope'\n");

    // Delete: refuses without a terminal to confirm on, unless --yes.
    let refused = kurz.fails(&["url", "delete", "launch"], 2);
    assert!(refused.contains("--yes"), "{refused}");
    assert_eq!(kurz.json(&["url", "show", "launch"])["slug"], "launch");
    let deleted = kurz.ok(&["url", "delete", "launch", "--yes"]);
    assert_eq!(deleted, "deleted launch and its 3 visits\n");
    let gone = kurz.fails(&["url", "show", "launch"], 1);
    assert_eq!(gone, "kurz: no URL has the slug 'launch'\n");
    let deleted = kurz.json(&["url", "delete", &generated_slug, "--yes"]);
    assert_eq!(deleted["deleted"]["slug"], generated_slug.as_str());
    assert!(slugs(&kurz.json(&["url", "list"])).is_empty());
    assert_eq!(kurz.ok(&["url", "list"]), "no URLs\n");
}

async fn search_finds_slug_then_host_prefixes(backend: Backend) {
    let kurz = Kurz::new(backend).await;
    for (slug, target) in [
        ("launch", "https://news.example.com/a"),
        ("launchpad", "https://shop.example.org/"),
        ("lunch", "https://launch.example.net/menu"),
        ("other", "https://other.example/"),
    ] {
        kurz.ok(&["url", "create", target, "--slug", slug]);
    }
    let found = kurz.json(&["url", "list", "--search", "launch"]);
    assert_eq!(slugs(&found), ["launch", "launchpad", "lunch"]);
    assert_eq!(found["next_cursor"], Value::Null);
    let found = kurz.json(&["url", "list", "--search", "NEWS"]);
    assert_eq!(slugs(&found), ["launch"]);
    let limited = kurz.json(&["url", "list", "--search", "launch", "--limit", "2"]);
    assert_eq!(slugs(&limited), ["launch", "launchpad"]);
    let table = kurz.ok(&["url", "list", "-s", "oth"]);
    assert!(
        table.lines().nth(1).unwrap().starts_with("other "),
        "{table}"
    );
    assert_eq!(
        kurz.ok(&["url", "list", "--search", "zzz"]),
        "no URL matches\n"
    );
}

async fn failures_have_one_line_and_an_exit_code(backend: Backend) {
    let kurz = Kurz::new(backend).await;
    kurz.ok(&["url", "create", "https://example.com/", "--slug", "taken"]);
    // Wrong input: exit code 2, the field and the reason.
    let error = kurz.fails(&["url", "create", "javascript:alert(1)"], 2);
    assert_eq!(
        error,
        "kurz: url: scheme `javascript` is not allowed (only http and https)\n"
    );
    let error = kurz.fails(
        &["url", "create", "https://example.com/", "--slug", "API"],
        2,
    );
    assert_eq!(error, "kurz: slug: `API` is reserved\n");
    kurz.fails(
        &["url", "create", "https://example.com/", "--slug", "a b"],
        2,
    );
    kurz.fails(
        &[
            "url",
            "create",
            "https://example.com/",
            "--title",
            "a\u{7}b",
        ],
        2,
    );
    kurz.fails(&["url", "list", "--cursor", "garbage"], 2);
    kurz.fails(&["url", "list", "--limit", "0"], 2);
    kurz.fails(&["url", "list", "--search", "a", "--cursor", "azE6Mg"], 2);
    kurz.fails(&["visits", "prune", "--before", "2026-02-30", "--yes"], 2);
    let tomorrow = (Utc::now().date_naive() + Days::new(1)).to_string();
    let error = kurz.fails(&["visits", "prune", "--before", &tomorrow, "--yes"], 2);
    assert!(error.contains("in the future"), "{error}");
    kurz.fails(&["import", "missing.csv"], 2);
    kurz.fails(&["import", "urls.txt"], 2);
    kurz.fails(&["url", "frobnicate"], 2);
    // Failed operations: exit code 1.
    let error = kurz.fails(
        &["url", "create", "https://example.org/", "--slug", "taken"],
        1,
    );
    assert_eq!(error, "kurz: the slug 'taken' is already taken\n");
    let error = kurz.fails(&["url", "show", "nope"], 1);
    assert_eq!(error, "kurz: no URL has the slug 'nope'\n");
    kurz.fails(&["url", "delete", "nope", "--yes"], 1);
    kurz.fails(&["url", "show", "not/a/slug"], 1);
    // An unreachable database is a failure too, named as such.
    let unreachable = Kurz::new(Backend::Sqlite)
        .await
        .with_env("DATABASE_URL", "postgres://kurz@127.0.0.1:1/kurz")
        .with_env("KURZ__DATABASE__ACQUIRE_TIMEOUT_SECS", "1");
    let error = unreachable.fails(&["url", "list"], 1);
    assert!(
        error.starts_with("kurz: cannot open the database"),
        "{error}"
    );
}

async fn migrate_status_lists_pending_then_applied(backend: Backend) {
    let kurz = Kurz::new(backend).await;
    let status = kurz.ok(&["migrate", "--status"]);
    let lines: Vec<&str> = status.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["VERSION", "DESCRIPTION", "STATE", "APPLIED", "ON"]
    );
    assert_eq!(
        lines[1].split_whitespace().collect::<Vec<_>>(),
        [
            "20261126000001",
            "create",
            "urls",
            "and",
            "visits",
            "pending",
            "-"
        ]
    );
    assert!(
        status.contains("pending: `kurz migrate` applies them"),
        "{status}"
    );
    let pending = kurz.json(&["migrate", "--status"]);
    assert_eq!(pending["backend"], format!("{backend:?}").to_lowercase());
    let migrations = pending["migrations"].as_array().unwrap();
    assert!(migrations.len() >= 2);
    assert!(migrations
        .iter()
        .all(|m| m["state"] == "pending" && m["applied_on"].is_null()));

    let applied = kurz.ok(&["migrate"]);
    assert!(
        applied.starts_with(&format!("applied {} migrations", migrations.len())),
        "{applied}"
    );
    assert!(
        applied.contains("20261126000002 visit rollups"),
        "{applied}"
    );
    let again = kurz.ok(&["migrate"]);
    assert!(again.starts_with("nothing to apply"), "{again}");

    let status = kurz.json(&["migrate", "--status"]);
    for m in status["migrations"].as_array().unwrap() {
        assert_eq!(m["state"], "applied", "{m}");
        let on: DateTime<Utc> = m["applied_on"].as_str().unwrap().parse().unwrap();
        assert!((Utc::now() - on).num_minutes().abs() < 5, "{on}");
    }
    let table = kurz.ok(&["migrate", "--status"]);
    assert!(table.contains("applied"), "{table}");
    assert!(table.ends_with("the database is up to date\n"), "{table}");
}

async fn check_config_shows_sources_and_masks_secrets(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    // A URL with a password: the backend's own for PostgreSQL (check-config opens nothing).
    let (url, shown) = match backend {
        Backend::Postgres => {
            let mut url = url::Url::parse(&database.url).unwrap();
            url.set_password(Some("hunter2")).unwrap();
            let mut masked = url.clone();
            masked.set_password(Some("********")).unwrap();
            (url.to_string(), masked.to_string())
        }
        Backend::Sqlite => (database.url.clone(), database.url.clone()),
    };
    let kurz = Kurz {
        database,
        dir: tempfile::tempdir().unwrap(),
        env: Vec::new(),
    }
    .with_env("DATABASE_URL", &url)
    .with_env("KURZ__SERVER__PORT", "9123")
    .with_env("RUST_LOG", "warn,kurz=trace");
    let table = kurz.ok(&["check-config"]);
    assert!(!table.contains("hunter2"), "{table}");
    let row = |key: &str| {
        table
            .lines()
            .find(|line| line.split_whitespace().next() == Some(key))
            .unwrap_or_else(|| panic!("no {key} in {table}"))
            .split_whitespace()
            .skip(1)
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(row("server.port"), "KURZ__SERVER__PORT 9123");
    assert_eq!(row("server.host"), "config/default.toml \"127.0.0.1\"");
    assert_eq!(row("explorer.enabled"), "config/development.toml true");
    assert_eq!(row("log.filter"), "RUST_LOG \"warn,kurz=trace\"");
    assert_eq!(
        row("auth.allow_anonymous"),
        "config/development.toml true",
        "a switch, not a secret"
    );
    assert_eq!(
        row("environment"),
        "default (KURZ_ENV not set) \"development\""
    );
    assert_eq!(row("database.url"), format!("DATABASE_URL \"{shown}\""));
    assert!(table.contains("configuration is valid"), "{table}");
    assert!(
        table.contains("short links: http://127.0.0.1:9123/<slug>"),
        "{table}"
    );

    let report = kurz.json(&["check-config"]);
    assert_eq!(report["valid"], true);
    let settings = report["settings"].as_array().unwrap();
    let entry = |key: &str| {
        settings
            .iter()
            .find(|e| e["key"] == key)
            .unwrap_or_else(|| panic!("no {key}"))
    };
    assert_eq!(entry("server.port")["value"], 9123);
    assert_eq!(entry("server.port")["source"], "KURZ__SERVER__PORT");
    assert_eq!(entry("database.url")["value"], shown.as_str());
    assert_eq!(report["database"], shown.as_str());
    assert!(!report.to_string().contains("hunter2"));
    // Every key of the configuration is listed.
    for key in [
        "slug.reserved",
        "visits.write_parallelism",
        "log.filter",
        "cache.ttl_secs",
    ] {
        entry(key);
    }

    // An invalid value: the table still says where it came from, and the error ends it (2).
    let invalid = kurz.with_env("KURZ__SERVER__PORT", "eighty");
    let run = invalid.run(&["check-config"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stdout.contains("KURZ__SERVER__PORT"), "{run:?}");
    assert!(!run.stdout.contains("configuration is valid"), "{run:?}");
    assert!(
        run.stderr.starts_with("kurz: configuration error:"),
        "{run:?}"
    );
    assert!(run.stderr.contains("SERVER.PORT"), "{run:?}");
    // The other commands refuse to start on it, with the same exit code.
    invalid.fails(&["url", "list"], 2);
}

async fn prune_deletes_old_visits_and_keeps_counts(backend: Backend) {
    let kurz = Kurz::new(backend).await;
    let a = kurz.json(&["url", "create", "https://example.com/a", "--slug", "a"]);
    kurz.ok(&["url", "create", "https://example.com/b", "--slug", "b"]);
    let store = kurz.store().await;
    let slug = |s: &str| kurz::domain::Slug::for_lookup(s).unwrap();
    let a_id = store.get_url(&slug("a")).await.unwrap().id;
    let b_id = store.get_url(&slug("b")).await.unwrap().id;
    assert_eq!(a["visit_count"], 0);
    let cut = days_ago(20);
    let last_before = cut.and_hms_opt(0, 0, 0).unwrap().and_utc() - Duration::milliseconds(1);
    store
        .record_visits(&[
            visit(a_id, noon(days_ago(40)), false),
            visit(a_id, noon(days_ago(35)), true),
            visit(b_id, last_before, false),
            visit(a_id, cut.and_hms_opt(0, 0, 0).unwrap().and_utc(), false),
            visit(a_id, noon(days_ago(10)), false),
            visit(b_id, noon(days_ago(1)), true),
        ])
        .await
        .unwrap();
    assert_eq!(kurz.json(&["url", "show", "a"])["visit_count"], 4);
    let orphan = |path: &str, visited_at| kurz::store::NewOrphanVisit {
        kind: kurz::domain::OrphanKind::InvalidSlug,
        path: path.into(),
        visited_at,
        client_ip: None,
        user_agent: None,
        referrer: None,
        referrer_host: None,
        browser: None,
        os: None,
        device: None,
        is_bot: true,
        location: Default::default(),
    };
    store
        .record_orphan_visits(&[
            orphan("/old", last_before),
            orphan("/new", noon(days_ago(1))),
        ])
        .await
        .unwrap();

    // Without a terminal, nothing happens without --yes.
    kurz.fails(&["visits", "prune", "--before", &cut.to_string()], 2);
    assert_eq!(kurz.json(&["url", "show", "a"])["visit_count"], 4);

    let pruned = kurz.json(&[
        "visits",
        "prune",
        "--before",
        &cut.to_string(),
        "--batch",
        "2",
        "--yes",
    ]);
    assert_eq!(pruned["deleted_visits"], 3);
    assert_eq!(pruned["deleted_orphan_visits"], 1);
    // Two of visits, one of orphan visits.
    assert_eq!(pruned["batches"], 3);
    assert!(pruned["deleted_rollup_rows"].as_u64().unwrap() >= 3);

    // Later visits are kept; counts and statistics agree with them.
    let left = store
        .list_visits(
            VisitFilter::default(),
            PageRequest {
                after: None,
                limit: 100,
            },
        )
        .await
        .unwrap();
    assert_eq!(left.items.len(), 3);
    let cut_time = cut.and_hms_opt(0, 0, 0).unwrap().and_utc();
    assert!(left.items.iter().all(|v| v.visited_at >= cut_time));
    let shown_a = kurz.json(&["url", "show", "a"]);
    assert_eq!(shown_a["visit_count"], 2);
    assert_eq!(shown_a["recent"]["visits"], 2);
    let shown_b = kurz.json(&["url", "show", "b"]);
    assert_eq!(shown_b["visit_count"], 1);
    assert_eq!(shown_b["recent"]["bot_visits"], 1);
    for (id, expected) in [(a_id, 2), (b_id, 1)] {
        let stats = store
            .url_stats(StatsQuery {
                of: StatsOf::Url(id),
                from: days_ago(60),
                to: days_ago(0),
                include_bots: true,
                top: 10,
            })
            .await
            .unwrap();
        assert_eq!(stats.visits, expected);
        assert!(stats
            .days
            .iter()
            .filter(|d| d.day < cut)
            .all(|d| d.visits == 0));
    }

    // Again: nothing left before the cut.
    let again = kurz.ok(&["visits", "prune", "--before", &cut.to_string(), "--yes"]);
    assert!(
        again.starts_with("deleted 0 visits and 0 orphan visits made before"),
        "{again}"
    );
    assert_eq!(kurz.json(&["url", "show", "a"])["visit_count"], 2);
}

/// What a list says of each URL that an export carries.
fn portable(list: &Value) -> Vec<Value> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            serde_json::json!({
                "slug": u["slug"], "url": u["url"], "title": u["title"],
                "crawlable": u["crawlable"], "created_at": u["created_at"],
                "redirect_status": u["redirect_status"], "tags": u["tags"],
                "valid_since": u["valid_since"], "valid_until": u["valid_until"],
                "max_visits": u["max_visits"], "visits_left": u["visits_left"],
                "rules": u["rules"], "forward_query": u["forward_query"],
                "password_protected": u["password_protected"],
            })
        })
        .collect()
}

fn summary(run_stdout: &str) -> Value {
    serde_json::from_str(run_stdout).unwrap_or_else(|e| panic!("{e}: {run_stdout}"))
}

async fn export_then_import_round_trips(backend: Backend) {
    let source = Kurz::new(backend).await;
    // An empty database exports a header only.
    assert_eq!(
        source.ok(&["export"]),
        "slug,url,title,crawlable,created_at,visit_count,redirect_status,valid_since,\
         valid_until,max_visits,human_visits,forward_query,rules,tags,password_hash\n"
    );
    source.ok(&[
        "url",
        "create",
        "https://example.com/1",
        "--slug",
        "first",
        "--tag",
        "launch",
        "--tag",
        "q4",
    ]);
    source.ok(&[
        "url",
        "create",
        "https://example.com/2?a=1,b=\"2\"",
        "--slug",
        "second",
        "--title",
        "Commas, \"quotes\" and ünïcode",
        "--crawlable",
    ]);
    let password_file = source.path("password.txt");
    std::fs::write(&password_file, "kept through the export\n").unwrap();
    source.ok(&[
        "url",
        "create",
        "https://example.org/3",
        "--password-file",
        password_file.to_str().unwrap(),
        "--redirect-status",
        "301",
        "--valid-since",
        "2026-01-01T00:00:00Z",
        "--valid-until",
        "2036-01-01T12:30:00.5+02:00",
        "--max-visits",
        "7",
        "--forward-query",
        "true",
        "--rules",
        r#"[{"target":"https://example.com/ios","conditions":[{"type":"device","value":"ios"}]},
            {"target":"https://example.com/de","conditions":[{"type":"language","value":"de"},
             {"type":"query","value":"a=1,2"}]}]"#,
    ]);
    let original = source.json(&["url", "list"]);
    assert_eq!(original["items"][0]["forward_query"], true);
    assert_eq!(original["items"][0]["password_protected"], true);
    assert_eq!(
        original["items"][0]["rules"][1]["conditions"][1]["value"],
        "a=1,2"
    );
    assert_eq!(original["items"][0]["valid_since"], "2026-01-01T00:00:00Z");
    assert_eq!(
        original["items"][0]["valid_until"],
        "2036-01-01T10:30:00.500Z"
    );
    assert_eq!(original["items"][0]["visits_left"], 7);
    assert_eq!(original["items"][0]["redirect_status"], 301);
    assert_eq!(original["items"][1]["redirect_status"], Value::Null);

    let csv = source.path("urls.csv");
    let exported = source.ok(&["export", "--output", csv.to_str().unwrap()]);
    assert_eq!(exported, format!("exported 3 URLs to {}\n", csv.display()));
    let jsonl = source.run(&["export", "--format", "jsonl"]);
    assert_eq!(jsonl.code, 0, "{jsonl:?}");
    assert_eq!(jsonl.stderr, "exported 3 URLs\n");
    assert_eq!(jsonl.stdout.lines().count(), 3);
    let first: Value = serde_json::from_str(jsonl.stdout.lines().next().unwrap()).unwrap();
    assert_eq!(first["slug"], "first", "oldest first");
    assert_eq!(first["tags"], serde_json::json!(["launch", "q4"]));
    let csv_text = std::fs::read_to_string(&csv).unwrap();
    assert!(
        // Then the empty `password_hash` cell of a link without a password.
        csv_text.lines().nth(1).unwrap().ends_with(",launch q4,"),
        "{csv_text}"
    );
    let jsonl_file = source.path("urls.jsonl");
    std::fs::write(&jsonl_file, &jsonl.stdout).unwrap();

    for file in [&csv, &jsonl_file] {
        let target = Kurz::new(backend).await;
        let imported = summary(&target.ok(&["import", file.to_str().unwrap(), "--json"]));
        assert_eq!(imported["rows"], 3, "{imported}");
        assert_eq!(imported["created"], 3, "{imported}");
        assert_eq!(imported["skipped"], 0);
        assert_eq!(imported["invalid"], 0);
        let copy = target.json(&["url", "list"]);
        assert_eq!(portable(&copy), portable(&original), "{}", file.display());
        // The hash is carried as it was: the same password opens the copy.
        let slug = copy["items"][0]["slug"].as_str().unwrap();
        let hash = target.password_hash(slug).await.expect("a hash");
        assert!(hash.verify("kept through the export"));
        assert_eq!(
            Some(hash),
            source.password_hash(slug).await,
            "{}",
            file.display()
        );

        // Again: everything exists, nothing changes.
        let human = target.ok(&["import", file.to_str().unwrap()]);
        assert!(
            human.contains("3 rows read, 0 created, 3 skipped (slug existed), 0 invalid"),
            "{human}"
        );
        assert_eq!(
            portable(&target.json(&["url", "list"])),
            portable(&original)
        );
    }
}

async fn urls_are_tagged_listed_by_tag_and_imported_with_tags(backend: Backend) {
    let kurz = Kurz::new(backend).await;
    let created = kurz.json(&[
        "url",
        "create",
        "https://example.com/a",
        "--slug",
        "a",
        "--tag",
        "x",
        "--tag",
        "y",
    ]);
    assert_eq!(created["tags"], serde_json::json!(["x", "y"]));
    kurz.ok(&[
        "url",
        "create",
        "https://example.com/b",
        "--slug",
        "b",
        "--tag",
        "y",
    ]);
    let shown = kurz.ok(&["url", "show", "a"]);
    assert!(shown.contains("x y"), "{shown}");
    let slugs = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["url", "list"];
        all.extend_from_slice(args);
        kurz.json(&all)["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["slug"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(slugs(&["--tag", "y"]), ["b", "a"]);
    assert_eq!(slugs(&["--tag", "x", "--tag", "y", "--tags", "all"]), ["a"]);
    let updated = kurz.json(&["url", "update", "a", "--tag", "z"]);
    assert_eq!(updated["tags"], serde_json::json!(["z"]));
    let cleared = kurz.json(&["url", "update", "a", "--no-tags"]);
    assert_eq!(cleared["tags"], serde_json::json!([]));
    let bad = kurz.fails(
        &["url", "create", "https://example.com/c", "--tag", "Nope"],
        2,
    );
    assert!(bad.contains("tags[0]"), "{bad}");

    // CSV cells separated by spaces or `|`; JSON Lines arrays or strings; bad names reported.
    let csv = kurz.path("tagged.csv");
    std::fs::write(
        &csv,
        "url,slug,tags\nhttps://example.com/1,c1,p|q\nhttps://example.com/2,c2,r s\n\
         https://example.com/3,c3,BAD\n",
    )
    .unwrap();
    let run = kurz.run(&["import", csv.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("line 4: tags[0]"), "{run:?}");
    assert_eq!(
        kurz.json(&["url", "show", "c1"])["tags"],
        serde_json::json!(["p", "q"])
    );
    assert_eq!(
        kurz.json(&["url", "show", "c2"])["tags"],
        serde_json::json!(["r", "s"])
    );
    let jsonl = kurz.path("tagged.jsonl");
    std::fs::write(
        &jsonl,
        "{\"url\":\"https://example.com/4\",\"slug\":\"j1\",\"tags\":[\"u\",\"v\"]}\n\
         {\"url\":\"https://example.com/5\",\"slug\":\"j2\",\"tags\":\"w|u\"}\n",
    )
    .unwrap();
    kurz.ok(&["import", jsonl.to_str().unwrap()]);
    assert_eq!(
        kurz.json(&["url", "show", "j2"])["tags"],
        serde_json::json!(["u", "w"])
    );
}

async fn healthcheck_asks_the_running_server(backend: Backend) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let kurz = Kurz::new(backend)
        .await
        .with_env("KURZ__SERVER__PORT", &port);
    let down = kurz.fails(&["healthcheck"], 1);
    assert!(down.starts_with("kurz: "), "{down}");

    let mut server = kurz
        .command(&[])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut answered = kurz.run(&["healthcheck", "--ready"]);
    for _ in 0..100 {
        if answered.code == 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        answered = kurz.run(&["healthcheck", "--ready"]);
    }
    assert_eq!(
        answered.stdout, "ok: /readyz answered 200\n",
        "{answered:?}"
    );
    let live = kurz.json(&["healthcheck"]);
    assert_eq!(
        live,
        serde_json::json!({ "endpoint": "/healthz", "status": 200 })
    );
    server.kill().unwrap();
    server.wait().unwrap();
}

async fn import_counts_the_lines_of_windows_files(backend: Backend) {
    let kurz = Kurz::new(backend).await;
    let csv = kurz.path("excel.csv");
    let content = "\u{feff}url,slug\r\nhttps://example.com/1,api\r\nhttps://example.com/2,fine\r\n\
                   https://example.com/3,healthz\r\n";
    std::fs::write(&csv, content).unwrap();
    let run = kurz.run(&["import", csv.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{run:?}");
    for expected in [
        "line 2: slug: `api` is reserved\n",
        "line 4: slug: `healthz` is reserved\n",
    ] {
        assert!(
            run.stderr.contains(expected),
            "{expected:?} in {}",
            run.stderr
        );
    }
    assert!(run.stdout.contains("3 rows read, 1 created"), "{run:?}");
}

async fn import_reports_bad_rows_and_imports_good_ones(backend: Backend) {
    let kurz = Kurz::new(backend).await;
    kurz.ok(&[
        "url",
        "create",
        "https://example.com/old",
        "--slug",
        "exists",
    ]);
    let csv = kurz.path("mixed.csv");
    let mut content = String::from("url,slug,title,crawlable,created_at,extra\n");
    content.push_str("https://example.com/good,good,Good,true,2020-01-02T03:04:05Z,x\n"); // 2
    content.push_str("https://example.com/reserved,api,,,,\n"); // 3
    content.push_str("javascript:alert(1),bad-url,,,,\n"); // 4
    content.push_str("https://example.com/new,exists,,,,\n"); // 5: skipped
    content.push_str("https://example.com/generated,,,,,\n"); // 6: gets a slug
    content.push_str("https://example.com/maybe,maybe,,perhaps,,\n"); // 7
    content.push_str("\"https://example.com/multi\nline\",multi,,,,\n"); // 8-9
    content.push_str("https://example.com/late,late,,,not a time,\n"); // 10
    std::fs::write(&csv, content).unwrap();

    let run = kurz.run(&["import", csv.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{run:?}");
    for expected in [
        "line 3: slug: `api` is reserved\n",
        "line 4: url: scheme `javascript` is not allowed (only http and https)\n",
        "line 7: crawlable: `perhaps` is not true or false\n",
        "line 8: url: must not contain whitespace or control characters\n",
        "line 10: created_at: `not a time` is not an RFC 3339 time",
        "kurz: 4 of 8 rows were invalid",
    ] {
        assert!(
            run.stderr.contains(expected),
            "{expected:?} in {}",
            run.stderr
        );
    }
    assert!(
        run.stdout.starts_with(&format!(
            "imported {}: 8 rows read, 3 created, 1 skipped (slug existed), 4 invalid\n",
            csv.display()
        )),
        "{run:?}"
    );
    assert!(
        run.stderr
            .contains("note: 1 row without a slug got a generated one"),
        "notes go to stderr: {run:?}"
    );
    assert_eq!(
        run.stdout.lines().count(),
        1,
        "stdout holds the result alone: {run:?}"
    );

    let good = kurz.json(&["url", "show", "good"]);
    assert_eq!(good["title"], "Good");
    assert_eq!(good["crawlable"], true);
    assert_eq!(good["created_at"], "2020-01-02T03:04:05Z");
    assert_eq!(
        kurz.json(&["url", "show", "exists"])["url"],
        "https://example.com/old"
    );
    kurz.json(&["url", "show", "late"]);
    let generated = kurz.json(&["url", "list", "--search", "example.com"]);
    assert!(
        generated["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["url"] == "https://example.com/generated"
                && u["slug"].as_str().unwrap().len() == 7),
        "{generated}"
    );

    // JSON Lines: a broken line and a line that is not an object, among good ones.
    let jsonl = kurz.path("mixed.jsonl");
    std::fs::write(
        &jsonl,
        "{\"slug\":\"j1\",\"url\":\"https://example.net/1\",\"visit_count\":5}\n\
         \n\
         {\"slug\":\"j2\",\"url\":\n\
         [1,2]\n\
         {\"slug\":\"j3\",\"url\":\"https://example.net/3\",\"crawlable\":true,\"title\":null}\n\
         {\"slug\":\"j4\"}\n",
    )
    .unwrap();
    let run = kurz.run(&["import", jsonl.to_str().unwrap(), "--json"]);
    assert_eq!(run.code, 2, "{run:?}");
    let report = summary(&run.stdout);
    assert_eq!(report["rows"], 5);
    assert_eq!(report["created"], 2);
    assert_eq!(report["invalid"], 3);
    let lines: Vec<u64> = report["invalid_rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [3, 4, 6]);
    assert!(
        run.stderr.contains("line 6: url: must not be empty"),
        "{run:?}"
    );
    assert_eq!(kurz.json(&["url", "show", "j3"])["crawlable"], true);

    // A CSV file without a url column is refused before anything is read.
    let headerless = kurz.path("nourl.csv");
    std::fs::write(&headerless, "slug,target\na,https://example.com/\n").unwrap();
    let error = kurz.fails(&["import", headerless.to_str().unwrap()], 2);
    assert!(error.contains("no `url` column"), "{error}");
    // stdin works with an explicit format.
    let mut child = kurz
        .command(&["import", "-", "--format", "csv"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"slug,url\npiped,https://example.com/piped\n")
        .unwrap();
    assert!(child.wait_with_output().unwrap().status.success());
    kurz.json(&["url", "show", "piped"]);
}

/// `url create` and `import` apply the server's target rules: the same configuration, the
/// same public URL, the same reasons.
async fn commands_apply_the_target_rules(backend: Backend) {
    let kurz = Kurz::new(backend)
        .await
        .with_env("KURZ__SERVER__PUBLIC_URL", "https://sho.rt/")
        .with_env("KURZ__TARGET__DENY_HOSTS", r#"["denied.example"]"#);
    for (target, rule) in [
        ("http://127.0.0.1:8080/", "loopback"),
        ("http://2130706433/", "loopback"),
        ("http://[::1]/", "loopback"),
        ("http://localhost/", "local name"),
        ("http://intranet/", "domain name"),
        ("https://www.denied.example/", "deny list"),
        ("https://sho.rt/launch", "own host"),
    ] {
        let error = kurz.fails(&["url", "create", target], 2);
        assert!(
            error.starts_with("kurz: url: ") && error.contains(rule),
            "{target}: {error}"
        );
    }
    kurz.ok(&["url", "create", "https://recipes.example/", "--slug", "ok"]);

    let csv = kurz.path("targets.csv");
    std::fs::write(
        &csv,
        "url,slug\nhttps://example.com/fine,fine\nhttp://10.1.2.3/,private\n\
         https://denied.example/,denied\nhttps://sho.rt/fine,loop\n",
    )
    .unwrap();
    let run = kurz.run(&["import", csv.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{run:?}");
    for expected in [
        "line 3: url: ",
        "line 4: url: ",
        "line 5: url: ",
        "kurz: 3 of 4 rows",
    ] {
        assert!(
            run.stderr.contains(expected),
            "{expected:?} in {}",
            run.stderr
        );
    }
    kurz.json(&["url", "show", "fine"]);

    // With allow_private, a private target is accepted.
    let allowing = Kurz::new(backend)
        .await
        .with_env("KURZ__TARGET__ALLOW_PRIVATE", "true");
    allowing.ok(&["url", "create", "http://10.1.2.3/", "--slug", "lan"]);
}

/// A server on the same database, with anonymous use off (as in production); stops when the
/// sender is dropped.
async fn serve(kurz: &Kurz) -> (String, tokio::sync::oneshot::Sender<()>) {
    serve_with(kurz, |_| {}).await
}

async fn serve_with(
    kurz: &Kurz,
    configure: impl FnOnce(&mut Settings),
) -> (String, tokio::sync::oneshot::Sender<()>) {
    let mut settings = Settings::defaults(Environment::Development).unwrap();
    settings.database.url = kurz.database.url.clone();
    settings.server.port = 0;
    settings.auth.allow_anonymous = false;
    configure(&mut settings);
    let app = kurz::startup::Application::build(settings)
        .await
        .expect("kurz starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    (address, stop)
}

async fn api_keys_are_created_listed_and_revoked(backend: Backend) {
    let kurz = Kurz::new(backend).await;
    let created = kurz.ok(&["apikey", "create", "--role", "editor", "--name", "ci bot"]);
    // The key alone on the last line, for `tail -n1`.
    let key = created.lines().last().expect("output").to_owned();
    assert!(
        key.starts_with("kurz_") && key.len() == 45 && !key.contains(' '),
        "{created}"
    );
    assert!(
        created.starts_with("created API key 1 (editor, \"ci bot\")\n"),
        "{created}"
    );

    let (server, _stop) = serve(&kurz).await;
    let client = reqwest::Client::new();
    let list = |key: Option<String>| {
        let mut request = client.get(format!("{server}/api/urls"));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        request.send()
    };
    assert_eq!(list(None).await.unwrap().status(), 401);
    assert_eq!(list(Some(key.clone())).await.unwrap().status(), 200);
    let create = client
        .post(format!("{server}/api/urls"))
        .header("x-api-key", &key)
        .json(&serde_json::json!({ "url": "https://example.com/ci" }))
        .send()
        .await
        .unwrap();
    assert_eq!(create.status(), 201);

    let viewer = kurz.json(&["apikey", "create", "--role", "viewer"]);
    assert_eq!(viewer["role"], "viewer");
    assert_eq!(viewer["id"], 2);
    let viewer_key = viewer["key"].as_str().unwrap();
    assert!(viewer_key.starts_with(viewer["prefix"].as_str().unwrap()));

    let table = kurz.ok(&["apikey", "list"]);
    let prefix = &key[..13];
    assert!(table.starts_with("ID  PREFIX"), "{table}");
    assert!(
        table.contains(prefix) && table.contains("ci bot"),
        "{table}"
    );
    assert!(
        !table.contains(&key) && !table.contains(viewer_key),
        "keys are never listed"
    );
    let listed = kurz.json(&["apikey", "list"]);
    assert_eq!(listed["items"].as_array().unwrap().len(), 2);
    assert_eq!(listed["items"][0]["prefix"], prefix);
    assert_eq!(listed["items"][0]["revoked_at"], Value::Null);
    assert!(listed["items"][0].get("key").is_none());

    // Revoking asks first, so without a terminal it needs --yes.
    kurz.fails(&["apikey", "revoke", prefix], 2);
    let revoked = kurz.ok(&["apikey", "revoke", prefix, "--yes"]);
    assert_eq!(revoked, format!("revoked API key 1 ({prefix})\n"));
    assert_eq!(list(Some(key.clone())).await.unwrap().status(), 401);
    let again = kurz.fails(&["apikey", "revoke", "1", "--yes"], 1);
    assert!(again.contains("revoked already"), "{again}");
    let listed = kurz.json(&["apikey", "list"]);
    assert!(listed["items"][0]["revoked_at"].is_string());
    let by_id = kurz.json(&["apikey", "revoke", "2", "--yes"]);
    assert_eq!(by_id["revoked"]["id"], 2);

    kurz.fails(&["apikey", "create", "--role", "root"], 2);
    kurz.fails(&["apikey", "revoke", "kurz_nothing", "--yes"], 1);
}

/// `kurz apikey yourls-token` prints the token a server with the same secret accepts as a
/// YOURLS signature; without a secret it says what to set.
async fn yourls_tokens_are_printed_for_active_keys(backend: Backend) {
    const SECRET: &str = "cli-test-secret-of-at-least-32-chars";
    let plain = Kurz::new(backend).await;
    let key = plain.ok(&["apikey", "create", "--role", "editor"]);
    let prefix = &key.lines().last().unwrap()[..13];
    let unset = plain.fails(&["apikey", "yourls-token", prefix], 2);
    assert!(unset.contains("compat.yourls.secret"), "{unset}");

    let kurz = plain.with_env("KURZ__COMPAT__YOURLS__SECRET", SECRET);
    let token = kurz.ok(&["apikey", "yourls-token", prefix]);
    let token = token.trim_end();
    assert!(
        token.len() == 32 && token.chars().all(|c| c.is_ascii_hexdigit()),
        "{token}"
    );
    let json = kurz.json(&["apikey", "yourls-token", "1"]);
    assert_eq!(
        (json["id"].as_i64(), json["yourls_token"].as_str()),
        (Some(1), Some(token))
    );

    let (server, _stop) = serve_with(&kurz, |s| s.compat.yourls.secret = SECRET.into()).await;
    let version = |signature: String| {
        reqwest::Client::new()
            .get(format!("{server}/yourls-api.php"))
            .query(&[
                ("action", "version"),
                ("format", "json"),
                ("signature", &signature),
            ])
            .send()
    };
    assert_eq!(version(token.to_owned()).await.unwrap().status(), 200);
    kurz.ok(&["apikey", "revoke", "1", "--yes"]);
    assert_eq!(version(token.to_owned()).await.unwrap().status(), 403);
    let revoked = kurz.fails(&["apikey", "yourls-token", "1"], 1);
    assert!(revoked.contains("revoked"), "{revoked}");
}

/// An import keeps validity windows and how much of a cap was used; bad cells are named.
async fn imports_keep_windows_and_used_caps(backend: Backend) {
    let kurz = Kurz::new(backend).await;
    let csv = kurz.path("windows.csv");
    std::fs::write(
        &csv,
        "slug,url,valid_since,valid_until,max_visits,human_visits\n\
         used,https://example.com/u,,,2,2\n\
         win,https://example.com/w,2026-01-01T00:00:00Z,2027-01-01T00:00:00Z,,\n\
         zero,https://example.com/z,,,0,\n\
         neg,https://example.com/n,,,3,-1\n\
         back,https://example.com/b,2027-01-01T00:00:00Z,2026-01-01T00:00:00Z,,\n\
         when,https://example.com/t,yesterday,,,\n",
    )
    .unwrap();
    let run = kurz.run(&["import", csv.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{run:?}");
    for expected in [
        "line 4: max_visits: must be at least 1",
        "line 5: human_visits: `-1` is negative",
        "line 6: valid_until: must be after valid_since",
        "line 7: valid_since: `yesterday` is not an RFC 3339 time",
    ] {
        assert!(
            run.stderr.contains(expected),
            "{expected:?} in {}",
            run.stderr
        );
    }
    let used = kurz.json(&["url", "show", "used"]);
    assert_eq!(
        (used["max_visits"].as_i64(), used["visits_left"].as_i64()),
        (Some(2), Some(0))
    );
    let win = kurz.json(&["url", "show", "win"]);
    assert_eq!(win["valid_since"], "2026-01-01T00:00:00Z");
    assert_eq!(win["valid_until"], "2027-01-01T00:00:00Z");
    assert_eq!(win["visits_left"], Value::Null);

    let jsonl = kurz.path("windows.jsonl");
    std::fs::write(
        &jsonl,
        "{\"slug\":\"j\",\"url\":\"https://example.net/\",\"max_visits\":3,\
         \"human_visits\":1,\"valid_until\":null}\n\
         {\"slug\":\"k\",\"url\":\"https://example.net/\",\"max_visits\":\"lots\"}\n",
    )
    .unwrap();
    let run = kurz.run(&["import", jsonl.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("line 2: max_visits: `lots` is not a whole number"),
        "{run:?}"
    );
    let j = kurz.json(&["url", "show", "j"]);
    assert_eq!(
        (j["visits_left"].as_i64(), j["valid_until"].is_null()),
        (Some(2), true)
    );
}

/// Passwords come from a file or stdin, never from an argument; `show` tells whether a link
/// has one; `update` changes or removes it; imports take only Argon2 hashes.
async fn link_passwords_come_from_a_file_or_stdin(backend: Backend) {
    let kurz = Kurz::new(backend).await;
    let file = kurz.path("password.txt");
    std::fs::write(&file, "  file secret \n").unwrap();
    let file = file.to_str().unwrap();
    let created = kurz.json(&[
        "url",
        "create",
        "https://example.com/a",
        "--slug",
        "a",
        "--password-file",
        file,
    ]);
    assert_eq!(created["password_protected"], true);
    assert!(created.get("password_hash").is_none(), "{created}");
    let hash = kurz.password_hash("a").await.unwrap();
    assert!(
        hash.verify("  file secret "),
        "one final newline dropped, nothing else"
    );
    let shown = kurz.ok(&["url", "show", "a"]);
    assert!(shown.contains("password      yes\n"), "{shown}");

    let run = kurz.run_with_stdin(
        &[
            "url",
            "create",
            "https://example.com/b",
            "--slug",
            "b",
            "--password-stdin",
        ],
        "stdin secret\n",
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("password     yes\n"), "{run:?}");
    assert!(kurz
        .password_hash("b")
        .await
        .unwrap()
        .verify("stdin secret"));

    // Refused: an empty password, a password on the command line, a crawlable protected link.
    let empty = kurz.fails(
        &["url", "create", "https://example.com/c", "--password-stdin"],
        2,
    );
    assert_eq!(empty, "kurz: password: must not be empty\n");
    let argument = kurz.fails(
        &["url", "create", "https://example.com/c", "--password", "x"],
        2,
    );
    assert!(argument.contains("--password"), "{argument}");
    let crawlable = kurz.fails(
        &[
            "url",
            "create",
            "https://example.com/c",
            "--crawlable",
            "--password-file",
            file,
        ],
        2,
    );
    assert!(crawlable.starts_with("kurz: crawlable: "), "{crawlable}");
    let missing = kurz.fails(
        &[
            "url",
            "create",
            "https://example.com/c",
            "--password-file",
            "nope",
        ],
        1,
    );
    assert!(
        missing.contains("cannot read the password file"),
        "{missing}"
    );

    // Update: a new password from stdin, then none.
    let run = kurz.run_with_stdin(
        &["url", "update", "a", "--password-stdin", "--json"],
        "new\n",
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(kurz.password_hash("a").await.unwrap().verify("new"));
    let removed = kurz.json(&["url", "update", "a", "--no-password"]);
    assert_eq!(removed["password_protected"], false);
    assert_eq!(kurz.password_hash("a").await, None);
    let both = kurz.fails(
        &[
            "url",
            "update",
            "a",
            "--no-password",
            "--password-file",
            file,
        ],
        2,
    );
    assert!(both.contains("--no-password"), "{both}");
    let shown = kurz.ok(&["url", "show", "a"]);
    assert!(shown.contains("password      no\n"), "{shown}");

    // Imports take a PHC Argon2 hash, and nothing else, in `password_hash`.
    let csv = kurz.path("hashes.csv");
    std::fs::write(
        &csv,
        format!(
            "url,slug,password_hash\nhttps://example.com/1,h1,\"{}\"\nhttps://example.com/2,h2,plain\n\
             https://example.com/3,h3,\n",
            hash.as_str()
        ),
    )
    .unwrap();
    let run = kurz.run(&["import", csv.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("line 3: password_hash: "), "{run:?}");
    assert!(run.stdout.contains("3 rows read, 2 created"), "{run:?}");
    assert!(kurz
        .password_hash("h1")
        .await
        .unwrap()
        .verify("  file secret "));
    assert_eq!(
        kurz.password_hash("h3").await,
        None,
        "a blank cell is no password"
    );
}

on_both_backends!(
    link_passwords_come_from_a_file_or_stdin,
    urls_are_tagged_listed_by_tag_and_imported_with_tags,
    api_keys_are_created_listed_and_revoked,
    yourls_tokens_are_printed_for_active_keys,
    commands_apply_the_target_rules,
    urls_are_created_listed_shown_and_deleted,
    search_finds_slug_then_host_prefixes,
    failures_have_one_line_and_an_exit_code,
    migrate_status_lists_pending_then_applied,
    check_config_shows_sources_and_masks_secrets,
    prune_deletes_old_visits_and_keeps_counts,
    export_then_import_round_trips,
    healthcheck_asks_the_running_server,
    import_counts_the_lines_of_windows_files,
    import_reports_bad_rows_and_imports_good_ones,
    imports_keep_windows_and_used_caps,
    visits_are_exported,
);

/// `kurz visits export` writes every visit (or a link's, or the orphan visits) newest first,
/// with the API's field names, in either format, to stdout or a file.
async fn visits_are_exported(backend: Backend) {
    let kurz = Kurz::new(backend).await;
    kurz.ok(&["url", "create", "https://example.com/a", "--slug", "a"]);
    kurz.ok(&["url", "create", "https://example.com/b", "--slug", "b"]);
    let store = kurz.store().await;
    let slug = |s: &str| kurz::domain::Slug::for_lookup(s).unwrap();
    let a_id = store.get_url(&slug("a")).await.unwrap().id;
    let b_id = store.get_url(&slug("b")).await.unwrap().id;
    let mut visits: Vec<NewVisit> = (0..1_203)
        .map(|i| {
            visit(
                if i % 3 == 0 { b_id } else { a_id },
                noon(days_ago(2)),
                i % 2 == 0,
            )
        })
        .collect();
    visits[0].rule = Some(1);
    visits[0].location = kurz::domain::Location {
        country: Some("DE".parse().unwrap()),
        region: Some("Land Berlin".into()),
        city: Some("Berlin".into()),
        latitude: Some(52.5244),
        longitude: Some(13.4105),
        timezone: Some("Europe/Berlin".into()),
    };
    store.record_visits(&visits).await.unwrap();
    store
        .record_orphan_visits(&[kurz::store::NewOrphanVisit {
            kind: kurz::domain::OrphanKind::Regular404,
            path: "/wp-login.php".into(),
            visited_at: noon(days_ago(1)),
            client_ip: None,
            user_agent: Some("scanner, \"quoted\"".into()),
            referrer: None,
            referrer_host: None,
            browser: None,
            os: None,
            device: Some("bot".into()),
            is_bot: true,
            location: Default::default(),
        }])
        .await
        .unwrap();

    // Every visit, JSON Lines on stdout, across several keyset pages, newest first.
    let out = kurz.ok(&["visits", "export", "--format", "jsonl"]);
    let rows: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 1_203);
    let ids: Vec<i64> = rows.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first");
    let oldest = rows.last().unwrap();
    assert_eq!(oldest["url"], "b");
    assert_eq!(oldest["rule"], 1);
    assert_eq!(oldest["is_bot"], true);
    assert_eq!(oldest["client_ip"], "203.0.113.7");
    assert_eq!(oldest["country"], "DE");
    assert_eq!(oldest["city"], "Berlin");
    assert_eq!(oldest["latitude"], 52.5244);
    assert_eq!(oldest["timezone"], "Europe/Berlin");
    assert!(rows[0]["country"].is_null(), "{}", rows[0]);

    // One link's, as CSV in a file; a summary says how many.
    let file = kurz.path("a.csv");
    let file = file.to_str().unwrap();
    let said = kurz.json(&["visits", "export", "--url", "a", "-o", file]);
    assert_eq!(said["exported"], 802);
    let csv = std::fs::read_to_string(file).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some(
            "id,url,visited_at,client_ip,user_agent,referrer,referrer_host,browser,os,device,\
             is_bot,rule,country,region,city,latitude,longitude,timezone"
        )
    );
    assert_eq!(lines.count(), 802);

    // Orphan visits, their own columns, quoting intact; a day range that holds none.
    let orphans = kurz.ok(&["visits", "export", "--orphans"]);
    let mut reader = csv::Reader::from_reader(orphans.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().take(3).collect::<Vec<_>>(),
        ["id", "type", "path"]
    );
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 1);
    assert_eq!(&records[0][1], "regular_404");
    assert_eq!(&records[0][5], "scanner, \"quoted\"");
    let today = days_ago(0).to_string();
    let none = kurz.ok(&["visits", "export", "--orphans", "--from", &today]);
    assert_eq!(none.lines().count(), 1, "the header only: {none}");

    // Mistakes are named.
    let err = kurz.fails(&["visits", "export", "--url", "nope"], 1);
    assert!(err.contains("url"), "{err}");
    let err = kurz.fails(&["visits", "export", "--from", "yesterday"], 2);
    assert!(err.contains("from"), "{err}");
}

/// Without a terminal on stderr, a long import says how far it is every 100 000 rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_imports_report_progress_in_plain_lines() {
    let kurz = Kurz::new(Backend::Sqlite).await;
    let file = kurz.path("big.jsonl");
    let mut content = String::with_capacity(12_000_000);
    for i in 0..200_001 {
        content.push_str(&format!(
            "{{\"slug\":\"s{i}\",\"url\":\"https://example.com/{i}\"}}\n"
        ));
    }
    std::fs::write(&file, content).unwrap();
    let run = kurz.run(&["import", file.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let progress: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(
        progress,
        [
            "import: 100000 rows read: 100000 created, 0 skipped, 0 invalid",
            "import: 200000 rows read: 200000 created, 0 skipped, 0 invalid",
        ]
    );
    assert!(
        run.stdout.contains("200001 rows read, 200001 created"),
        "{}",
        run.stdout
    );
    let exported = kurz.run(&["export", "--format", "jsonl"]);
    assert_eq!(exported.stdout.lines().count(), 200_001);
    let first: Value = serde_json::from_str(exported.stdout.lines().next().unwrap()).unwrap();
    assert_eq!(first["slug"], "s0");
    assert_eq!(first["url"], "https://example.com/0");
    assert_eq!(first["title"], Value::Null);
    assert_eq!(first["crawlable"], false);
    assert_eq!(first["visit_count"], 0);
}

/// A geolocation test file (built by scripts/geo-fixtures.sh, which scripts/test.sh runs).
fn geo_fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/geo-fixtures")
        .join(name);
    assert!(
        path.is_file(),
        "{} is missing: build the geolocation test files with scripts/geo-fixtures.sh",
        path.display()
    );
    path.display().to_string()
}

/// `kurz geo lookup` prints what the configured file says; without one, or with a bad
/// address, it says what is wrong (exit 2).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn geo_lookup_prints_what_the_file_says() {
    let kurz = Kurz::new(Backend::Sqlite).await;
    let unset = kurz.fails(&["geo", "lookup", "203.0.113.7"], 2);
    assert!(unset.contains("geo.database"), "{unset}");
    let kurz = kurz.with_env("KURZ__GEO__DATABASE", &geo_fixture("city.mmdb"));
    let found = kurz.json(&["geo", "lookup", "203.0.113.7"]);
    assert_eq!(found["layout"], "maxmind-city");
    assert_eq!(found["database_type"], "GeoLite2-City");
    assert!(found["build_date"].is_string(), "{found}");
    assert_eq!(found["country"], "DE");
    assert_eq!(found["region"], "Land Berlin");
    assert_eq!(found["city"], "Berlin");
    assert_eq!(found["latitude"], 52.5244);
    assert_eq!(found["timezone"], "Europe/Berlin");
    let text = kurz.ok(&["geo", "lookup", "198.51.100.1"]);
    assert!(text.contains("city           Paris\n"), "{text}");
    let nowhere = kurz.json(&["geo", "lookup", "100.64.0.1"]);
    assert!(nowhere["country"].is_null(), "{nowhere}");
    let bad = kurz.fails(&["geo", "lookup", "not-an-ip"], 2);
    assert!(
        bad.contains("`not-an-ip` is not an IPv4 or IPv6 address"),
        "{bad}"
    );
    let broken = kurz
        .with_env("KURZ__GEO__DATABASE", &geo_fixture("broken.mmdb"))
        .fails(&["geo", "lookup", "203.0.113.7"], 1);
    assert!(broken.contains("not a valid MaxMind DB"), "{broken}");
}

/// The server does not start with a configured geolocation file it cannot read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_refuses_to_start_with_a_broken_geo_file() {
    let kurz = Kurz::new(Backend::Sqlite)
        .await
        .with_env("KURZ__SERVER__PORT", "0")
        .with_env("KURZ__GEO__DATABASE", &geo_fixture("asn.mmdb"));
    let run = kurz.run(&[]);
    assert_ne!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains("asn.mmdb") && run.stderr.contains("`GeoLite2-ASN`"),
        "{run:?}"
    );
}
