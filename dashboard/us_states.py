"""US states (and DC): postal code -> name, with 2020 census population in thousands; and the
inhabited US territories, by name only.

Names label the state ranking and fill the state menus; a state filter must name one of
them (or a state the orders hold). Populations weight the sample data so that it looks like
real US orders (California and Texas lead, Wyoming trails); the territories are left out of
that on purpose, so the sample data stays what it has always been.
"""

STATES = {
    "AL": ("Alabama", 5024),
    "AK": ("Alaska", 733),
    "AZ": ("Arizona", 7152),
    "AR": ("Arkansas", 3012),
    "CA": ("California", 39538),
    "CO": ("Colorado", 5774),
    "CT": ("Connecticut", 3606),
    "DE": ("Delaware", 990),
    "DC": ("District of Columbia", 690),
    "FL": ("Florida", 21538),
    "GA": ("Georgia", 10712),
    "HI": ("Hawaii", 1455),
    "ID": ("Idaho", 1839),
    "IL": ("Illinois", 12813),
    "IN": ("Indiana", 6786),
    "IA": ("Iowa", 3190),
    "KS": ("Kansas", 2938),
    "KY": ("Kentucky", 4506),
    "LA": ("Louisiana", 4658),
    "ME": ("Maine", 1362),
    "MD": ("Maryland", 6177),
    "MA": ("Massachusetts", 7030),
    "MI": ("Michigan", 10077),
    "MN": ("Minnesota", 5706),
    "MS": ("Mississippi", 2961),
    "MO": ("Missouri", 6155),
    "MT": ("Montana", 1084),
    "NE": ("Nebraska", 1962),
    "NV": ("Nevada", 3105),
    "NH": ("New Hampshire", 1378),
    "NJ": ("New Jersey", 9289),
    "NM": ("New Mexico", 2118),
    "NY": ("New York", 20201),
    "NC": ("North Carolina", 10439),
    "ND": ("North Dakota", 779),
    "OH": ("Ohio", 11799),
    "OK": ("Oklahoma", 3959),
    "OR": ("Oregon", 4237),
    "PA": ("Pennsylvania", 13003),
    "RI": ("Rhode Island", 1097),
    "SC": ("South Carolina", 5118),
    "SD": ("South Dakota", 887),
    "TN": ("Tennessee", 6911),
    "TX": ("Texas", 29146),
    "UT": ("Utah", 3272),
    "VT": ("Vermont", 643),
    "VA": ("Virginia", 8631),
    "WA": ("Washington", 7705),
    "WV": ("West Virginia", 1794),
    "WI": ("Wisconsin", 5894),
    "WY": ("Wyoming", 577),
}


# The inhabited territories: code -> name. Not in STATES, whose populations weight the
# sample orders (dashboard/orders/sample.py).
TERRITORIES = {
    "AS": "American Samoa",
    "GU": "Guam",
    "MP": "Northern Mariana Islands",
    "PR": "Puerto Rico",
    "VI": "U.S. Virgin Islands",
}

# Every code the site names: the states, DC and the territories.
NAMES = {**{code: name for code, (name, _) in STATES.items()}, **TERRITORIES}


def is_us_state(code: str) -> bool:
    """Whether `code` (upper case) is a US state, DC or an inhabited US territory."""
    return code in NAMES


def state_name(code: str) -> str:
    """The state's or territory's name, or the code itself when it is neither."""
    return NAMES.get(code, code)


def state_choices() -> list[tuple[str, str]]:
    """[(code, name)] of every state and territory, by name: the state filters' options."""
    return sorted(NAMES.items(), key=lambda pair: pair[1])
