"""Deterministic, realistic B2B CRM demo data, generated straight into DuckDB.

Role: the data behind ``kpi demo`` (scale "S") and the benchmark (scale "M"). The tables
look like a real CRM export - growth over time, segment-specific cycles and deal sizes,
a sales org of about
twenty reps in a few teams (new business by segment and region, renewals and expansions by
account managers), renewals won at one minus the segment's churn rate, churn, and a little dirt (odd spellings, a few impossible dates) that the shipped
definitions.yaml is expected to clean up. Everything is vectorised numpy driven by one
``np.random.default_rng(seed)``, so the same arguments always give the same rows; tables
are loaded from Arrow with CREATE OR REPLACE TABLE ... AS SELECT (no row inserts).

Internally dates are int days since 1970-01-01 and ids are 0-based integer indexes;
DuckDB formats ids ('A0000001') and maps category codes to labels at load time, which is
far cheaper than building millions of Python strings.
"""
from __future__ import annotations

import datetime as dt
from typing import Callable

import duckdb
import numpy as np
import pyarrow as pa

SCALES = {"S": 20_000, "M": 1_000_000}  # deals; leads are 5x deals

SEGMENTS = ("SMB", "Mid-Market", "Enterprise")
# Dirty spellings, two per segment: code 3 + 2*segment + {0,1}.
SEGMENT_LABELS = SEGMENTS + ("smb", " SMB", "Mid Market", "mid-market", "enterprise ", "ENT")
REGIONS = ("North America", "EMEA", "APAC", "LATAM")
OFFICES = (("New York", 0), ("Austin", 0), ("London", 1), ("Berlin", 1), ("Singapore", 2), ("São Paulo", 3))
INDUSTRIES = ("Software", "Financial Services", "Healthcare", "Retail", "Manufacturing",
              "Logistics", "Education", "Media", "Energy", "Professional Services")
SOURCES = ("webinar", "organic", "paid_search", "referral", "outbound", "event", "partner")
SOURCE_LABELS = SOURCES + ("Webinar", "Paid Search", " referral", "OUTBOUND")
DIRTY_SOURCE = {0: 7, 2: 8, 3: 9, 4: 10}  # clean code -> dirty code
LEAD_STATUSES = ("new", "working", "qualified", "disqualified", "converted")
STAGES = ("Prospecting", "Qualification", "Proposal", "Negotiation",
          "Closed Won", "Closed Lost", "closed won", "Won", "Closed-Lost")
WON_CODES = (4, 6, 7)  # every spelling of "won": customer_since must agree with cleaned data
DEAL_TYPES = ("new_business", "expansion", "renewal")
# Sales teams. New business goes to the team of the account's segment (SMB split by region);
# renewals and expansions of existing customers go to account management.
TEAMS = ("SMB Americas", "SMB International", "Mid-Market", "Enterprise", "Account Management")
TEAM_SHARE = np.array([0.20, 0.20, 0.25, 0.15, 0.20])
ACCOUNT_MANAGEMENT = 4
TEAM_OFFICES = ((0, 1, 5), (2, 3, 4), (0, 1, 2, 3, 4, 5), (0, 2, 4), (0, 1, 2, 3, 4, 5))  # office codes
SPEND_CHANNELS = ("paid_search", "events", "content", "webinar", "partner", "sales_team")

# Per-segment parameters, indexed by segment code (SMB, Mid-Market, Enterprise).
ACCOUNT_SHARE = np.array([0.62, 0.28, 0.10])
ACTIVITY = np.array([1.0, 1.5, 2.2])          # bigger accounts generate more deals
WIN_RATE = np.array([0.31, 0.24, 0.17])
CYCLE_MEDIAN = np.array([20.0, 45.0, 90.0])   # days
AMOUNT_MEDIAN = np.array([8_000.0, 35_000.0, 120_000.0])  # USD ACV
CHURN_PER_YEAR = np.array([0.24, 0.19, 0.18])  # hazard counted from the last won deal
# A renewal is lost about as often as a customer churns in a year; an existing customer buys
# more more often than a stranger buys at all.
RENEWAL_WIN_RATE = 1 - CHURN_PER_YEAR
EXPANSION_WIN_RATE = np.array([0.40, 0.38, 0.35])
CAC = np.array([6_000.0, 30_000.0, 80_000.0])  # spend per new customer
SALES_SHARE = np.array([0.40, 0.55, 0.70])    # rest of the budget is marketing
MARKETING_MIX = np.array([0.35, 0.20, 0.15, 0.15, 0.15])
GROWTH_PER_YEAR = 0.35

