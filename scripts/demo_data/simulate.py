"""Simulated ("données simulées") tables, anchored on real open data.

Every generator is deterministic: one ``numpy.random.default_rng(53xx)`` per table
and inputs sorted before any random draw.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .common import largest_remainder, month_starts

# Urban centres get a higher RSA rate (INSEE code -> multiplier on the population weight).
URBAN_RSA_FACTOR = {
    "53130": 2.4,  # Laval
    "53147": 2.0,  # Mayenne
    "53062": 1.7,  # Château-Gontier-sur-Mayenne
    "53097": 1.6,  # Évron
    "53096": 1.5,  # Ernée
    "53084": 1.5,  # Craon
}


def _size_index(population: np.ndarray) -> np.ndarray:
    """0 for a 100-inhabitant commune, 1 for Laval (~50,000), log scale."""
    return np.clip((np.log10(population) - 2.0) / (math.log10(50_000) - 2.0), 0.0, 1.0)


def rsa_communes(communes: pd.DataFrame, totals: pd.Series) -> pd.DataFrame:
    """Monthly RSA households per commune; each month sums exactly to the real Mayenne total.

    ``communes``: code_insee, epci_siren, population (sorted by code_insee).
    ``totals``: real monthly effectif of département 53, indexed by month start (Timestamp).
    """
    rng = np.random.default_rng(5301)
    n = len(communes)
    pop = communes["population"].to_numpy(dtype=float)
    urban = communes["code_insee"].map(URBAN_RSA_FACTOR).fillna(1.0).to_numpy()
    base = pop * urban * rng.lognormal(0.0, 0.35, n)
    # Slowly varying per-commune drift (log scale): a linear trend plus a slow wave.
    slope = rng.normal(0.0, 0.04, n)
    amp = rng.normal(0.0, 0.03, n)
    period = rng.uniform(2.0, 5.0, n)
    phase = rng.uniform(0.0, 2 * math.pi, n)
    dates = totals.index
    t = np.asarray((dates.year - dates[0].year) + (dates.month - dates[0].month) / 12.0, dtype=float)
    wave = np.sin(2 * math.pi * t[None, :] / period[:, None] + phase[:, None]) - np.sin(phase)[:, None]
    weights = base[:, None] * np.exp(slope[:, None] * t[None, :] + amp[:, None] * wave)
    counts = np.column_stack([largest_remainder(int(tot), weights[:, j]) for j, tot in enumerate(totals.to_numpy())])
    return pd.DataFrame(
        {
            "code_insee": np.repeat(communes["code_insee"].to_numpy(), len(dates)),
            "epci_siren": np.repeat(communes["epci_siren"].to_numpy(), len(dates)),
            "date": np.tile(dates.to_numpy(), n),
            "foyers_allocataires": counts.reshape(-1).astype(np.int64),
        }
    )


FINANCE_CHAPTERS: dict[tuple[str, str], list[tuple[str, float]]] = {
    ("Fonctionnement", "Dépenses"): [
        ("Charges à caractère général", 0.29),
        ("Charges de personnel", 0.43),
        ("Atténuations de produits", 0.04),
        ("Autres charges de gestion courante", 0.17),
        ("Charges financières", 0.03),
        ("Dotations aux amortissements", 0.04),
    ],
    ("Fonctionnement", "Recettes"): [
        ("Impôts et taxes", 0.50),
        ("Dotations et participations", 0.30),
        ("Produits des services et du domaine", 0.09),
        ("Autres produits de gestion courante", 0.04),
        ("Atténuations de charges", 0.02),
        ("Produits exceptionnels", 0.05),
    ],
    ("Investissement", "Dépenses"): [
        ("Dépenses d'équipement", 0.74),
        ("Remboursement d'emprunts", 0.16),
        ("Subventions d'équipement versées", 0.05),
        ("Immobilisations financières", 0.01),
        ("Opérations d'ordre entre sections", 0.04),
    ],
    ("Investissement", "Recettes"): [
        ("Subventions d'investissement", 0.27),
        ("Emprunts", 0.20),
        ("Dotations, fonds divers et réserves", 0.14),
        ("Excédents de fonctionnement capitalisés", 0.22),
        ("Amortissements des immobilisations", 0.12),
        ("Produits des cessions", 0.05),
    ],
}
# Price/volume path of operating spending and the municipal investment cycle (elections 2020, 2026).
FONCT_YEAR = {2019: 1.0, 2020: 0.985, 2021: 1.02, 2022: 1.075, 2023: 1.14, 2024: 1.175, 2025: 1.195}
INVEST_YEAR = {2019: 1.10, 2020: 0.80, 2021: 0.90, 2022: 1.00, 2023: 1.10, 2024: 1.15, 2025: 1.20}


def finances_communes(communes: pd.DataFrame) -> pd.DataFrame:
    """Commune budget execution 2019-2025 by section / sens / chapter (euros)."""
    rng = np.random.default_rng(5302)
    n = len(communes)
    pop = communes["population"].to_numpy(dtype=float)
    size = _size_index(pop)
    fonct_hab = (780 + 380 * size) * rng.lognormal(0.0, 0.08, n)
    epargne = np.clip(1.12 + rng.normal(0.0, 0.05, n), 1.0, 1.3)
    invest_hab = 280 + 180 * rng.uniform(0.0, 1.0, n)
    rows = []
    for year in sorted(FONCT_YEAR):
        fd = pop * fonct_hab * FONCT_YEAR[year] * rng.lognormal(0.0, 0.025, n)
        fr = fd * epargne * rng.lognormal(0.0, 0.02, n)
        inv = pop * invest_hab * INVEST_YEAR[year] * rng.lognormal(0.0, 0.35, n)
        ir = inv * rng.uniform(0.85, 1.10, n)
        totals = {
            ("Fonctionnement", "Dépenses"): fd,
            ("Fonctionnement", "Recettes"): fr,
            ("Investissement", "Dépenses"): inv,
            ("Investissement", "Recettes"): ir,
        }
        for key, chapters in FINANCE_CHAPTERS.items():
            shares = np.array([[s for _, s in chapters]] * n)
            if key == ("Fonctionnement", "Dépenses"):  # bigger communes: more staff
                shares[:, 1] = 0.30 + 0.26 * size
            if key == ("Fonctionnement", "Recettes"):  # small communes: more State grants
                shares[:, 0] = 0.42 + 0.16 * size
                shares[:, 1] = 0.38 - 0.14 * size
            shares *= rng.lognormal(0.0, 0.08, shares.shape)
            shares /= shares.sum(axis=1, keepdims=True)
            amounts = np.round(totals[key][:, None] * shares, 2)
            for k, (label, _) in enumerate(chapters):
                rows.append(
                    pd.DataFrame(
                        {
                            "code_insee": communes["code_insee"].to_numpy(),
                            "epci_siren": communes["epci_siren"].to_numpy(),
                            "date": pd.Timestamp(year=year, month=1, day=1),
                            "section": key[0],
                            "sens": key[1],
                            "chapitre": label,
                            "montant": amounts[:, k],
                        }
                    )
                )
    return pd.concat(rows, ignore_index=True)


# direction -> (headcount Jan 2019, yearly growth, shares of categories A/B/C,
#               contractuel share, summer bump)
DIRECTIONS: dict[str, tuple[float, float, tuple[float, float, float], float, float]] = {
    "Solidarités": (0.0, 0.0, (0.38, 0.22, 0.40), 0.14, 0.010),  # headcount anchored on DREES
    "Finances": (48, 0.005, (0.35, 0.40, 0.25), 0.06, 0.010),
    "Ressources humaines": (62, 0.010, (0.30, 0.40, 0.30), 0.08, 0.010),
    "Numérique": (52, 0.040, (0.55, 0.35, 0.10), 0.20, 0.010),
    "Routes et mobilités": (455, 0.002, (0.06, 0.16, 0.78), 0.08, 0.030),
    "Collèges et éducation": (450, 0.006, (0.04, 0.10, 0.86), 0.18, 0.020),
    "Culture et patrimoine": (118, 0.005, (0.25, 0.35, 0.40), 0.16, 0.080),
    "Direction générale": (88, 0.005, (0.40, 0.30, 0.30), 0.10, 0.010),
}
COST_PER_ETP_2019 = {"A": 5200.0, "B": 4000.0, "C": 3250.0}  # loaded monthly cost, titulaires
ABSENCE_DAYS = {"A": 0.9, "B": 1.3, "C": 1.9}  # days per agent per month (yearly average)
ABSENCE_SHOCKS = {"2020-03": 1.6, "2020-04": 1.5, "2020-05": 1.2, "2022-01": 1.35, "2022-02": 1.15}


def solidarites_anchor(dec_headcount: pd.Series, dates: pd.DatetimeIndex) -> np.ndarray:
    """Solidarités headcount per month: equal to the real 31-Dec staff in each December,
    linearly interpolated in between, extrapolated after the last year with a damped trend."""
    years = dec_headcount.index.to_numpy(dtype=float)
    values = dec_headcount.to_numpy(dtype=float)
    slope = 0.6 * np.polyfit(years, values, 1)[0]
    last_year = int(years.max())
    anchors = dict(zip(years.astype(int), values, strict=True))
    for y in range(last_year + 1, dates.year.max() + 1):
        anchors[y] = values[-1] + slope * (y - last_year)
    x = np.array([y + 11 / 12 for y in sorted(anchors)])
    return np.interp(dates.year + (dates.month - 1) / 12, x, [anchors[y] for y in sorted(anchors)])


def rh_effectifs(dec_headcount: pd.Series, start: str = "2019-01-01", end: str = "2026-10-01") -> pd.DataFrame:
    """Monthly payroll of the Conseil départemental by direction x category x statut."""
    rng = np.random.default_rng(5303)
    dates = month_starts(start, end)
    t = np.asarray((dates.year - 2019) + (dates.month - 1) / 12.0, dtype=float)
    summer = np.maximum(0.0, np.cos(2 * math.pi * (dates.month.to_numpy() - 7) / 12))  # Apr-Oct, 0 in Dec
    winter = 1 + 0.22 * np.cos(2 * math.pi * (dates.month.to_numpy() - 1) / 12)
    shock = np.array([ABSENCE_SHOCKS.get(d.strftime("%Y-%m"), 1.0) for d in dates])
    point = np.where(dates >= "2022-07-01", 1.035, 1.0) * np.where(dates >= "2023-07-01", 1.015, 1.0)
    pay_index = point * 1.009**t * np.where(dates.month == 11, 1.08, 1.0)
    solid = solidarites_anchor(dec_headcount, dates)
    frames = []
    for direction, (base, growth, cat_shares, ctr_share, bump) in DIRECTIONS.items():
        trend = solid if direction == "Solidarités" else base * (1 + growth) ** t
        noise = rng.normal(0.0, 0.004, len(dates))
        if direction == "Solidarités":
            noise[dates.month == 12] = 0.0  # December = real DREES 31-Dec headcount
        total = np.rint(trend * (1 + bump * summer + noise)).astype(int)
        ctr = ctr_share + 0.004 * t + bump * summer
        for j, date in enumerate(dates):
            cells = [
                (c, s, cat_shares[k] * (ctr[j] if s == "Contractuel" else 1 - ctr[j]))
                for k, c in enumerate("ABC")
                for s in ("Titulaire", "Contractuel")
            ]
            counts = largest_remainder(int(total[j]), np.array([w for *_, w in cells]))
            for (cat, statut, _), eff in zip(cells, counts, strict=True):
                quotite = {"A": 0.96, "B": 0.94, "C": 0.92}[cat] * (0.88 if statut == "Contractuel" else 1.0)
                etp = round(eff * quotite * rng.uniform(0.98, 1.02), 1)
                cost = COST_PER_ETP_2019[cat] * (0.88 if statut == "Contractuel" else 1.0)
                masse = round(etp * cost * pay_index[j] * rng.uniform(0.995, 1.005), 2)
                absence = eff * ABSENCE_DAYS[cat] * winter[j] * shock[j] * rng.lognormal(0.0, 0.08)
                frames.append((date, direction, cat, statut, int(eff), etp, masse, round(absence, 1)))
    return pd.DataFrame(
        frames,
        columns=[
            "date",
            "direction",
            "categorie",
            "statut",
            "effectif",
            "etp",
            "masse_salariale",
            "jours_absence",
        ],
    )


def agents_communes(communes: pd.DataFrame, centroids: dict[str, tuple[float, float]], total: int) -> np.ndarray:
    """Agents per commune of residence (population x proximity to Laval); sums to ``total``."""
    rng = np.random.default_rng(5304)
    lon0, lat0 = centroids["53130"]
    km = np.array(
        [
            math.hypot(
                (centroids[c][0] - lon0) * 111.32 * math.cos(math.radians(lat0)),
                (centroids[c][1] - lat0) * 110.57,
            )
            for c in communes["code_insee"]
        ]
    )
    pop = communes["population"].to_numpy(dtype=float)
    weights = pop**0.9 * (0.3 + np.exp(-km / 18.0)) * rng.lognormal(0.0, 0.3, len(pop))
    return largest_remainder(total, weights)
