#!/usr/bin/env python3
"""Validate every agentlab dataset invariant. Stdlib only.

Usage:  python datasets/check.py [--skip-debug-run] [--skip-rebuild]

Exits 0 when everything holds, 1 with a list of violations otherwise.
By default it also (a) regenerates the data in a temporary copy and compares
it byte for byte with the files on disk, and (b) runs the debugging scenario
before and after fix.patch (needs pytest and the `patch` tool; skipped with a
note if either is missing).
"""

import filecmp
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\[])")  # same rule as agentlab.text.sentences
ERRORS = []
GENERATED = [
    "kb/documents.jsonl",
    "kb/questions.jsonl",
    "kb/demo.json",
    "catalog/products.jsonl",
    "catalog/live_prices.json",
    "catalog/mispriced.json",
    "briefs/key_points.json",
] + [f"briefs/doc{i:02d}.md" for i in range(1, 13)]


def err(msg):
    ERRORS.append(msg)


def need(cond, msg):
    if not cond:
        err(msg)
    return cond


def read(rel):
    with open(os.path.join(HERE, rel), encoding="utf-8") as fh:
        text = fh.read()
    try:
        text.encode("ascii")
    except UnicodeEncodeError:
        err(f"{rel}: contains non-ASCII characters")
    return text


def load_json(rel):
    try:
        return json.loads(read(rel))
    except (OSError, ValueError) as exc:
        err(f"{rel}: cannot load JSON ({exc})")
        return None


def load_jsonl(rel):
    rows = []
    try:
        lines = read(rel).splitlines()
    except OSError as exc:
        err(f"{rel}: {exc}")
        return rows
    for n, line in enumerate(lines, 1):
        try:
            rows.append(json.loads(line))
        except ValueError as exc:
            err(f"{rel} line {n}: bad JSON ({exc})")
    return rows


def sentence_hits(text, needle):
    needle = needle.lower()
    return sum(1 for s in SPLIT.split(text.strip()) if needle in s.lower())


def words(text):
    return len(text.split())


# ------------------------------------------------------------------ catalog
def check_catalog():
    rows = load_jsonl("catalog/products.jsonl")
    need(len(rows) == 40, f"catalog: expected 40 products, got {len(rows)}")
    skus = [r.get("sku") for r in rows]
    need(skus == [f"NR-{n}" for n in range(1001, 1041)], "catalog: SKUs must be NR-1001..NR-1040 in order")
    need(len(set(r.get("name") for r in rows)) == len(rows), "catalog: product names must be unique")
    for r in rows:
        need(
            set(r) == {"sku", "name", "category", "listed_price", "currency", "page"},
            "catalog {}: unexpected fields {}".format(r.get("sku"), sorted(r)),
        )
        need(isinstance(r.get("listed_price"), float), "catalog {}: listed_price must be a float".format(r.get("sku")))
        need(r.get("currency") == "USD", "catalog {}: currency must be USD".format(r.get("sku")))
        page = r.get("page", "")
        need(60 <= words(page) <= 120, f"catalog {r['sku']}: page has {words(page)} words (60-120)")
        price = "${:,.2f}".format(r["listed_price"])
        need(sentence_hits(page, price) == 1, "catalog {}: page must state {} in one sentence".format(r["sku"], price))
        need(r["name"] in page and r["sku"] in page, "catalog {}: page must name the product and SKU".format(r["sku"]))
    live = load_json("catalog/live_prices.json") or {}
    mis = load_json("catalog/mispriced.json") or {}
    need(sorted(live) == sorted(skus), "live_prices.json: keys must be exactly the 40 catalog SKUs")
    thr = mis.get("threshold_pct")
    need(thr == 5.0, "mispriced.json: threshold_pct must be 5.0")
    listed = {r["sku"]: r["listed_price"] for r in rows}
    bad, high, low = [], 0, 0
    for sku in sorted(listed):
        if sku not in live:
            continue
        if live[sku] == listed[sku]:
            continue
        bad.append(sku)
        pct = abs(listed[sku] - live[sku]) / live[sku] * 100
        need(pct > (thr or 5.0), f"catalog {sku}: differs by only {pct:.2f}%")
        high += listed[sku] > live[sku]
        low += listed[sku] < live[sku]
    need(len(bad) == 7, f"catalog: expected exactly 7 mispriced SKUs, found {len(bad)}")
    need(mis.get("skus") == bad, "mispriced.json: skus {} != computed {}".format(mis.get("skus"), bad))
    need(high > 0 and low > 0, "catalog: mispriced SKUs must mix too-high and too-low listings")
    return {r["name"]: r["sku"] for r in rows}


