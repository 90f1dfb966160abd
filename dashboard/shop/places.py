"""How a shop may write a US state, DC or an inhabited territory, and in which country.

A shipping address's state is free text: "CA", " ca ", "California", "district of
columbia", "Washington, D.C.". Each is reduced to a key, without spacing and punctuation,
upper case (`place_key`), and looked up here. The same reduction runs inside the database
(dashboard.orders.derivation), over a table of these keys: both agree by construction.
"""

import string

from dashboard.us_states import NAMES, TERRITORIES

# A place's key: the text without spacing and punctuation, its ASCII letters upper case. The
# database computes the same with one translate() call (derivation.py), which costs a tenth of
# a regular expression per address and gives the same answer on PostgreSQL and RisingWave
# whatever the server's locale (upper() follows it; translate() does not). Spacing of every
# kind: a CSV import leaves line ends ("CA\r"), a page copied from leaves no-break spaces.
IGNORED = " \t\n\r\v\f\u00a0.,-_'"
LOWER, UPPER = string.ascii_lowercase, string.ascii_uppercase
_KEY = str.maketrans(LOWER, UPPER, IGNORED)


def place_key(text: str) -> str:
    """`text` without spacing and punctuation, upper case: they never tell places apart."""
    return text.translate(_KEY)


# Other ways the same places are commonly written (besides each code and each name).
ALIASES = {
    "DC": ("Washington DC", "Washington D.C.", "D.C."),
    "VI": ("US Virgin Islands", "Virgin Islands", "United States Virgin Islands"),
    "MP": ("Northern Marianas", "Commonwealth of the Northern Mariana Islands"),
    "PR": ("Commonwealth of Puerto Rico",),
}

# How a shop may write the United States as the address's country.
UNITED_STATES = ("US", "USA", "United States", "United States of America", "U.S.A.")


def state_keys() -> dict[str, str]:
    """{key: code} for every state, DC and territory: its code, its name and its aliases."""
    keys: dict[str, str] = {}
    for code, name in NAMES.items():
        for spelling in (code, name, *ALIASES.get(code, ())):
            keys[place_key(spelling)] = code
    return keys


def territory_keys() -> dict[str, str]:
    """{key: code} for the inhabited territories, which shops also store as countries
    (oscar's ISO 3166 codes PR, GU, VI, AS, MP, or their names)."""
    return {key: code for key, code in state_keys().items() if code in TERRITORIES}


def united_states_keys() -> tuple[str, ...]:
    return tuple(place_key(spelling) for spelling in UNITED_STATES)


def normalise(state: str | None, country: str | None) -> str | None:
    """The state code an address counts for, or None (another country, an empty or
    unrecognised state, no address). The reference the SQL is tested against."""
    country_key = place_key(country or "")
    if country_key in united_states_keys():
        return state_keys().get(place_key(state or ""))
    return territory_keys().get(country_key)
