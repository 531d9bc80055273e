//! `kurz apikey create|list|revoke|yourls-token`: the keys of the HTTP API. A key is printed
//! once, when it is created (alone on the last line of stdout, for `tail -n1`); only its hash is
//! stored. A key's YOURLS signature token is derived again whenever it is asked for.

use chrono::{DateTime, Utc};
use clap::Subcommand;
use serde::Serialize;

use super::output::{self, Table};
use super::{Context, UsageError};
use crate::app::{AppError, CreatedKey};
use crate::domain::{Role, SignatureToken, KEY_PREFIX};
use crate::store::ApiKeyRecord;

#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Create a key and print it (once: only its hash is stored).
    Create {
        /// What the key may do: admin (everything), editor (create, and change its own
        /// links), viewer (read only).
        #[arg(long)]
        role: Role,
        /// A label, e.g. who or what uses the key.
        #[arg(long, default_value = "")]
        name: String,
    },
    /// List every key, revoked ones included (never the keys themselves).
    List,
    /// Revoke a key at once; requests with it are then answered 401.
    Revoke {
        /// The key's id, or its prefix as `list` shows it (e.g. kurz_AbCd1234).
        key: String,
        /// Do not ask for confirmation (required when stdin is not a terminal).
        #[arg(long, short)]
        yes: bool,
    },
    /// Print a key's YOURLS signature token: what YOURLS clients send as `signature` (or hash
    /// with a timestamp) instead of the key. Derived from `compat.yourls.secret`.
    YourlsToken {
        /// The key's id, or its prefix as `list` shows it.
        key: String,
    },
}

impl clap::ValueEnum for Role {
    fn value_variants<'a>() -> &'a [Self] {
        &[Role::Admin, Role::Editor, Role::Viewer]
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.as_str()))
    }
}

/// A key as `--json` prints it (never the key itself, except once on creation).
#[derive(Debug, Serialize)]
struct KeyJson {
    id: i64,
    name: String,
    role: Role,
    prefix: String,
    created_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
}

impl From<ApiKeyRecord> for KeyJson {
    fn from(record: ApiKeyRecord) -> Self {
        Self {
            id: record.id,
            name: record.name,
            role: record.role,
            prefix: record.prefix,
            created_at: record.created_at,
            revoked_at: record.revoked_at,
        }
    }
}

#[derive(Serialize)]
struct CreatedJson {
    #[serde(flatten)]
    record: KeyJson,
    /// The key in clear: shown this once.
    key: String,
}

#[derive(Serialize)]
struct ListJson {
    items: Vec<KeyJson>,
}

#[derive(Serialize)]
struct RevokedJson {
    revoked: KeyJson,
}

pub async fn run(ctx: &Context, command: ApiKeyCommand) -> anyhow::Result<()> {
    match command {
        ApiKeyCommand::Create { role, name } => create(ctx, role, &name).await,
        ApiKeyCommand::List => list(ctx).await,
        ApiKeyCommand::Revoke { key, yes } => revoke(ctx, &key, yes).await,
        ApiKeyCommand::YourlsToken { key } => yourls_token(ctx, &key).await,
    }
}

#[derive(Serialize)]
struct TokenJson {
    id: i64,
    prefix: String,
    yourls_token: String,
}

async fn yourls_token(ctx: &Context, value: &str) -> anyhow::Result<()> {
    let Some(secret) = ctx.settings.compat.yourls.token_secret() else {
        return Err(UsageError(
            "compat.yourls.secret is not set: set it (at least 32 characters, e.g. through \
             KURZ__COMPAT__YOURLS__SECRET) for every instance, then ask again"
                .into(),
        )
        .into());
    };
    let keys = ctx.api_keys().await?.list().await?;
    let key = find(&keys, value)?;
    if key.revoked_at.is_some() {
        anyhow::bail!(
            "API key {} ({}) is revoked: it has no token",
            key.id,
            key.prefix
        );
    }
    let token = SignatureToken::derive(secret, key.id);
    if ctx.json {
        return output::json(&TokenJson {
            id: key.id,
            prefix: key.prefix.clone(),
            yourls_token: token.as_str().to_owned(),
        });
    }
    output::emit(&format!("{}\n", token.as_str()))
}

async fn create(ctx: &Context, role: Role, name: &str) -> anyhow::Result<()> {
    let CreatedKey { key, record } = ctx.api_keys().await?.create(role, name).await?;
    if ctx.json {
        return output::json(&CreatedJson {
            record: record.into(),
            key: key.expose().to_owned(),
        });
    }
    let label = if record.name.is_empty() {
        String::new()
    } else {
        format!(", \"{}\"", record.name)
    };
    // The key alone on the last line, so that `kurz apikey create ... | tail -n1` captures it.
    output::emit(&format!(
        "created API key {} ({}{label})\n\
         This is the only time the key is shown; kurz keeps only its hash.\n\
         Send it as `Authorization: Bearer <key>` or `X-Api-Key: <key>`.\n\n{}\n",
        record.id,
        record.role,
        key.expose()
    ))
}