EPOCH = dt.date(1970, 1, 1)


def generate(con: duckdb.DuckDBPyConnection, *, deals: int = 20_000, until: dt.date, years: int = 3,
             seed: int = 7, progress: Callable[[str, float], None] | None = None) -> dict[str, int]:
    """(Re)create crm_offices, crm_users, crm_accounts, crm_leads, crm_deals and spend in `con`."""
    if deals < 100:
        raise ValueError("deals must be at least 100")
    report = progress or (lambda step, frac: None)
    rng = np.random.default_rng(seed)
    end = (until - EPOCH).days
    start = end - round(365.25 * years) + 1
    day_w = _day_weights(start, end)
    users = _users(rng, deals)
    report("users", 0.05)
    acc = _accounts(rng, max(deals // 3, 30), start, day_w)
    report("accounts", 0.15)
    leads = _leads(rng, 5 * deals, deals, acc, users, start, end, day_w)
    report("leads", 0.40)
    dl = _deals(rng, deals, leads, acc, users, start, end, day_w)
    report("deals", 0.60)
    _account_history(rng, acc, leads, dl, end)
    spend = _spend(rng, acc, start, end, day_w)
    report("spend", 0.70)
    counts = _load(con, users, acc, leads, dl, spend)
    report("done", 1.0)
    return counts


def _day_weights(start: int, end: int) -> np.ndarray:
    """Relative activity per day: exponential growth, quiet weekends, Aug/Dec dips."""
    days = np.arange(start, end + 1)
    w = np.exp(np.log1p(GROWTH_PER_YEAR) * (days - start) / 365.25)
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday; Monday == 0
    w *= np.where(weekday >= 5, 0.3, 1.0)
    month = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12
    w *= np.select([month == 7, month == 11], [0.85, 0.75], 1.0)
    return w / w.sum()


def _sample_days(rng: np.random.Generator, n: int, start: int, day_w: np.ndarray) -> np.ndarray:
    idx = np.searchsorted(np.cumsum(day_w), rng.random(n), side="right")
    return start + np.minimum(idx, len(day_w) - 1)


def _pick_rep(rng: np.random.Generator, seg: np.ndarray, region: np.ndarray, users: dict) -> np.ndarray:
    """A new-business rep: from the team of the (clean) segment; SMB by region (NA, LATAM: Americas)."""
    team = np.where(seg == 0, np.where(np.isin(region, (0, 3)), 0, 1), seg + 1)
    return _member(rng, team, users)


def _member(rng: np.random.Generator, team: np.ndarray, users: dict) -> np.ndarray:
    owner = np.empty(len(team), dtype=np.int32)
    for t in range(len(TEAMS)):
        members = np.flatnonzero(users["team"] == t)
        mask = team == t
        owner[mask] = members[rng.integers(0, len(members), int(mask.sum()))]
    return owner


def _users(rng: np.random.Generator, deals: int) -> dict:
    # ~20 reps at S scale, growing slowly with volume (about 44 at M scale); every team has one.
    n = int(np.clip(round(20 * (deals / 20_000) ** 0.2), 10, 150))
    sizes = np.maximum(np.round(n * TEAM_SHARE).astype(int), 1)
    sizes[2] += n - sizes.sum()  # rounding slack goes to the largest team
    team = np.repeat(np.arange(len(TEAMS)), sizes).astype(np.int8)
    office = np.array([TEAM_OFFICES[t][rng.integers(0, len(TEAM_OFFICES[t]))] for t in team])
    # Some reps close more than others: a win-rate multiplier per rep.
    skill = np.clip(rng.lognormal(0.0, 0.2, n), 0.7, 1.4)
    first = ("Ava", "Ben", "Chloe", "Diego", "Emma", "Felix", "Grace", "Hiro", "Isla", "Jonas", "Kira",
             "Liam", "Maya", "Noah", "Olga", "Priya", "Quinn", "Rafael", "Sofia", "Tom", "Uma", "Victor")
    last = ("Smith", "Müller", "Tanaka", "Silva", "Okafor", "Chen", "Novak", "Garcia", "Brown", "Rossi",
            "Kowalski", "Haddad", "Larsen", "Patel", "Dubois", "Kim", "Nguyen")
    names = [f"{first[i % len(first)]} {last[(i * 7 + i // len(first)) % len(last)]}" for i in range(n)]
    return {"team": team, "office": office, "name": np.array(names), "skill": skill}


def _accounts(rng: np.random.Generator, n: int, start: int, day_w: np.ndarray) -> dict:
    # Accounts enter the CRM over time (a fifth already exist at the start), so the pool of
    # never-won prospects keeps growing and new-customer counts grow with the business.
    n_old = n // 5
    birth = np.sort(np.concatenate([start + rng.integers(0, 30, n_old), _sample_days(rng, n - n_old, start, day_w)]))
    seg = rng.choice(3, n, p=ACCOUNT_SHARE).astype(np.int8)
    label = seg.copy()
    dirty = rng.random(n) < 0.03  # free-text segment field: ~3 % typed by hand
    label[dirty] = 3 + 2 * seg[dirty] + rng.integers(0, 2, int(dirty.sum()))
    return {
        "n": n, "seg": seg, "seg_label": label,
        "region": rng.choice(4, n, p=[0.45, 0.30, 0.15, 0.10]).astype(np.int8),
        "industry": rng.integers(0, len(INDUSTRIES), n).astype(np.int8),
        "name_key": rng.permutation(n),  # a bijection -> distinct names
        "birth": birth, "cdf": np.cumsum(rng.lognormal(0.0, 0.9, n) * ACTIVITY[seg]),
    }


def _weighted_accounts(rng: np.random.Generator, acc: dict, day: np.ndarray) -> np.ndarray:
    """An activity-weighted account among those already in the CRM on `day` (ids are by birth)."""
    known = np.maximum(np.searchsorted(acc["birth"], day, side="right"), 1)
    cdf = acc["cdf"]
    return np.minimum(np.searchsorted(cdf, rng.random(len(day)) * cdf[known - 1], side="right"), known - 1)


def _leads(rng, n, deals, acc, users, start, end, day_w) -> dict:
    day = np.sort(_sample_days(rng, n, start, day_w))  # sorted -> lead ids are chronological
    source = rng.choice(7, n, p=[0.12, 0.22, 0.20, 0.10, 0.18, 0.08, 0.10]).astype(np.int8)
    # Which leads became deals: weighted sampling without replacement via exponential keys
    # (O(n), unlike rng.choice(replace=False, p=...)); referrals/partners convert best.
    k = round(0.85 * deals)
    conv_w = np.array([1.0, 1.0, 0.7, 2.5, 0.9, 1.2, 1.8])[source]
    converted = np.sort(np.argpartition(rng.exponential(size=n) / conv_w, k)[:k])
    account = np.full(n, -1, dtype=np.int32)
    account[converted] = _weighted_accounts(rng, acc, day[converted])
    # Some unconverted leads are matched to an existing account (e.g. a second contact).
    others = np.setdiff1d(np.arange(n), converted, assume_unique=True)
    matched = others[rng.random(len(others)) < 0.3]
    account[matched] = _weighted_accounts(rng, acc, day[matched])
    has_acc = account >= 0
    seg = rng.choice(3, n, p=ACCOUNT_SHARE).astype(np.int8)
    seg[has_acc] = acc["seg"][account[has_acc]]
    seg_label = seg.copy()  # a lead tied to an account carries the account's stored value
    seg_label[has_acc] = acc["seg_label"][account[has_acc]]
    region = rng.choice(4, n, p=[0.45, 0.30, 0.15, 0.10]).astype(np.int8)
    region[has_acc] = acc["region"][account[has_acc]]
    # Status by age; 'converted' is reserved for (and exact on) leads that got a deal.
    age = end - day
    u = rng.random(n)
    status = np.where(age < 7, np.where(u < 0.6, 0, 1),
                      np.where(age < 30, np.select([u < 0.1, u < 0.5, u < 0.7], [0, 1, 2], 3),
                               np.select([u < 0.1, u < 0.25], [1, 2], 3))).astype(np.int8)
    status[converted] = 4
    dirty = rng.random(n) < 0.02 / 0.6  # ~60 % of leads come from sources with a dirty variant
    for clean, bad in DIRTY_SOURCE.items():
        source[dirty & (source == clean)] = bad
    # Time of day (UTC): business hours spread over the Americas/EMEA/APAC.
    secs = np.clip(rng.normal(15 * 3600, 4 * 3600, n), 0, 86_399).astype(np.int64)
    return {"n": n, "day": day, "ts": np.sort(day.astype(np.int64) * 86_400 + secs), "source": source,
            "seg": seg, "seg_label": seg_label, "region": region, "account": account,
            "owner": _pick_rep(rng, seg, region, users), "status": status, "converted": converted}


def _deals(rng, n, leads, acc, users, start, end, day_w) -> dict:
    conv = leads["converted"]
    k = len(conv)
    # From a lead: created 0-30 days after the lead, never after `until`.
    lag = np.minimum(rng.integers(0, 31, k), end - leads["day"][conv])
    direct = _sample_days(rng, n - k, start, day_w)
    created = np.concatenate([leads["day"][conv] + lag, direct])
    account = np.concatenate([leads["account"][conv], _weighted_accounts(rng, acc, direct)])
    lead = np.concatenate([conv, np.full(n - k, -1)]).astype(np.int32)
    order = np.argsort(created, kind="stable")  # chronological deal ids
    created, account, lead = created[order], account[order], lead[order]
    seg = acc["seg"][account]
    owner = _pick_rep(rng, seg, acc["region"][account], users)
    u = rng.random(n)
    won = u < np.clip(WIN_RATE[seg] * users["skill"][owner], 0.02, 0.95)
    cycle = np.maximum(1, np.round(rng.lognormal(np.log(CYCLE_MEDIAN[seg]), 0.7)).astype(np.int64))
    closed = created + cycle
    is_open = closed > end  # would close after `until`: still open today
    idx_closed = np.flatnonzero(~is_open)
    typo = idx_closed[rng.random(len(idx_closed)) < 0.002]  # closed before created: entry error
    closed[typo] = created[typo] - rng.integers(1, 15, len(typo))
    # Deals created after the account's first win are expansions or renewals: account managers
    # own them, and they have their own odds (a renewal is lost about as often as a customer churns).
    dtype = _deal_types(rng, account, created, closed, won & ~is_open, acc["n"])
    later = dtype > 0
    owner[later] = _member(rng, np.full(int(later.sum()), ACCOUNT_MANAGEMENT), users)
    odds = np.where(dtype == 2, RENEWAL_WIN_RATE[seg], EXPANSION_WIN_RATE[seg])
    won[later] = u[later] < odds[later]
    # Open stage follows how far into its (future) cycle the deal is.
    progress = np.clip((end - created) / cycle, 0, 0.999)
    stage = np.where(is_open, (progress * 4).astype(np.int8), np.where(won, 4, 5)).astype(np.int8)
    dirty = idx_closed[rng.random(len(idx_closed)) < 0.01]
    stage[dirty] = np.where(stage[dirty] == 4, rng.choice([6, 7], len(dirty)), 8)
    _guarantee_recent_win(stage, is_open, closed, created, end)
    amount = rng.lognormal(np.log(AMOUNT_MEDIAN[seg]), 0.8) * np.where(dtype == 1, 0.35, 1.0)
    return {"n": n, "created": created, "closed": closed, "open": stage < 4, "stage": stage,
            "account": account, "lead": lead, "seg": seg, "owner": owner, "type": dtype,
            "amount": np.round(amount, 2), "amount_null": (stage < 4) & (rng.random(n) < 0.01)}


def _deal_types(rng, account, created, closed, won, n_accounts) -> np.ndarray:
    """0 new business; 1 expansion, 2 renewal (65/35) once the account has won a deal before."""
    since = np.full(n_accounts, np.iinfo(np.int64).max)
    np.minimum.at(since, account[won], closed[won])
    later = created > since[account]
    return np.where(later, np.where(rng.random(len(account)) < 0.65, 1, 2), 0).astype(np.int8)


def _guarantee_recent_win(stage, is_open, closed, created, end) -> None:
    """Small data sets may have no win in until's (possibly one-day-old) month: close one."""
    first_of_month = int(np.datetime64(end, "D").astype("datetime64[M]").astype("datetime64[D]").astype(np.int64))
    if np.any((stage == 4) & ~is_open & (closed >= first_of_month)):
        return
    i = int(np.flatnonzero(is_open)[-1]) if is_open.any() else len(stage) - 1
    stage[i], is_open[i], closed[i] = 4, False, max(end, int(created[i]))


def _account_history(rng, acc, leads, dl, end) -> None:
    """customer_since, created_at and churn - all derived from the deals."""
    n, big = acc["n"], np.iinfo(np.int64).max
    won = np.isin(dl["stage"], WON_CODES) & ~dl["open"]
    since = np.full(n, big)
    np.minimum.at(since, dl["account"][won], dl["closed"][won])
    # Accounts are born before their events; only a closed_at typo can predate the birth.
    first = acc["birth"].copy()
    has_lead = leads["account"] >= 0
    np.minimum.at(first, leads["account"][has_lead], leads["day"][has_lead])
    np.minimum.at(first, dl["account"], np.minimum(dl["created"], np.where(dl["open"], big, dl["closed"])))
    acc["created"] = first
    # Churn = a customer stops renewing: the clock starts at its last won deal, so a churned
    # account never wins again (lost win-back attempts afterwards are fine and realistic).
    last_won = np.full(n, np.iinfo(np.int64).min)
    np.maximum.at(last_won, dl["account"][won], dl["closed"][won])
    is_cust = since != big
    wait = np.floor(rng.exponential(365.25 / CHURN_PER_YEAR[acc["seg"]])).astype(np.int64)
    churn = np.where(is_cust, np.maximum(last_won, since), end) + 1 + wait
    acc["since"] = np.where(is_cust, since, -1)
    acc["churned"] = np.where(is_cust & (churn <= end), churn, -1)


def _spend(rng, acc, start, end, day_w) -> dict:
    """Monthly budget per segment = CAC x new customers, spread along the growth curve."""
    days = np.arange(start, end + 1)
    month = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    months, inverse = np.unique(month, return_inverse=True)
    month_w = np.bincount(inverse, weights=day_w)  # partial first/last months spend less
    in_window = (acc["since"] >= start) & (acc["since"] <= end)
    new = np.bincount(acc["seg"][in_window], minlength=3)
    budget = CAC[None, :] * np.maximum(new, 1)[None, :] * month_w[:, None]  # (month, segment)
    budget *= rng.lognormal(0.0, 0.08, budget.shape)
    shares = np.concatenate([(1 - SALES_SHARE)[:, None] * MARKETING_MIX[None, :], SALES_SHARE[:, None]], axis=1)
    noise = rng.lognormal(0.0, 0.1, (len(months), 3, 6))
    amount = np.round(budget[:, :, None] * shares[None, :, :] * noise, 2)  # (month, segment, channel)
    m, s, c = np.meshgrid(np.arange(len(months)), np.arange(3), np.arange(6), indexing="ij")
    return {"month": months[m.ravel()], "seg": s.ravel().astype(np.int8),
            "channel": c.ravel().astype(np.int8), "amount": amount.ravel()}


def _cat(codes: np.ndarray, labels: tuple) -> pa.Array:
    return pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int8)), pa.array(list(labels)))


