"""Benchmark of the portal's search (``/recherche``) on a generated catalogue of 1,000 datasets.

The catalogue: 1,000 datasets (titles, descriptions and producers drawn from French words with
accents), 12 fields each (label, meaning, unit) and 400 referent roles — 13,400 entries. The
same queries (accents, capitals, prefixes, several words, a word found nowhere) run through:

- **Pilotis**: ``SearchIndex.search`` (sorted vocabulary, prefixes by bisection), built once by
  ``pilotis.core.search_entries.build_index`` from a real ``Registry``;
- **baseline**: a plain linear scan of the same entries (``linear_search``: fold every entry's
  text and look for every word in it), with the same access filter.

Both filter hits through the same predicate (half of the datasets visible, as for an agent).
Target: under 100 ms per query (median and p95). Usage: ``python bench/bench_search.py [--repeat N]``.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import ROOT, fmt, load_average, md_table, median_ms, p95_ms, ratio  # noqa: E402

from pilotis.core.referents import Directory, ReferentsFile  # noqa: E402
from pilotis.core.registry import Registry  # noqa: E402
from pilotis.core.schema import PortalConfig  # noqa: E402
from pilotis.core.search import Entry, linear_search  # noqa: E402
from pilotis.core.search_entries import build_index, entries  # noqa: E402
from pilotis.core.sources import SOURCE_TYPES, DuckRuntime  # noqa: E402
from pilotis.plugins import register_builtins  # noqa: E402

TARGET_MS = 100.0
WORDS = (
    "dépenses recettes foyers allocataires bénéficiaires effectifs agents éducation collèges routes "
    "départementales énergie électricité santé établissements hébergement personnes âgées handicap "
    "enfance protection jeunesse insertion emploi formation numérique fibre raccordement très haut débit "
    "population communes intercommunalité épargne investissement fonctionnement subventions associations "
    "culture bibliothèques musées sport équipements transport scolaire mobilité déchets eau assainissement "
    "forêts agriculture exploitations élevage tourisme hôtellerie logement social habitat précarité"
).split()
QUERIES = (
    "dépenses",
    "DEPENSES fonctionnement",
    "foy",
    "personnes agees hebergement",
    "Très haut débit",
    "code insee",
    "collège",
    "marie",
    "introuvablexyz",
    "e",
)


def _phrase(rng: random.Random, count: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(count))


def generated_registry(datasets: int = 1000, seed: int = 7) -> Registry:
    """A registry whose catalogue is generated (no source is read: the search needs none)."""
    register_builtins()
    rng = random.Random(seed)
    csv = SOURCE_TYPES["csv"]
    sources = {}
    for number in range(datasets):
        columns = {
            f"champ_{c}": {"label": _phrase(rng, 2).capitalize(), "unit": rng.choice(["€", "%", "foyers", None])}
            | {"description": _phrase(rng, 8)}
            for c in range(11)
        }
        columns["code_insee"] = {"label": "Code INSEE", "description": "Code officiel géographique de la commune"}
        config = csv.Config.model_validate(
            {
                "type": "csv",
                "path": f"data/genere_{number}.csv",
                "title": _phrase(rng, 4).capitalize() + f" ({number})",
                "description": _phrase(rng, 15),
                "producer": _phrase(rng, 3),
                "columns": columns,
            }
        )
        sources[f"jeu_{number}"] = csv(f"jeu_{number}", config, ROOT, DuckRuntime())
    people = ["Marie Dupont", "Jean Martin", "Élise Bérubé", "Noël Lefèvre", "Zoé Caron"]
    roles = {f"jeu_{n}": {"holder": {"name": rng.choice(people), "email": "contact@example.org"}} for n in range(400)}
    portal = PortalConfig.model_validate({"collectivite": {"nom": "Département de test", "code_departement": "53"}})
    registry = Registry(root=ROOT, portal=portal, datasets=sources)
    registry.referents = Directory.of(ReferentsFile.model_validate({"datasets": roles}))
    return registry


def timed(run, repeat: int) -> list[float]:  # type: ignore[no-untyped-def]
    durations = []
    for _ in range(repeat):
        for query in QUERIES:
            start = time.perf_counter()
            run(query)
            durations.append(time.perf_counter() - start)
    return durations


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5, help="passes over the queries (default 5)")
    args = parser.parse_args()
    registry = generated_registry()
    start = time.perf_counter()
    index = build_index(registry)
    build = time.perf_counter() - start
    every: list[Entry] = list(entries(registry))
    visible = {f"jeu_{n}" for n in range(0, 1000, 2)}  # an agent sees half of the catalogue

    def allowed(entry: Entry) -> bool:
        return entry.owner[0] == "dataset" and entry.owner[1] in visible

    for query in QUERIES:  # same answers (as sets): the index finds what a scan finds, prefixes aside
        found = {h.entry for h in index.search(query, allowed, limit=100_000)}
        scanned = set(linear_search(every, query, allowed, limit=100_000))
        assert scanned <= found or query == "e", query
    pilotis = timed(lambda q: index.search(q, allowed), args.repeat)
    baseline = timed(lambda q: linear_search(every, q, allowed), args.repeat)
    rows = [
        ["Pilotis (index)", fmt(median_ms(pilotis), 2), fmt(p95_ms(pilotis), 2), "1.0×"],
        [
            "baseline (linear scan)",
            fmt(median_ms(baseline), 2),
            fmt(p95_ms(baseline), 2),
            ratio(median_ms(baseline) / median_ms(pilotis)),
        ],
    ]
    built = f"index built in {build * 1000:.0f} ms"
    print(f"Search over {len(every)} entries (1,000 datasets); {built}; load {load_average()}")
    print(md_table(["", "median ms / query", "p95 ms / query", "baseline ÷ Pilotis"], rows))
    ok = p95_ms(pilotis) < TARGET_MS
    print(f"Target: < {TARGET_MS:.0f} ms per query (p95): {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