# ----------------------------------------------------------- knowledge base
def check_kb(catalog):
    docs = load_jsonl("kb/documents.jsonl")
    need(len(docs) == 300, f"kb: expected 300 documents, got {len(docs)}")
    need(
        [d.get("id") for d in docs] == [f"kb-{i:04d}" for i in range(1, len(docs) + 1)],
        "kb: ids must be kb-0001.. in order without gaps",
    )
    by_id = {d["id"]: d for d in docs}
    counts = {}
    for d in docs:
        need(set(d) == {"id", "kind", "title", "text"}, "{}: unexpected fields".format(d["id"]))
        counts[d.get("kind")] = counts.get(d.get("kind"), 0) + 1
        n = words(d.get("text", ""))
        need(60 <= n <= 160, f"{d['id']}: {n} words (60-160)")
    need(
        counts == {"product": 90, "policy": 60, "incident": 80, "metric": 70},
        f"kb: kind counts {counts} != product 90 / policy 60 / incident 80 / metric 70",
    )
    # Product name <-> SKU consistency everywhere "Name (NR-xxxx)" appears.
    names = sorted(catalog, key=len, reverse=True)
    pat = re.compile("({}) \\((NR-\\d{{4}})\\)".format("|".join(re.escape(n) for n in names)))
    per_product = {}
    for d in docs:
        for name, sku in pat.findall(d["text"]):
            need(catalog[name] == sku, "{}: {} is {}, not {}".format(d["id"], name, catalog[name], sku))
        if d["kind"] in ("product", "incident", "metric"):
            found = pat.findall(d["text"])
            need(len(found) >= 1, "{}: must name its product with SKU, like 'Orion Gateway (NR-1001)'".format(d["id"]))
            if d["kind"] == "product" and found:
                per_product.setdefault(found[0][0], []).append(d["id"])
    need(len(per_product) == 30, f"kb: expected 30 products with KB docs, got {len(per_product)}")
    for name, ids in sorted(per_product.items()):
        need(len(ids) == 3, f"kb: {name} has {len(ids)} product docs (expected 3)")
    inc_ids = []
    for d in docs:
        if d["kind"] != "incident":
            continue
        m = re.search(r"INC-\d{4}", d["text"])
        if need(m is not None, "{}: incident without INC id".format(d["id"])):
            inc_ids.append(m.group(0))
            prod = pat.search(d["text"])
            need(
                prod is not None and prod.group(1) in per_product,
                "{}: affected product must exist and have KB docs".format(d["id"]),
            )
    need(len(set(inc_ids)) == len(inc_ids) == 80, "kb: incident ids must be 80 and unique")
    return by_id


def check_questions(docs):
    qs = load_jsonl("kb/questions.jsonl")
    need(len(qs) == 80, f"questions: expected 80, got {len(qs)}")
    need(
        [q.get("id") for q in qs] == [f"q-{i:03d}" for i in range(1, len(qs) + 1)],
        "questions: ids must be q-001.. in order",
    )
    kinds, two = set(), 0
    for q in qs:
        qid = q.get("id")
        for field in ("question", "answer", "doc_ids", "kind"):
            need(field in q, f"{qid}: missing field {field}")
        ids = q.get("doc_ids", [])
        if not need(ids and all(i in docs for i in ids), f"{qid}: unknown doc_ids {ids}"):
            continue
        kinds.add(q["kind"])
        ans = q["answer"]
        need(0 < len(ans) <= 40, f"{qid}: answer should be short, got {ans!r}")
        if len(ids) == 1:
            hits = sentence_hits(docs[ids[0]]["text"], ans)
            need(hits == 1, f"{qid}: answer {ans!r} is in {hits} sentences of {ids[0]} (need exactly 1)")
            need("parts" not in q, f"{qid}: single-hop question must not have parts")
            continue
        two += 1
        need(len(ids) == 2, f"{qid}: two-hop question needs exactly 2 doc_ids")
        parts = q.get("parts", [])
        if not need(len(parts) == 2, f"{qid}: two-hop question needs 2 parts"):
            continue
        need([p.get("doc_id") for p in parts] == ids, f"{qid}: parts' doc_ids must match doc_ids")
        for p in parts:
            if p.get("doc_id") in docs:
                hits = sentence_hits(docs[p["doc_id"]]["text"], p["answer"])
                need(hits == 1, f"{qid}: part answer {p['answer']!r} in {hits} sentences of {p['doc_id']}")
        need(
            any(sentence_hits(docs[i]["text"], ans) >= 1 for i in ids),
            f"{qid}: answer {ans!r} not found in any supporting doc",
        )
        if q.get("type") == "comparison":
            nums = [float(re.sub(r"[^0-9.]", "", p["answer"]) or 0) for p in parts]
            win, lose = (0, 1) if nums[0] > nums[1] else (1, 0)
            need(
                nums[0] != nums[1]
                and ans.lower() in parts[win]["question"].lower()
                and ans.lower() not in parts[lose]["question"].lower(),
                f"{qid}: comparison answer {ans!r} does not match the larger part",
            )
        elif q.get("type") == "bridge":
            need(
                ans == parts[1]["answer"] and parts[0]["answer"] in parts[1]["question"],
                f"{qid}: bridge answer must follow part 1 -> part 2",
            )
    need(two == 10, f"questions: expected 10 two-hop questions, got {two}")
    need(kinds >= {"product", "policy", "incident", "metric"}, f"questions: kinds {kinds} miss some doc kind")
    demo = load_json("kb/demo.json") or {}
    match = [q for q in qs if q.get("id") == demo.get("question_id")]
    if need(len(match) == 1, "demo.json: question_id {!r} not found".format(demo.get("question_id"))):
        d = match[0]
        need(
            len(d["doc_ids"]) == 1
            and docs[d["doc_ids"][0]]["kind"] == "incident"
            and "root cause" in d["question"].lower(),
            "demo.json: must be a single-hop incident root-cause question",
        )


