//! Geolocation of client addresses from a MaxMind-format `.mmdb` file (`[geo] database`).
//!
//! [`Geo`] is the handle the visit writer's enricher and the redirect lane share: it holds the
//! file that is serving now and swaps in a new one when [`reload`] sees the file change (its
//! modification time, or SIGHUP). kurz never downloads anything; the operator puts the file
//! there (docs/operations.md, "Geolocation").

mod layout;
mod reload;

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use maxminddb::Reader;

pub use layout::Layout;
pub use reload::spawn_reloader;

use crate::domain::{CountryCode, CountryLookup, Location};

/// Addresses looked up when a file is opened, so that a file whose records do not decode in
/// its layout is refused before it serves (one IPv4 and one IPv6 address of each kind).
const PROBES: &[&str] = &[
    "1.1.1.1",
    "8.8.8.8",
    "81.2.69.160",
    "2001:4860::8888",
    "::1",
];

/// Why a geolocation file was refused.
#[derive(Debug, thiserror::Error)]
#[error("geo database {path}: {reason}")]
pub struct GeoError {
    pub path: PathBuf,
    pub reason: String,
}

impl GeoError {
    fn new(path: &Path, reason: impl Into<String>) -> Self {
        Self {
            path: path.to_owned(),
            reason: reason.into(),
        }
    }
}

/// One opened and checked `.mmdb` file.
pub struct GeoDatabase {
    reader: Reader<Vec<u8>>,
    layout: Layout,
    /// The file's modification time when it was read (what the reloader compares).
    modified: Option<SystemTime>,
}

impl std::fmt::Debug for GeoDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoDatabase")
            .field("layout", &self.layout)
            .field("database_type", &self.database_type())
            .finish()
    }
}

impl GeoDatabase {
    /// Reads the whole file, checks its format, detects its layout from `database_type`, and
    /// looks a few addresses up to prove its records decode. Reading it into memory (not a
    /// memory map) is what lets the file be replaced while it serves.
    pub fn open(path: &Path) -> Result<Self, GeoError> {
        let modified = std::fs::metadata(path)
            .and_then(|m| m.modified())
            .map_err(|error| GeoError::new(path, format!("cannot read the file: {error}")))?;
        let bytes = std::fs::read(path)
            .map_err(|error| GeoError::new(path, format!("cannot read the file: {error}")))?;
        let reader = Reader::from_source(bytes).map_err(|error| {
            GeoError::new(
                path,
                format!("not a valid MaxMind DB (.mmdb) file: {error}"),
            )
        })?;
        let layout = Layout::detect(&reader.metadata().database_type)
            .map_err(|reason| GeoError::new(path, reason))?;
        for probe in PROBES {
            let ip: IpAddr = probe.parse().expect("probe addresses are valid");
            layout.locate(&reader, ip).map_err(|error| {
                GeoError::new(
                    path,
                    format!("its records do not decode as the {layout} layout: {error}"),
                )
            })?;
        }
        Ok(Self {
            reader,
            layout,
            modified: Some(modified),
        })
    }

    pub fn layout(&self) -> Layout {
        self.layout
    }

    pub fn database_type(&self) -> &str {
        &self.reader.metadata().database_type
    }

    /// When the file says it was built.
    pub fn build_time(&self) -> Option<DateTime<Utc>> {
        i64::try_from(self.reader.metadata().build_epoch)
            .ok()
            .and_then(|secs| DateTime::from_timestamp(secs, 0))
    }

    /// Where `ip` is; unknown when the file has no record of it or the record does not decode.
    pub fn locate(&self, ip: IpAddr) -> Location {
        self.layout
            .locate(&self.reader, ip)
            .unwrap_or_else(|error| {
                tracing::debug!(%error, %ip, "geo lookup failed");
                Location::default()
            })
    }

    /// The country of `ip` alone.
    pub fn country(&self, ip: IpAddr) -> Option<CountryCode> {
        self.layout.country(&self.reader, ip).ok().flatten()
    }
}

/// The shared geolocation handle: the configured file's path and the database serving now.
/// Without a configured file ([`Geo::disabled`]) every lookup is unknown. Cheap to clone.
#[derive(Clone, Default)]
pub struct Geo {
    inner: Option<Arc<Inner>>,
}

struct Inner {
    path: PathBuf,
    current: RwLock<Arc<GeoDatabase>>,
}

impl std::fmt::Debug for Geo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.inner {
            None => f.write_str("Geo(disabled)"),
            Some(inner) => f
                .debug_struct("Geo")
                .field("path", &inner.path)
                .field("layout", &self.database().map(|db| db.layout()))
                .finish(),
        }
    }
}

impl Geo {
    /// No database: no location, for anyone.
    pub fn disabled() -> Self {
        Self { inner: None }
    }

    /// Opens the file at `path` (see [`GeoDatabase::open`]); `None` for no lookups. A file
    /// that cannot be opened is an error: kurz does not start with a broken configured file.
    pub fn open(path: Option<&Path>) -> Result<Self, GeoError> {
        let Some(path) = path else {
            return Ok(Self::disabled());
        };
        let database = GeoDatabase::open(path)?;
        tracing::info!(
            path = %path.display(),
            layout = %database.layout(),
            database_type = database.database_type(),
            "geo database loaded"
        );
        Ok(Self {
            inner: Some(Arc::new(Inner {
                path: path.to_owned(),
                current: RwLock::new(Arc::new(database)),
            })),
        })
    }

    pub fn is_enabled(&self) -> bool {
        self.inner.is_some()
    }

    /// The configured file's path.
    pub fn path(&self) -> Option<&Path> {
        self.inner.as_ref().map(|inner| inner.path.as_path())
    }

    /// The database serving now.
    pub fn database(&self) -> Option<Arc<GeoDatabase>> {
        let inner = self.inner.as_ref()?;
        let current = inner
            .current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Some(Arc::clone(&current))
    }

    /// Where `ip` is; unknown without a database.
    pub fn locate(&self, ip: IpAddr) -> Location {
        self.database().map(|db| db.locate(ip)).unwrap_or_default()
    }

    /// Reads the configured file again now, whatever its modification time (what SIGHUP does;
    /// tests call it too). A file that fails to open is refused, logged, and the old one keeps
    /// serving. `Ok(false)` without a configured file.
    pub fn reload(&self) -> Result<bool, GeoError> {
        let Some(inner) = &self.inner else {
            return Ok(false);
        };
        match GeoDatabase::open(&inner.path) {
            Ok(database) => {
                tracing::info!(
                    path = %inner.path.display(),
                    layout = %database.layout(),
                    database_type = database.database_type(),
                    "geo database reloaded"
                );
                *inner
                    .current
                    .write()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(database);
                Ok(true)
            }
            Err(error) => {
                tracing::error!(
                    %error,
                    "the changed geo database is refused; the previous one keeps serving"
                );
                Err(error)
            }
        }
    }

    /// The modification time of the file now serving.
    fn loaded_modified(&self) -> Option<SystemTime> {
        self.database().and_then(|db| db.modified)
    }
}

impl CountryLookup for Geo {
    fn country(&self, ip: IpAddr) -> Option<CountryCode> {
        self.database().and_then(|db| db.country(ip))
    }
}