async fn list(ctx: &Context) -> anyhow::Result<()> {
    let store = ctx.store().await?;
    let items: Vec<KeyJson> = store
        .list_api_keys()
        .await?
        .into_iter()
        .map(KeyJson::from)
        .collect();
    if ctx.json {
        return output::json(&ListJson { items });
    }
    if items.is_empty() {
        return output::emit("no API keys\n");
    }
    let mut table =
        Table::new(&["ID", "PREFIX", "ROLE", "CREATED", "REVOKED", "NAME"]).max_width(5, 40);
    for key in &items {
        table.row(vec![
            key.id.to_string(),
            key.prefix.clone(),
            key.role.to_string(),
            output::time(key.created_at),
            key.revoked_at
                .map(output::time)
                .unwrap_or_else(|| "-".into()),
            key.name.clone(),
        ]);
    }
    output::emit(&table.render())
}

/// The key named by an id or a prefix (with or without `kurz_`); a prefix must name one key.
fn find<'a>(keys: &'a [ApiKeyRecord], value: &str) -> anyhow::Result<&'a ApiKeyRecord> {
    let value = value.trim();
    if let Ok(id) = value.parse::<i64>() {
        if let Some(key) = keys.iter().find(|k| k.id == id) {
            return Ok(key);
        }
    }
    let prefix = if value.starts_with(KEY_PREFIX) {
        value.to_owned()
    } else {
        format!("{KEY_PREFIX}{value}")
    };
    if value.is_empty() || prefix.len() <= KEY_PREFIX.len() {
        return Err(UsageError("name a key by its id or prefix".into()).into());
    }
    let matching: Vec<&ApiKeyRecord> = keys
        .iter()
        .filter(|k| k.prefix.starts_with(&prefix) || prefix.starts_with(&k.prefix))
        .collect();
    match matching.as_slice() {
        [key] => Ok(key),
        [] => anyhow::bail!("no API key has the id or prefix '{value}'"),
        _ => Err(UsageError(format!(
            "'{value}' names {} keys; use the id (kurz apikey list)",
            matching.len()
        ))
        .into()),
    }
}

async fn revoke(ctx: &Context, value: &str, yes: bool) -> anyhow::Result<()> {
    let keys = ctx.api_keys().await?.list().await?;
    let key = find(&keys, value)?;
    if key.revoked_at.is_some() {
        anyhow::bail!("API key {} ({}) is revoked already", key.id, key.prefix);
    }
    output::confirm(
        &format!(
            "Revoke API key {} ({}, {}{})? Requests with it will be refused.",
            key.id,
            key.prefix,
            key.role,
            if key.name.is_empty() {
                String::new()
            } else {
                format!(", \"{}\"", key.name)
            }
        ),
        yes,
    )?;
    let revoked = match ctx.api_keys().await?.revoke(key.id).await {
        Ok(revoked) => revoked,
        Err(AppError::NoSuchKey(id)) => anyhow::bail!("API key {id} is revoked already"),
        Err(other) => return Err(other.into()),
    };
    if ctx.json {
        return output::json(&RevokedJson {
            revoked: revoked.into(),
        });
    }
    output::emit(&format!(
        "revoked API key {} ({})\n",
        revoked.id, revoked.prefix
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: i64, prefix: &str) -> ApiKeyRecord {
        ApiKeyRecord {
            id,
            name: String::new(),
            role: Role::Viewer,
            prefix: prefix.into(),
            key_hash: String::new(),
            created_at: Utc::now(),
            revoked_at: None,
        }
    }

    #[test]
    fn keys_are_found_by_id_or_unambiguous_prefix() {
        let keys = [
            key(1, "kurz_AbCd1234"),
            key(2, "kurz_AbXy5678"),
            key(3, "kurz_12345678"),
        ];
        assert_eq!(find(&keys, "2").unwrap().id, 2);
        assert_eq!(find(&keys, "kurz_AbCd1234").unwrap().id, 1);
        assert_eq!(find(&keys, "AbCd").unwrap().id, 1);
        assert_eq!(find(&keys, "1234").unwrap().id, 3, "not an id: a prefix");
        assert!(find(&keys, "Ab").is_err(), "ambiguous");
        assert!(find(&keys, "zz").is_err());
        assert!(find(&keys, "").is_err());
    }
}
