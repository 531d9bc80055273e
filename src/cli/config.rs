//! `kurz check-config`: every key of the effective configuration, secrets masked, with the
//! layer it came from; then whether the whole is valid (exit code 2 when not).

use figment::value::Value;
use figment::{Figment, Metadata, Profile, Provider, Source};
use serde::Serialize;

use super::output::{self, Table};
use super::UsageError;
use crate::config::{source, Settings};

const MASK: &str = "********";

/// One key of the configuration.
#[derive(Debug, Serialize)]
struct Entry {
    key: String,
    value: serde_json::Value,
    source: String,
}

#[derive(Serialize)]
struct Report<'a> {
    valid: bool,
    error: Option<String>,
    /// The database kurz opens (the default SQLite file when `database.url` is empty).
    database: Option<String>,
    /// The base of short links.
    public_url: Option<String>,
    settings: &'a [Entry],
}

pub fn run(json: bool) -> anyhow::Result<()> {
    let figment = Settings::figment()?;
    let entries = entries(&figment)?;
    let checked = Settings::from_figment(figment);
    let (database, public_url) = match &checked {
        Ok(settings) => (
            Some(mask_text(&settings.database.effective_url())),
            Some(settings.server.public_url_for(settings.server.port)),
        ),
        Err(_) => (None, None),
    };
    if json {
        output::json(&Report {
            valid: checked.is_ok(),
            error: checked.as_ref().err().map(ToString::to_string),
            database,
            public_url,
            settings: &entries,
        })?;
    } else {
        // The value last: a long one (`slug.reserved`) does not push the others aside.
        let mut table = Table::new(&["KEY", "SOURCE", "VALUE"]);
        for entry in &entries {
            table.row(vec![
                entry.key.clone(),
                entry.source.clone(),
                entry.value.to_string(),
            ]);
        }
        let mut text = table.render();
        if let (Some(database), Some(public_url)) = (database, public_url) {
            text.push_str(&format!(
                "\nconfiguration is valid\ndatabase:    {database}\nshort links: {public_url}/<slug>\n"
            ));
        }
        output::emit(&text)?;
    }
    checked?;
    Ok(())
}

/// Every leaf key of the merged layers, in the order of the sections, with its source.
fn entries(figment: &Figment) -> anyhow::Result<Vec<Entry>> {
    let data = Provider::data(figment).map_err(config_error)?;
    let mut top: Vec<String> = Vec::new();
    for profile in [Profile::Default, Profile::Global, figment.profile().clone()] {
        for key in data.get(&profile).into_iter().flat_map(|dict| dict.keys()) {
            if !top.contains(key) {
                top.push(key.clone());
            }
        }
    }
    let mut entries = Vec::new();
    for key in top {
        walk(figment, vec![key], &mut entries)?;
    }
    Ok(entries)
}

fn walk(figment: &Figment, path: Vec<String>, entries: &mut Vec<Entry>) -> anyhow::Result<()> {
    let key = path.join(".");
    let value = figment.find_value(&key).map_err(config_error)?;
    if let Value::Dict(_, dict) = &value {
        for child in dict.keys() {
            let mut child_path = path.clone();
            child_path.push(child.clone());
            walk(figment, child_path, entries)?;
        }
        return Ok(());
    }
    let json = serde_json::to_value(&value)?;
    let value = if path.iter().any(|segment| is_secret_name(segment)) {
        serde_json::Value::String(MASK.into())
    } else {
        mask_json(json)
    };
    entries.push(Entry {
        source: describe(figment.find_metadata(&key), &path),
        key,
        value,
    });
    Ok(())
}

/// A layer that cannot be read (a TOML syntax error, say) is a configuration error: exit 2.
fn config_error(error: figment::Error) -> UsageError {
    UsageError(format!("configuration error: {error}"))
}

/// The layer a value came from, as an operator would look for it.
fn describe(metadata: Option<&Metadata>, path: &[String]) -> String {
    let Some(metadata) = metadata else {
        return "unknown".into();
    };
    if metadata.name.starts_with("`KURZ__`") {
        let name: Vec<String> = path.iter().map(|s| s.to_ascii_uppercase()).collect();
        return format!("KURZ__{}", name.join("__"));
    }
    if let Some(Source::File(file)) = &metadata.source {
        return format!("KURZ_CONFIG_FILE ({})", file.display());
    }
    if metadata.name == source::DATABASE_URL {
        return "DATABASE_URL".into();
    }
    if metadata.name == source::RUST_LOG {
        return "RUST_LOG".into();
    }
    metadata.name.to_string()
}

/// A name that says its value is a secret: a word of it (split at `_`, `-`, `.`) is one of
/// these. Whole words only, so that `extra_bot_tokens` (user-agent markers) stays visible.
fn is_secret_name(name: &str) -> bool {
    const WORDS: &[&str] = &[
        "secret",
        "secrets",
        "password",
        "passwd",
        "pass",
        "pwd",
        "key",
        "apikey",
        "token",
        "credential",
        "credentials",
    ];
    name.split(['_', '-', '.'])
        .any(|word| WORDS.contains(&word.to_ascii_lowercase().as_str()))
}

fn mask_json(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::String(text) => serde_json::Value::String(mask_text(&text)),
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.into_iter().map(mask_json).collect())
        }
        other => other,
    }
}

/// A URL's password and secret-named query parameters masked (`postgres://kurz:********@db/kurz`,
/// `...?password=********`); any other text as it is.
pub(crate) fn mask_text(text: &str) -> String {
    let Ok(mut url) = url::Url::parse(text) else {
        return text.to_owned();
    };
    let mut changed = false;
    if url.password().is_some() && url.set_password(Some(MASK)).is_ok() {
        changed = true;
    }
    if url.query_pairs().any(|(name, _)| is_secret_name(&name)) {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(name, value)| {
                let value = if is_secret_name(&name) {
                    MASK.to_owned()
                } else {
                    value.into_owned()
                };
                (name.into_owned(), value)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
        changed = true;
    }
    if changed {
        url.to_string()
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_urls_are_masked() {
        assert_eq!(
            mask_text("postgres://kurz:s3cret@db.internal:5432/kurz"),
            "postgres://kurz:********@db.internal:5432/kurz"
        );
        assert_eq!(
            mask_text("postgres://db/kurz?user=kurz&password=s3cret"),
            "postgres://db/kurz?user=kurz&password=********"
        );
        assert_eq!(mask_text("sqlite://data/kurz.db"), "sqlite://data/kurz.db");
        assert_eq!(mask_text("127.0.0.1"), "127.0.0.1");
    }

    #[test]
    fn secret_names_are_whole_words() {
        for name in ["password", "api_key", "secret", "auth-token", "DB_PASSWORD"] {
            assert!(is_secret_name(name), "{name}");
        }
        // The [auth] section holds switches an operator must be able to read.
        for name in [
            "extra_bot_tokens",
            "keyboard",
            "port",
            "passage",
            "auth",
            "allow_anonymous",
        ] {
            assert!(!is_secret_name(name), "{name}");
        }
    }
}
