"""The product catalogue of the price-check goal: the shipped forty, or a generated one of any size (lab 03).

A catalogue is a folder with `products.jsonl` (sku, name, listed_price, ...), `live_prices.json` (what the
live price API returns per SKU) and `mispriced.json` (`{"threshold_pct", "skus"}`: the ground truth).
`datasets/catalog/` is the shipped one (forty products, seven mispriced); `write_catalog(folder, n)` makes a
seeded one of `n` products, so the same goal can be planned four thousand wide. A product is mispriced when
its listed and live prices differ by more than `threshold_pct` percent of the live price, as in the dataset.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

from agentlab.data import data_dir
from agentlab.errors import ConfigError

__all__ = ["Catalog", "load_catalog", "write_catalog"]


@dataclass(frozen=True)
class Catalog:
    """Listed prices, live prices and the ground truth of one catalogue."""

    products: tuple[dict[str, object], ...]
    live: dict[str, float]
    threshold_pct: float
    mispriced: tuple[str, ...]


def load_catalog(folder: str | Path | None = None) -> Catalog:
    """The catalogue in `folder` (default: the shipped `datasets/catalog`)."""
    root = Path(folder) if folder else data_dir() / "catalog"
    try:
        lines = (root / "products.jsonl").read_text(encoding="utf-8").splitlines()
        live = json.loads((root / "live_prices.json").read_text(encoding="utf-8"))
        truth = json.loads((root / "mispriced.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"{root} is not a catalogue (products.jsonl, live_prices.json, mispriced.json): {exc}"
        ) from exc
    products = tuple(json.loads(line) for line in lines if line.strip())
    return Catalog(
        products, {k: float(v) for k, v in live.items()}, float(truth["threshold_pct"]), tuple(truth["skus"])
    )


def write_catalog(folder: str | Path, n: int, seed: int = 2026, share: float = 0.15) -> Catalog:
    """Write a seeded catalogue of `n` products, about `share` of them mispriced by 8-40 %, into `folder`."""
    rng, root = random.Random(seed), Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    products, live, wrong = [], {}, []
    for i in range(n):
        sku = f"NR-{10001 + i}"
        listed = round(rng.uniform(50, 9000), 2)
        price = listed
        if rng.random() < share:
            price = round(listed / (1 + rng.choice([-1, 1]) * rng.uniform(0.08, 0.4)), 2)
            wrong.append(sku)
        products.append({"sku": sku, "name": f"Generated Product {i + 1}", "listed_price": listed, "currency": "USD"})
        live[sku] = price
    truth = {"threshold_pct": 5.0, "skus": sorted(wrong)}
    (root / "products.jsonl").write_text("".join(json.dumps(p) + "\n" for p in products), encoding="utf-8")
    (root / "live_prices.json").write_text(json.dumps(live), encoding="utf-8")
    (root / "mispriced.json").write_text(json.dumps(truth), encoding="utf-8")
    return load_catalog(root)