def _date(days: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    return pa.array(days.astype("datetime64[D]"), mask=null)


def _ref(col: str, prefix: str, width: int) -> str:
    """SQL turning a 0-based index column into a padded id; NULL stays NULL."""
    return f"'{prefix}' || lpad(CAST({col} + 1 AS VARCHAR), {width}, '0')"


def _load(con, users, acc, leads, dl, spend) -> dict[str, int]:
    tables = {
        "offices": pa.table({"i": np.arange(len(OFFICES)), "name": [o[0] for o in OFFICES],
                             "region": _cat(np.array([o[1] for o in OFFICES]), REGIONS)}),
        "users": pa.table({"i": np.arange(len(users["team"])), "name": users["name"],
                           "team": _cat(users["team"], TEAMS), "office": users["office"]}),
        "accounts": pa.table({"i": np.arange(acc["n"]), "key": acc["name_key"], "seg": _cat(acc["seg_label"], SEGMENT_LABELS),
                              "industry": _cat(acc["industry"], INDUSTRIES), "region": _cat(acc["region"], REGIONS),
                              "created": _date(acc["created"]), "since": _date(acc["since"], acc["since"] < 0),
                              "churned": _date(acc["churned"], acc["churned"] < 0)}),
        "leads": pa.table({"i": np.arange(leads["n"]), "ts": pa.array(leads["ts"].astype("datetime64[s]")),
                           "source": _cat(leads["source"], SOURCE_LABELS),
                           "seg": _cat(leads["seg_label"], SEGMENT_LABELS), "region": _cat(leads["region"], REGIONS),
                           "owner": leads["owner"], "account": pa.array(leads["account"], mask=leads["account"] < 0),
                           "status": _cat(leads["status"], LEAD_STATUSES)}),
        "deals": pa.table({"i": np.arange(dl["n"]), "lead": pa.array(dl["lead"], mask=dl["lead"] < 0), "account": dl["account"],
                           "owner": dl["owner"], "created": _date(dl["created"]),
                           "closed": _date(dl["closed"], dl["open"]), "stage": _cat(dl["stage"], STAGES),
                           "amount": pa.array(dl["amount"], mask=dl["amount_null"]),
                           "type": _cat(dl["type"], DEAL_TYPES)}),
        "spend": pa.table({"month": pa.array(spend["month"].astype("datetime64[M]").astype("datetime64[D]")),
                           "channel": _cat(spend["channel"], SPEND_CHANNELS), "seg": _cat(spend["seg"], SEGMENTS),
                           "amount": spend["amount"]}),
    }
    prefixes = ("Acme", "Blue", "Nova", "Apex", "Summit", "Bright", "Iron", "Silver", "North", "Quantum",
                "Vertex", "Cedar", "Harbor", "Pioneer", "Atlas", "Lumen", "Orbit", "Crest", "Delta", "Evergreen")
    cores = ("Logistics", "Health", "Analytics", "Foods", "Energy", "Systems", "Labs", "Retail", "Capital",
             "Media", "Robotics", "Networks", "Learning", "Foundry", "Motors", "Bio", "Cloud", "Works")
    suffixes = ("Inc", "LLC", "GmbH", "Ltd", "Group", "Co", "SA", "Pte Ltd")
    p, c, s = len(prefixes), len(cores), len(suffixes)
    statements = {
        "crm_offices": f"SELECT {_ref('i', 'O', 1)} AS office_id, name, CAST(region AS VARCHAR) AS region FROM _demo_offices",
        "crm_users": f"SELECT {_ref('i', 'U', 3)} AS user_id, name, CAST(team AS VARCHAR) AS team, "
                     f"{_ref('office', 'O', 1)} AS office_id FROM _demo_users",
        # Names: mixed-radix decode of a permutation -> unique; numbered once combinations run out.
        "crm_accounts": f"SELECT {_ref('i', 'A', 7)} AS account_id, "
                        f"{list(prefixes)}[key % {p} + 1] || ' ' || {list(cores)}[key // {p} % {c} + 1] || ' ' || "
                        f"{list(suffixes)}[key // {p * c} % {s} + 1] || CASE WHEN key >= {p * c * s} "
                        f"THEN ' ' || (key // {p * c * s} + 1) ELSE '' END AS name, "
                        "CAST(seg AS VARCHAR) AS segment, CAST(industry AS VARCHAR) AS industry, "
                        "CAST(region AS VARCHAR) AS region, created AS created_at, since AS customer_since, "
                        "churned AS churned_at FROM _demo_accounts",
        "crm_leads": f"SELECT {_ref('i', 'L', 8)} AS lead_id, CAST(ts AS TIMESTAMP) AS created_at, "
                     "CAST(source AS VARCHAR) AS source, CAST(seg AS VARCHAR) AS segment, "
                     f"CAST(region AS VARCHAR) AS region, {_ref('owner', 'U', 3)} AS owner_id, "
                     f"{_ref('account', 'A', 7)} AS account_id, CAST(status AS VARCHAR) AS status FROM _demo_leads",
        "crm_deals": f"SELECT {_ref('i', 'D', 8)} AS deal_id, {_ref('lead', 'L', 8)} AS lead_id, "
                     f"{_ref('account', 'A', 7)} AS account_id, {_ref('owner', 'U', 3)} AS owner_id, "
                     "created AS created_at, closed AS closed_at, CAST(stage AS VARCHAR) AS stage, "
                     "CAST(amount AS DOUBLE) AS amount, 'USD' AS currency, CAST(type AS VARCHAR) AS deal_type FROM _demo_deals",
        "spend": "SELECT month, CAST(channel AS VARCHAR) AS channel, CASE WHEN CAST(channel AS VARCHAR) = 'sales_team' "
                 "THEN 'sales' ELSE 'marketing' END AS kind, CAST(seg AS VARCHAR) AS segment, amount FROM _demo_spend",
    }
    counts = {}
    for (src, table), (dest, sql) in zip(tables.items(), statements.items()):
        name = f"_demo_{src}"
        con.register(name, table)
        try:
            con.execute(f"CREATE OR REPLACE TABLE {dest} AS {sql} ORDER BY ALL")
        finally:
            con.unregister(name)
        counts[dest] = table.num_rows  # CREATE TABLE AS neither drops nor adds rows
    return counts