# ------------------------------------------------------------------- briefs
def check_briefs():
    kp = load_json("briefs/key_points.json") or {}
    names = [f"doc{i:02d}.md" for i in range(1, 13)]
    need(sorted(kp) == names, "key_points.json: keys must be doc01.md..doc12.md")
    for name in names:
        try:
            text = read("briefs/" + name)
        except OSError:
            err(f"briefs/{name} missing")
            continue
        need(350 <= words(text) <= 600, f"briefs/{name}: {words(text)} words (350-600)")
        paras = [p for p in text.split("\n\n") if p.strip() and not p.startswith("#")]
        points = kp.get(name, [])
        need(len(points) == 3, f"key_points {name}: need 3 points")
        for p in points:
            need(p in text, f"key_points {name}: {p!r} not verbatim in doc")
        if points and paras:
            need(points[0] in paras[0], f"briefs/{name}: first key point must be in the first paragraph")


# -------------------------------------------------------------------- debug
def check_debug(run):
    base = os.path.join(HERE, "debug")
    sc = load_json("debug/scenario.json") or {}
    for field in ("failing_test", "implicated_file", "implicated_line", "fix_summary"):
        need(field in sc, f"scenario.json: missing {field}")
    src = read("debug/src/inventory.py").splitlines()
    patch = read("debug/fix.patch")
    trace = read("debug/stack_trace.txt")
    read("debug/tests/test_inventory.py")
    line = sc.get("implicated_line", 0)
    removed = [ln[1:] for ln in patch.splitlines() if ln.startswith("-") and not ln.startswith("---")]
    need(0 < line <= len(src) and src[line - 1] in removed, "scenario.json: implicated_line is not the patched line")
    need(
        "--- src/inventory.py" in patch and "+++ src/inventory.py" in patch, "fix.patch: paths must be src/inventory.py"
    )
    test_name = sc.get("failing_test", "::").split("::")[-1]
    need(test_name in trace and "FAILED" in trace, "stack_trace.txt: must show the failing test")
    need("/tmp/" not in trace and "/work/" not in trace, "stack_trace.txt: paths must be relative")
    if not run:
        return
    probe = subprocess.run([sys.executable, "-c", "import pytest"], capture_output=True, check=False)
    has_pytest = probe.returncode == 0
    if not has_pytest or shutil.which("patch") is None:
        print("note: pytest or patch not available, skipped running the debug scenario")
        return
    with tempfile.TemporaryDirectory() as tmp:
        for sub in ("src", "tests"):
            shutil.copytree(os.path.join(base, sub), os.path.join(tmp, sub))
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"]
        before = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, check=False)
        need(
            before.returncode == 1 and "1 failed" in before.stdout and sc.get("failing_test", "") in before.stdout,
            "debug: expected exactly the scenario's test to fail before the patch",
        )
        with open(os.path.join(base, "fix.patch")) as fh:
            applied = subprocess.run(["patch", "-p0", "-s"], cwd=tmp, stdin=fh, capture_output=True, check=False)
            ok = applied.returncode == 0
        if need(ok, "debug: fix.patch does not apply with patch -p0"):
            after = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, check=False)
            need(after.returncode == 0, "debug: tests still fail after applying fix.patch")


def check_rebuild():
    """Regenerate in a temporary copy and compare byte for byte."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = os.path.join(tmp, "datasets")
        shutil.copytree(HERE, copy, ignore=shutil.ignore_patterns("__pycache__", "debug"))
        cmd = [sys.executable, "-B", os.path.join(copy, "build.py")]
        res = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if not need(res.returncode == 0, f"build.py failed: {res.stderr[-500:]}"):
            return
        for rel in GENERATED:
            need(
                filecmp.cmp(os.path.join(HERE, rel), os.path.join(copy, rel), shallow=False),
                f"{rel} differs from what build.py generates",
            )


def main():
    catalog = check_catalog()
    docs = check_kb(catalog)
    check_questions(docs)
    check_briefs()
    check_debug(run="--skip-debug-run" not in sys.argv)
    if "--skip-rebuild" not in sys.argv:
        check_rebuild()
    if ERRORS:
        print(f"FAILED: {len(ERRORS)} problem(s)")
        for e in ERRORS:
            print("  - " + e)
        sys.exit(1)
    print("OK: all dataset invariants hold")


if __name__ == "__main__":
    main()
