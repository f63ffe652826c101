"""Build the tidy demo data of Pilotis (Mayenne, 53) from ``data/raw/``.

Usage: ``python scripts/prepare_demo_data.py`` (no arguments).

Reads the real open data copied in ``data/raw/`` (see ``data/SOURCES.md``) and
(over)writes the tidy files of ``data/``.  Tables marked SIMULATED are
generated, anchored on real figures, and must be shown labelled
"données simulées".  The output is deterministic: two runs give byte-identical
files (fixed seeds, sorted rows, no timestamps in Parquet/XLSX).
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))

from demo_data import simulate  # noqa: E402
from demo_data.common import (  # noqa: E402
    collation_key,
    first_of_year,
    iso,
    write_csv,
    write_json,
    write_parquet,
    write_xlsx,
)
from demo_data.geo import simplify_layers  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "data" / "raw"
OUT = ROOT / "data"
DEP = "53"


def read_raw(name: str) -> pd.DataFrame:
    """Read a raw CSV with every column as string (codes keep their leading zeros)."""
    return pd.read_csv(RAW / name, dtype=str, keep_default_na=False, encoding="utf-8")


def num(series: pd.Series) -> pd.Series:
    """Parse a string column to float; empty cells become NaN."""
    return pd.to_numeric(series.replace("", np.nan))


def load_communes() -> pd.DataFrame:
    """Real communes (COG 2026) sorted by INSEE code, with integer population."""
    df = read_raw("communes_53.csv")
    df["population"] = df["population_municipale"].astype(int)
    return df.sort_values("code_insee", ignore_index=True)


def build_communes(communes: pd.DataFrame) -> pd.DataFrame:
    """1. data/communes.csv - lookup table of the 240 communes, sorted by name."""
    df = communes[["code_insee", "nom", "epci_siren", "epci_nom", "population"]].copy()
    df["_key"] = df["nom"].map(collation_key)
    df = df.sort_values(["_key", "nom", "code_insee"], ignore_index=True).drop(columns="_key")
    write_csv(df, OUT / "communes.csv")
    return df


def build_epci(communes: pd.DataFrame) -> pd.DataFrame:
    """2. data/epci.csv - the 10 EPCI; population = sum of their communes located in 53."""
    epci = read_raw("epci_53.csv")[["epci_siren", "epci_nom", "epci_type"]]
    agg = communes.groupby("epci_siren").agg(nb_communes=("code_insee", "size"), population=("population", "sum"))
    df = epci.merge(agg.reset_index(), on="epci_siren", how="left", validate="1:1")
    df["_key"] = df["epci_nom"].map(collation_key)
    df = df.sort_values(["_key", "epci_siren"], ignore_index=True).drop(columns="_key")
    write_csv(df, OUT / "epci.csv")
    return df


def build_geo() -> dict[str, tuple[float, float]]:
    """3. data/geo/*.geojson - simplified contours; returns commune centroids (lon, lat)."""
    layers = [
        (json.loads((RAW / f).read_text(encoding="utf-8")), code, name)
        for f, code, name in [
            ("communes_53.geojson", "code", "nom"),
            ("epci_53.geojson", "epci_siren", "epci_nom"),
            ("departement_53.geojson", "code", "nom"),
        ]
    ]
    # Tolerance 0.002° (~150-220 m): 0.001° left communes.geojson at ~210 KB, 0.002° gives
    # ~136 KB and is invisible at the scale of a map of the département.
    simplified = simplify_layers(layers, ndigits=4, tol=0.002)
    for target, fc in zip(["communes", "epci", "departement"], simplified, strict=True):
        write_json(fc, OUT / "geo" / f"{target}.geojson")
    centroids = {}
    for feature in layers[0][0]["features"]:
        geom = feature["geometry"]
        polys = [geom["coordinates"]] if geom["type"] == "Polygon" else geom["coordinates"]
        outer = max((np.asarray(p[0]) for p in polys), key=len)
        centroids[feature["properties"]["code"]] = (
            float(outer[:, 0].mean()),
            float(outer[:, 1].mean()),
        )
    return centroids


def build_rsa_departements() -> pd.DataFrame:
    """4. data/rsa_departements_mensuel.csv - real DREES monthly RSA households (all deps)."""
    raw = read_raw("rsa_departements_mensuel_2017-2020.csv")
    df = pd.DataFrame(
        {
            "code_departement": raw["code_departement"],
            "departement": raw["departement"],
            "date": pd.to_datetime(raw["mois"] + "-01"),
            "foyers_allocataires": raw["effectif"].astype(int),
            "evolution_glissement_annuel_pct": num(raw["evolution_glissement_annuel_pct"]),
            "statut": raw["statut"],
        }
    ).sort_values(["code_departement", "date"], ignore_index=True)
    out = df.assign(date=iso(df["date"]))
    write_csv(out, OUT / "rsa_departements_mensuel.csv")
    return df


def build_rsa_communes(communes: pd.DataFrame, rsa_dep: pd.DataFrame) -> pd.DataFrame:
    """5. data/rsa_communes_mensuel.parquet - SIMULATED; each month sums to the real 53 total."""
    totals = rsa_dep[rsa_dep["code_departement"] == DEP].set_index("date")["foyers_allocataires"]
    df = simulate.rsa_communes(communes, totals).sort_values(["code_insee", "date"], ignore_index=True)
    check = df.groupby("date")["foyers_allocataires"].sum()
    assert (check == totals).all() and len(check) == len(totals), "RSA commune sums differ from DREES"
    schema = pa.schema(
        [
            ("code_insee", pa.string()),
            ("epci_siren", pa.string()),
            ("date", pa.date32()),
            ("foyers_allocataires", pa.int64()),
        ]
    )
    write_parquet(df, schema, OUT / "rsa_communes_mensuel.parquet")
    return df


def quarter_start(trimestre: pd.Series) -> pd.Series:
    """'2017-T3' -> '2017-07-01'."""
    year, q = trimestre.str.split("-T", expand=True).T.to_numpy()
    return pd.Series(
        [f"{y}-{3 * int(n) - 2:02d}-01" for y, n in zip(year, q, strict=True)],
        index=trimestre.index,
    )


def build_fibre(communes: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """6-7. data/fibre_communes.csv, data/fibre_departements.csv - real ARCEP FTTH data."""
    raw = read_raw("arcep_ftth_communes2026_53_agrege.csv")
    total = raw["logements_insee"].astype(int) + raw["etablissements_insee"].astype(int)
    df = pd.DataFrame(
        {
            "code_insee": raw["code_insee_2026"],
            "epci_siren": raw["code_insee_2026"].map(communes.set_index("code_insee")["epci_siren"]),
            "date": quarter_start(raw["trimestre"]),
            "locaux_raccordables": raw["locaux_raccordables_ftth"].astype(int),
            "locaux_total": total,
            "taux_raccordables": (raw["locaux_raccordables_ftth"].astype(int) / total.where(total > 0)).round(4),
        }
    ).sort_values(["code_insee", "date"], ignore_index=True)
    assert df["epci_siren"].notna().all()
    write_csv(df, OUT / "fibre_communes.csv")
    dep = read_raw("arcep_ftth_departements_2017T3-2018T1.csv")
    dep_df = pd.DataFrame(
        {
            "code_departement": dep["code_departement"],
            "date": quarter_start(dep["trimestre"]),
            "locaux_raccordables": dep["locaux_raccordables_ftth"].astype(int),
        }
    )
    dep_df = dep_df.sort_values(["code_departement", "date"], ignore_index=True)
    write_csv(dep_df, OUT / "fibre_departements.csv")
    return df, dep_df


def build_aide_sociale() -> pd.DataFrame:
    """8. data/aide_sociale_departements.csv - real DREES social-aid spending, in euros."""
    raw = read_raw("depenses_aide_sociale_departements_1999-2019.csv")
    df = pd.DataFrame(
        {
            "code_departement": raw["code_departement"],
            "departement": raw["departement"],
            "date": first_of_year(raw["annee"]),
            "indicateur": raw["indicateur"],
            "montant_euros": (num(raw["montant_milliers_euros"]) * 1000).round(2),
        }
    ).sort_values(["code_departement", "indicateur", "date"], ignore_index=True)
    write_csv(df, OUT / "aide_sociale_departements.csv")
    return df


def build_finances(communes: pd.DataFrame) -> pd.DataFrame:
    """9. data/finances_communes.parquet - SIMULATED commune budget execution 2019-2025."""
    df = simulate.finances_communes(communes)
    order = {key: i for i, key in enumerate(simulate.FINANCE_CHAPTERS)}
    df["_o"] = [order[k] for k in zip(df["section"], df["sens"], strict=True)]
    df = df.sort_values(["code_insee", "date", "_o"], kind="stable", ignore_index=True).drop(columns="_o")
    schema = pa.schema(
        [
            ("code_insee", pa.string()),
            ("epci_siren", pa.string()),
            ("date", pa.date32()),
            ("section", pa.string()),
            ("sens", pa.string()),
            ("chapitre", pa.string()),
            ("montant", pa.float64()),
        ]
    )
    write_parquet(df, schema, OUT / "finances_communes.parquet")
    return df


def build_dotations(communes: pd.DataFrame) -> pd.DataFrame:
    """10. data/dotations_2019.csv - real 2019 State investment grants (DETR/DSIL/DSID), 53."""
    raw = read_raw("dotations_investissement_2019_projets_53.csv")
    # The source spells one theme two ways ("... et transport" / "... et transports").
    categorie = raw["categorie"].replace(
        "7 - Construction, habitat, urbanisme et transport",
        "7 - Construction, habitat, urbanisme et transports",
    )
    df = pd.DataFrame(
        {
            "id_projet": raw["id_projet"],
            "date": "2019-01-01",
            "dotation": raw["dotation"],
            "echelon": raw["echelon"],
            "categorie": categorie,
            "nom_terr": raw["nom_terr"],
            "code_insee": raw["code_insee_2026"],
            # Commune projects: the commune's EPCI; EPCI projects: the EPCI itself (id_terr is
            # its SIREN), so that choosing an EPCI also shows its own projects.
            "epci_siren": raw["code_insee_2026"]
            .map(communes.set_index("code_insee")["epci_siren"])
            .where(raw["echelon"] != "epci", raw["id_terr"])
            .fillna(""),
            "description": raw["description"],
            "cout_total": num(raw["cout_total"]),
            "montant_sub": num(raw["montant_sub"]),
            "lat": num(raw["lat"]),
            "lon": num(raw["long"]),
        }
    ).sort_values("id_projet", ignore_index=True)
    assert (df.loc[df["code_insee"] != "", "epci_siren"] != "").all()
    write_csv(df, OUT / "dotations_2019.csv")
    return df


def build_rh() -> pd.DataFrame:
    """11. data/rh_effectifs_mensuels.parquet - SIMULATED payroll; Solidarités = DREES staff."""
    raw = read_raw("personnel_action_sociale_departements_2014-2020.csv")
    sel = raw[
        (raw["code_departement"] == DEP)
        & (raw["categorie_personnel"] == "total_general_hors_AF")
        & (raw["mesure"] == "effectif_31dec")
        & (raw["valeur"] != "")
    ]
    dec = pd.Series(sel["valeur"].astype(float).to_numpy(), index=sel["annee"].astype(int)).sort_index()
    df = simulate.rh_effectifs(dec)
    df = df.sort_values(["date", "direction", "categorie", "statut"], ignore_index=True)
    schema = pa.schema(
        [
            ("date", pa.date32()),
            ("direction", pa.string()),
            ("categorie", pa.string()),
            ("statut", pa.string()),
            ("effectif", pa.int64()),
            ("etp", pa.float64()),
            ("masse_salariale", pa.float64()),
            ("jours_absence", pa.float64()),
        ]
    )
    write_parquet(df, schema, OUT / "rh_effectifs_mensuels.parquet")
    solid_dec = df[(df["direction"] == "Solidarités") & (df["date"].dt.month == 12)]
    solid_dec = solid_dec.groupby(solid_dec["date"].dt.year)["effectif"].sum()
    assert all(solid_dec[y] == dec[y] for y in dec.index if y in solid_dec.index), "Solidarités anchor broken"
    return df


def build_agents_communes(
    communes: pd.DataFrame, centroids: dict[str, tuple[float, float]], rh: pd.DataFrame
) -> pd.DataFrame:
    """12. data/rh_agents_communes.csv - SIMULATED agents by commune of residence at 2026-01-01."""
    total = int(rh.loc[rh["date"] == "2026-01-01", "effectif"].sum())
    df = communes[["code_insee", "epci_siren"]].assign(date="2026-01-01")
    df["agents"] = simulate.agents_communes(communes, centroids, total)
    write_csv(df, OUT / "rh_agents_communes.csv")
    return df


def build_objectifs() -> pd.DataFrame:
    """13. data/objectifs.xlsx - a few targets (sheet 'objectifs'), demo of the Excel source."""
    df = pd.DataFrame(
        [
            ("taux_raccordables", 2018, 0.35),
            ("foyers_rsa", 2019, 3700),
            ("foyers_rsa", 2020, 3800),
            ("effectif_total", 2025, 1800),
            ("effectif_total", 2026, 1800),
        ],
        columns=["indicateur", "annee", "cible"],
    )
    write_xlsx(df, "objectifs", OUT / "objectifs.xlsx")
    return df


OUTPUTS = [
    "communes.csv",
    "epci.csv",
    "geo/communes.geojson",
    "geo/epci.geojson",
    "geo/departement.geojson",
    "rsa_departements_mensuel.csv",
    "rsa_communes_mensuel.parquet",
    "fibre_communes.csv",
    "fibre_departements.csv",
    "aide_sociale_departements.csv",
    "finances_communes.parquet",
    "dotations_2019.csv",
    "rh_effectifs_mensuels.parquet",
    "rh_agents_communes.csv",
    "objectifs.xlsx",
]


def main() -> None:
    """Build every output, then print rows, size and sha256 of each file."""
    communes = load_communes()
    counts = {"communes.csv": len(build_communes(communes)), "epci.csv": len(build_epci(communes))}
    centroids = build_geo()
    rsa_dep = build_rsa_departements()
    counts["rsa_departements_mensuel.csv"] = len(rsa_dep)
    counts["rsa_communes_mensuel.parquet"] = len(build_rsa_communes(communes, rsa_dep))
    fibre, fibre_dep = build_fibre(communes)
    counts.update({"fibre_communes.csv": len(fibre), "fibre_departements.csv": len(fibre_dep)})
    counts["aide_sociale_departements.csv"] = len(build_aide_sociale())
    counts["finances_communes.parquet"] = len(build_finances(communes))
    counts["dotations_2019.csv"] = len(build_dotations(communes))
    rh = build_rh()
    counts["rh_effectifs_mensuels.parquet"] = len(rh)
    counts["rh_agents_communes.csv"] = len(build_agents_communes(communes, centroids, rh))
    counts["objectifs.xlsx"] = len(build_objectifs())
    print(f"{'fichier':34} {'lignes':>8} {'octets':>9}  sha256")
    for name in OUTPUTS:
        path = OUT / name
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        if path.suffix == ".geojson":
            counts[name] = len(json.loads(path.read_text(encoding="utf-8"))["features"])
        print(f"{name:34} {counts.get(name, ''):>8} {path.stat().st_size:>9}  {digest}")
    jan26 = rh[rh["date"] == "2026-01-01"]
    print(f"Effectif total janvier 2026 (simulé) : {jan26['effectif'].sum()}")


if __name__ == "__main__":
    main()
