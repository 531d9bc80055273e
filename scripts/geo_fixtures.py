"""Builds the small .mmdb files the geolocation tests read (scripts/geo-fixtures.sh runs it).

Each file places a few documentation networks (RFC 5737, RFC 3849) somewhere, in the layout of
the database it stands for; the tests know these places. Usage: geo_fixtures.py OUT_DIR
"""

import sys
from pathlib import Path

from mmdb_writer import MMDBWriter, MmdbF32, MmdbF64
from netaddr import IPSet


def names(en):
    return {"en": en, "de": en}


def maxmind_city(country, region, city, lat, lon, tz):
    record = {
        "continent": {"code": "EU", "names": names("Europe")},
        "country": {"iso_code": country, "names": names(country)},
        "registered_country": {"iso_code": country, "names": names(country)},
        "city": {"names": names(city)},
        "location": {"latitude": MmdbF64(lat), "longitude": MmdbF64(lon), "accuracy_radius": 20},
        "subdivisions": [{"iso_code": "XX", "names": names(region)}],
    }
    if tz is not None:
        record["location"]["time_zone"] = tz
    return record


# (network, country, region, city, latitude, longitude, time zone)
PLACES = [
    ("203.0.113.0/24", "DE", "Land Berlin", "Berlin", 52.5244, 13.4105, "Europe/Berlin"),
    ("198.51.100.0/24", "FR", "Île-de-France", "Paris", 48.8534, 2.3488, "Europe/Paris"),
    ("192.0.2.0/24", "JP", "Tokyo", "Tokyo", 35.6895, 139.6917, "Asia/Tokyo"),
    ("2001:db8:1::/48", "GB", "England", "London", 51.5085, -0.1257, "Europe/London"),
]
# What the second city file (a "newer" download) says instead: Berlin moved to Vienna.
PLACES_V2 = [
    ("203.0.113.0/24", "AT", "Wien", "Vienna", 48.2085, 16.3721, "Europe/Vienna"),
] + PLACES[1:]


def writer(database_type, description):
    return MMDBWriter(
        ip_version=6,
        ipv4_compatible=True,
        database_type=database_type,
        languages=["en"],
        description=description,
    )


def city_file(path, database_type, places, with_tz=True):
    w = writer(database_type, f"kurz test fixture ({database_type})")
    for net, country, region, city, lat, lon, tz in places:
        w.insert_network(
            IPSet([net]), maxmind_city(country, region, city, lat, lon, tz if with_tz else None)
        )
    w.to_db_file(str(path))


def country_file(path):
    w = writer("GeoLite2-Country", "kurz test fixture (GeoLite2-Country)")
    for net, country, *_ in PLACES:
        w.insert_network(
            IPSet([net]),
            {
                "country": {"iso_code": country, "names": names(country)},
                "registered_country": {"iso_code": country, "names": names(country)},
            },
        )
    w.to_db_file(str(path))


def flat_city_file(path):
    # ip-location-db's city layout: flat fields, coordinates as 32-bit floats.
    w = writer("city ipvAll", "kurz test fixture (ip-location-db city)")
    for net, country, region, city, lat, lon, tz in PLACES:
        w.insert_network(
            IPSet([net]),
            {
                "city": city,
                "country_code": country,
                "state1": region,
                "state2": "",
                "latitude": MmdbF32(lat),
                "longitude": MmdbF32(lon),
                "postcode": "",
                "timezone": tz,
            },
        )
    w.to_db_file(str(path))


def asn_file(path):
    w = writer("GeoLite2-ASN", "kurz test fixture (GeoLite2-ASN)")
    w.insert_network(
        IPSet(["203.0.113.0/24"]),
        {"autonomous_system_number": 64496, "autonomous_system_organization": "Example"},
    )
    w.to_db_file(str(path))


def main():
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    city_file(out / "city.mmdb", "GeoLite2-City", PLACES)
    city_file(out / "city-v2.mmdb", "GeoLite2-City", PLACES_V2)
    city_file(out / "dbip-city.mmdb", "DBIP-City-Lite", PLACES, with_tz=False)
    country_file(out / "country.mmdb")
    flat_city_file(out / "flat-city.mmdb")
    asn_file(out / "asn.mmdb")
    (out / "broken.mmdb").write_bytes(b"this is not a MaxMind DB file\n" * 10)


if __name__ == "__main__":
    main()
