"""Question selection for the knowledge base.

Input: candidate facts (each already verified to appear in exactly one sentence
of its document) annotated with the document index, kind and metadata.
Output: 70 single-hop questions and 10 two-hop questions.
"""

# How many single-hop questions to draw per fact type (70 in total).
QUOTAS = [
    ("incident", "root_cause", 8),
    ("incident", "duration", 3),
    ("incident", "date", 3),
    ("incident", "commander", 2),
    ("incident", "customers", 2),
    ("incident", "product", 2),
    ("metric", "p95", 6),
    ("metric", "error_rate", 3),
    ("metric", "uptime", 3),
    ("metric", "tickets", 2),
    ("metric", "revenue", 3),
    ("metric", "new_customers", 1),
    ("product", "owner", 5),
    ("product", "launch", 2),
    ("product", "pm", 1),
    ("product", "install_base", 1),
    ("product", "spec", 4),
    ("product", "release_date", 2),
    ("product", "release_defects", 1),
    ("product", "release_change", 1),
    ("policy", "policy", 13),
    ("policy", "policy_owner", 2),
]

# Policy facts that make natural "which region is higher" comparisons.
POLICY_COMPARE = {
    (
        "Refund Policy",
        0,
    ): "Which region's refund policy gives customers longer to return unopened hardware, {a} or {b}?",
    ("On-Call Policy", 2): "Which region pays the higher weekly on-call stipend, {a} or {b}?",
    ("Training Budget Policy", 0): "Which region has the larger annual training budget per employee, {a} or {b}?",
    ("Travel Policy", 1): "Which region allows the higher nightly hotel cap for travel, {a} or {b}?",
    ("Remote Work Policy", 1): "Which region has the larger yearly home office stipend, {a} or {b}?",
}


def group(facts):
    out = {}
    for f in facts:
        key = (f["kind"], "spec" if f["type"].startswith("spec_") else f["type"])
        out.setdefault(key, []).append(f)
    return out


def part(f, doc_ids):
    return {"question": f["question"], "answer": f["answer"], "doc_id": doc_ids[f["doc"]]}


def _duration_comparisons(rng, by, used, n=3):
    """Which of two incidents on the same product lasted longer?"""
    out = []
    durations = by[("incident", "duration")]
    prods = sorted({f["meta"]["product"] for f in durations})
    rng.shuffle(prods)
    for prod in prods:
        cands = [f for f in durations if f["meta"]["product"] == prod and f["doc"] not in used]
        if len(cands) < 2:
            continue
        a, b = rng.sample(cands, 2)
        if a["value"] == b["value"]:
            continue
        ia, ib = a["meta"]["id"], b["meta"]["id"]
        q = rng.choice(
            [
                "Which had the longer outage, {a} or {b}?",
                "Both {a} and {b} affected the {p}; which one lasted longer?",
                "Between {a} and {b}, which incident lasted longer?",
            ]
        ).format(a=ia, b=ib, p=prod)
        out.append(("incident", "comparison", q, ia if a["value"] > b["value"] else ib, [a, b]))
        used.update([a["doc"], b["doc"]])
        if len(out) == n:
            break
    return out


def _bridges(rng, by, used):
    """Incident -> affected product -> owner team (twice) or product manager (once)."""
    owners = {f["meta"]["product"]: f for f in by[("product", "owner")]}
    pms = {f["meta"]["product"]: f for f in by[("product", "pm")]}
    incs = [f for f in by[("incident", "product")] if f["doc"] not in used and f["answer"] in owners]
    rng.shuffle(incs)
    out = []
    for i, f in enumerate(incs[:3]):
        prod = f["answer"]
        if i < 2 or prod not in pms:
            second, q = owners[prod], "Which team owns the product that was affected by %s?"
        else:
            second, q = pms[prod], "Who is the product manager of the product affected by %s?"
        out.append(("incident", "bridge", q % f["meta"]["id"], second["answer"], [f, second]))
        used.update([f["doc"], second["doc"]])
    return out


