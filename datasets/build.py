#!/usr/bin/env python3
"""Generate every agentlab dataset for the fictional company Northwind Relay.

Usage:  python datasets/build.py

Stdlib only and fully deterministic: one random.Random(2026) drives every
choice, so running the script twice produces byte-identical files. The
datasets/debug/ scenario is hand-written and is not produced here.
"""

import datetime
import json
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # keep datasets/ free of __pycache__

import _build_kb as kb  # noqa: E402
from _build_briefs import make_briefs  # noqa: E402
from _build_policy import POLICY_REGIONS, TOPICS, policy  # noqa: E402
from _build_products import TEAMS, catalog_page, live_prices, make_products  # noqa: E402
from _build_questions import make_questions  # noqa: E402

SEED = 2026
THRESHOLD_PCT = 5.0
N_KB_PRODUCTS = 30
N_INCIDENTS = 80
N_WEEKLY, N_MONTHLY = 50, 20
WEEKS = list(range(6, 16))
MONTHS = ["December 2025", "January 2026", "February 2026", "March 2026"]


def day(rng, start, span_days):
    return start + datetime.timedelta(days=rng.randrange(span_days))


def write_text(rel, text):
    path = os.path.join(HERE, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    text.encode("ascii")  # raises if anything non-ASCII slipped in
    with open(path, "w", encoding="ascii", newline="\n") as fh:
        fh.write(text)


def write_json(rel, obj):
    write_text(rel, json.dumps(obj, indent=2) + "\n")


def write_jsonl(rel, rows):
    write_text(rel, "".join(json.dumps(r) + "\n" for r in rows))


# ------------------------------------------------------------------ catalog
def build_catalog(rng, products):
    rows = []
    for p in products:
        rows.append(
            {
                "sku": p["sku"],
                "name": p["name"],
                "category": p["category"],
                "listed_price": p["listed_price"],
                "currency": "USD",
                "page": catalog_page(rng, p),
            }
        )
    live, bad = live_prices(rng, products)
    for sku in bad:
        listed = next(p["listed_price"] for p in products if p["sku"] == sku)
        assert abs(listed - live[sku]) / live[sku] * 100 > THRESHOLD_PCT
    write_jsonl("catalog/products.jsonl", rows)
    write_json("catalog/live_prices.json", live)
    write_json("catalog/mispriced.json", {"threshold_pct": THRESHOLD_PCT, "skus": bad})


# ----------------------------------------------------------- knowledge base
def build_kb_docs(rng, products):
    """Return a list of raw docs: dict(kind, title, sents, facts, meta)."""
    docs = []

    def add(kind, result, meta, pad_kind):
        title, sents, facts = result
        sents = kb.pad(rng, sents, pad_kind)
        for f in facts:
            f["meta"] = meta
        docs.append({"kind": kind, "title": title, "sents": sents, "facts": facts})

    kb_idx = sorted(rng.sample(range(len(products)), N_KB_PRODUCTS))
    kb_products = [products[i] for i in kb_idx]
    # Plan incidents first (ids increase with date; ~20 products get several
    # each) so release notes can refer to earlier incidents on their product.
    ids = sorted(rng.sample(range(2001, 2400), N_INCIDENTS))
    dates = sorted(day(rng, datetime.date(2025, 1, 6), 390) for _ in ids)  # ends before the weekly reports
    inc_products = rng.sample(kb_products, 20)
    plan = [(f"INC-{n}", d, rng.choice(inc_products), rng.choice(kb.REGIONS)) for n, d in zip(ids, dates, strict=True)]

    for p in kb_products:
        meta = {"product": p["name"]}
        add("product", kb.product_overview(rng, p), meta, "overview")
        add("product", kb.product_specs(rng, p), meta, "specs")
        rel = day(rng, datetime.date(2025, 6, 1), 300)
        earlier = [i for i, d, q, _ in plan if q is p and d < rel]
        fixes = earlier[-1] if earlier and rng.random() < 0.6 else None
        add("product", kb.product_release(rng, p, rel.isoformat(), fixes), meta, "release")

    for topic, owner, facts in TOPICS:
        for region in POLICY_REGIONS:
            title, sents, fs = policy(rng, topic, owner, facts, region)
            docs.append({"kind": "policy", "title": title, "sents": sents, "facts": fs})
            for f in fs:
                f["meta"] = {"region": region}

    seen = {}
    for inc_id, date, p, region in plan:
        prior = seen.setdefault(p["name"], [])
        related = rng.choice(prior) if prior and rng.random() < 0.45 else None
        helper = rng.choice([t for t in TEAMS if t != p["team"]])  # never the owner: keeps bridge questions 2-hop
        add(
            "incident",
            kb.incident(rng, inc_id, date.isoformat(), p, region, helper, related),
            {"id": inc_id, "product": p["name"], "region": region},
            "incident",
        )
        prior.append(inc_id)

    # Metrics: weekly per product/region/week, monthly per product/month.
    weekly_products = rng.sample(kb_products, 8)
    combos, series = [], {}
    for p in weekly_products:
        for region in rng.sample(kb.REGIONS, 3):
            # one consistent latency history per product and region (incl. the week before)
            series[(p["sku"], region)] = kb.p95_series(rng, [WEEKS[0] - 1, *WEEKS])
            for week in WEEKS:
                combos.append((p, region, week))
    for p, region, week in sorted(rng.sample(combos, N_WEEKLY), key=lambda c: (c[2], c[0]["sku"], c[1])):
        add(
            "metric",
            kb.weekly_metric(rng, p, region, week, series[(p["sku"], region)]),
            {"product": p["name"], "region": region, "week": week},
            "metric",
        )
    monthly_products = rng.sample(kb_products, 5)
    base_revenue = {p["sku"]: rng.randrange(80, 1500) * 1000 for p in monthly_products}
    for month in MONTHS:
        for p in monthly_products:
            add(
                "metric",
                kb.monthly_metric(rng, p, month, base_revenue[p["sku"]]),
                {"product": p["name"], "month": month},
                "metric",
            )
    return docs


def finalize_kb(rng, docs):
    rng.shuffle(docs)
    doc_ids, rows, facts = [], [], []
    for i, d in enumerate(docs, 1):
        doc_id = f"kb-{i:04d}"
        doc_ids.append(doc_id)
        text = " ".join(d["sents"])
        n_words = len(text.split())
        assert 60 <= n_words <= 160, (d["title"], n_words)
        rows.append({"id": doc_id, "kind": d["kind"], "title": d["title"], "text": text})
        lowered = [s.lower() for s in kb.sentences(text)]
        for f in d["facts"]:
            hits = sum(1 for s in lowered if f["answer"].lower() in s)
            if hits == 1:  # keep only unambiguous facts
                f.update(doc=i - 1, kind=d["kind"])
                facts.append(f)
    return rows, doc_ids, facts


def build_kb(rng, products):
    docs = build_kb_docs(rng, products)
    rows, doc_ids, facts = finalize_kb(rng, docs)
    questions = make_questions(rng, facts, doc_ids)
    demo = next(
        q
        for q in questions
        if q["hops"] == 1 and q["type"] == "root_cause" and q["question"].startswith("What was the root cause of")
    )
    write_jsonl("kb/documents.jsonl", rows)
    write_jsonl("kb/questions.jsonl", questions)
    write_json("kb/demo.json", {"question_id": demo["id"]})


# ------------------------------------------------------------------- briefs
def build_briefs(rng):
    texts, key_points = make_briefs(rng)
    for name in sorted(texts):
        write_text("briefs/" + name, texts[name])
    write_json("briefs/key_points.json", key_points)


def main():
    rng = random.Random(SEED)
    products = make_products(rng)
    for p in products:
        p["pm"] = kb.person(rng)
    build_catalog(rng, products)
    build_kb(rng, products)
    build_briefs(rng)
    print("wrote datasets under", HERE)


if __name__ == "__main__":
    main()
