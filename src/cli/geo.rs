//! `kurz geo lookup <ip>`: what the configured geolocation file (`geo.database`) says about an
//! address, with the file's layout, type and build date; what the visit writer would store.

use std::net::IpAddr;

use anyhow::Context;
use serde::Serialize;

use super::{output, UsageError};
use crate::config::Settings;
use crate::geo::GeoDatabase;

#[derive(Debug, clap::Subcommand)]
pub enum GeoCommand {
    /// Print the location the configured geo.database gives an address.
    Lookup {
        /// An IPv4 or IPv6 address.
        ip: String,
    },
}

/// What `--json` prints.
#[derive(Debug, Serialize)]
struct LookupJson {
    ip: String,
    database: String,
    layout: &'static str,
    database_type: String,
    build_date: Option<String>,
    country: Option<String>,
    region: Option<String>,
    city: Option<String>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    timezone: Option<String>,
}

pub fn run(settings: &Settings, command: GeoCommand, json: bool) -> anyhow::Result<()> {
    let GeoCommand::Lookup { ip } = command;
    let address: IpAddr = ip
        .trim()
        .parse()
        .map_err(|_| UsageError(format!("`{ip}` is not an IPv4 or IPv6 address")))?;
    let path = settings.geo.database_path().ok_or_else(|| {
        UsageError(
            "no geolocation file is configured: set geo.database (KURZ__GEO__DATABASE) to a \
             .mmdb file (see docs/operations.md, \"Geolocation\")"
                .into(),
        )
    })?;
    let database = GeoDatabase::open(path).context("cannot use the configured geo.database")?;
    let place = database.locate(address);
    let found = LookupJson {
        ip: address.to_string(),
        database: path.display().to_string(),
        layout: database.layout().as_str(),
        database_type: database.database_type().to_owned(),
        build_date: database.build_time().map(|t| t.format("%F").to_string()),
        country: place.country.map(String::from),
        region: place.region,
        city: place.city,
        latitude: place.latitude,
        longitude: place.longitude,
        timezone: place.timezone,
    };
    if json {
        return output::json(&found);
    }
    let text = |value: &Option<String>| value.clone().unwrap_or_else(|| "-".into());
    let number = |value: Option<f64>| value.map_or_else(|| "-".into(), |n| n.to_string());
    output::emit(&output::details(&[
        ("ip", found.ip.clone()),
        ("database", found.database.clone()),
        ("layout", found.layout.to_owned()),
        ("database_type", found.database_type.clone()),
        ("build_date", text(&found.build_date)),
        ("country", text(&found.country)),
        ("region", text(&found.region)),
        ("city", text(&found.city)),
        ("latitude", number(found.latitude)),
        ("longitude", number(found.longitude)),
        ("timezone", text(&found.timezone)),
    ]))
}
