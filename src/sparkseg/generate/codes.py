"""Reference codes of the synthetic bank: cities, branches, account number prefixes."""

from __future__ import annotations

# (city, tier, 4-digit branch-area code). Tier: 1 一线, 2 新一线, 3 二线, 4 三线及以下.
CITIES: tuple[tuple[str, int, str], ...] = (
    ("北京", 1, "1100"), ("上海", 1, "3100"), ("广州", 1, "4401"), ("深圳", 1, "4403"),
    ("成都", 2, "5101"), ("杭州", 2, "3301"), ("重庆", 2, "5000"), ("武汉", 2, "4201"),
    ("西安", 2, "6101"), ("苏州", 2, "3205"), ("南京", 2, "3201"), ("天津", 2, "1200"),
    ("长沙", 2, "4301"), ("郑州", 2, "4101"), ("东莞", 2, "4419"), ("青岛", 2, "3702"),
    ("宁波", 3, "3302"), ("无锡", 3, "3202"), ("厦门", 3, "3502"), ("福州", 3, "3501"),
    ("济南", 3, "3701"), ("合肥", 3, "3401"), ("大连", 3, "2102"), ("昆明", 3, "5301"),
    ("沈阳", 3, "2101"), ("南昌", 3, "3601"), ("绍兴", 4, "3306"), ("洛阳", 4, "4103"),
    ("柳州", 4, "4502"), ("赣州", 4, "3607"), ("芜湖", 4, "3402"), ("遵义", 4, "5203"),
    ("湛江", 4, "4408"), ("泉州", 4, "3505"), ("潍坊", 4, "3707"), ("宜昌", 4, "4205"),
)
# Branches per city by tier (big cities have more outlets).
BRANCHES_PER_TIER: dict[int, int] = {1: 60, 2: 30, 3: 15, 4: 8}

# Account number prefixes: debit cards and credit cards are UnionPay (62...) 16-digit cards;
# loans and mortgages have contract numbers. Wealth, fund and insurance purchases settle
# from the debit card, so their transactions carry the debit card's number.
ACCOUNT_PREFIX: dict[str, str] = {
    "deposit": "621700", "credit_card": "625900", "loan": "LN2000", "mortgage": "MG2000",
}
ASSET_PRODUCTS: tuple[str, ...] = ("deposit", "wealth", "fund", "insurance")
LIABILITY_PRODUCTS: tuple[str, ...] = ("credit_card", "loan", "mortgage")
# Mobile number prefixes of the three carriers (11-digit numbers "1xx" + 8 digits).
PHONE_PREFIXES: tuple[str, ...] = (
    "134", "135", "136", "137", "138", "139", "150", "151", "152", "157", "158", "159",
    "182", "183", "187", "188", "130", "131", "132", "155", "156", "185", "186", "133",
    "153", "180", "181", "189", "177", "199",
)
# Products on sale per family (product_id = family + zero-padded number).
CATALOG_SIZE: dict[str, int] = {"WM": 240, "FD": 600, "CC": 18, "LN": 12, "IS": 40}