def _latency_comparisons(rng, by, used, n=2):
    """Same product and week, two regions: where was p95 latency higher?"""
    pairs = {}
    for f in by[("metric", "p95")]:
        if "week" in f["meta"] and f["doc"] not in used:
            pairs.setdefault((f["meta"]["product"], f["meta"]["week"]), []).append(f)
    keys = sorted(k for k, v in pairs.items() if len(v) >= 2)
    rng.shuffle(keys)
    out = []
    for prod, week in keys[:n]:
        a, b = rng.sample(pairs[(prod, week)], 2)
        ra, rb = a["meta"]["region"], b["meta"]["region"]
        q = rng.choice(
            [
                "In week {w} of 2026, was the p95 latency of the {p} higher in {a} or in {b}?",
                "Which region saw the higher p95 latency for the {p} in week {w} of 2026, {a} or {b}?",
            ]
        ).format(w=week, p=prod, a=ra, b=rb)
        out.append(("metric", "comparison", q, ra if a["value"] > b["value"] else rb, [a, b]))
        used.update([a["doc"], b["doc"]])
    return out


def _policy_comparisons(rng, by, used, n=2):
    """The same rule in two regions: which region's value is larger?"""
    pol = {}
    for f in by[("policy", "policy")]:
        if f["doc"] not in used:
            pol.setdefault((f["topic"], f["slot"]), []).append(f)
    keys = [k for k in sorted(POLICY_COMPARE) if len(pol.get(k, [])) >= 2]
    rng.shuffle(keys)
    out = []
    for key in keys:
        a, b = rng.sample(pol[key], 2)
        if a["value"] == b["value"]:
            continue
        q = POLICY_COMPARE[key].format(a=a["region"], b=b["region"])
        out.append(("policy", "comparison", q, a["region"] if a["value"] > b["value"] else b["region"], [a, b]))
        used.update([a["doc"], b["doc"]])
        if len(out) == n:
            break
    return out


def two_hop(rng, facts, doc_ids, used):
    by = group(facts)
    out = (
        _duration_comparisons(rng, by, used)
        + _bridges(rng, by, used)
        + _latency_comparisons(rng, by, used)
        + _policy_comparisons(rng, by, used)
    )
    assert len(out) == 10, len(out)
    return [
        {
            "question": q,
            "answer": ans,
            "doc_ids": [doc_ids[f["doc"]] for f in fs],
            "kind": kind,
            "hops": 2,
            "type": typ,
            "parts": [part(f, doc_ids) for f in fs],
        }
        for kind, typ, q, ans, fs in out
    ]


def single_hop(rng, facts, doc_ids, used):
    by = group(facts)
    out = []
    for kind, typ, n in QUOTAS:
        cands = [f for f in by.get((kind, typ), []) if f["doc"] not in used]
        rng.shuffle(cands)
        seen, chosen = set(), []
        for f in cands:  # for policies, avoid asking the same rule twice
            key = (f.get("topic"), f.get("slot"))
            if len(chosen) < n and (key == (None, None) or key not in seen):
                seen.add(key)
                chosen.append(f)
        assert len(chosen) == n, (kind, typ)
        for f in chosen:
            used.add(f["doc"])
            out.append(
                {
                    "question": f["question"],
                    "answer": f["answer"],
                    "doc_ids": [doc_ids[f["doc"]]],
                    "kind": kind,
                    "hops": 1,
                    "type": f["type"],
                }
            )
    return out


def make_questions(rng, facts, doc_ids):
    used = set()
    qs = two_hop(rng, facts, doc_ids, used) + single_hop(rng, facts, doc_ids, used)
    rng.shuffle(qs)
    final = []
    for i, q in enumerate(qs, 1):
        row = {"id": f"q-{i:03d}"}
        row.update(q)
        final.append(row)
    return final
