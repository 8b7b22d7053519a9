"""Knowledge-base document generators: product, incident and metric reports.

Every generator returns (title, sentences, facts). A fact is a dict with a
question, a short answer and a "type"; build.py keeps only facts whose answer
appears in exactly one sentence of the finished document.
"""

import re

# Same rule as agentlab.text.sentences: a sentence ends at . ! or ? followed by an upper-case start.
SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\[])")
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
REGIONS = ["us-east", "us-west", "eu-west", "eu-central", "ap-south", "ap-northeast", "sa-east"]
FIRST = [
    "Dana",
    "Priya",
    "Marcus",
    "Ines",
    "Tomas",
    "Keiko",
    "Olu",
    "Greta",
    "Rafael",
    "Mei",
    "Anders",
    "Lucia",
    "Femi",
    "Noor",
    "Callum",
    "Yara",
    "Hiro",
    "Bea",
    "Sven",
    "Amara",
]
LAST = [
    "Whitlock",
    "Raman",
    "Okafor",
    "Lindqvist",
    "Ferreira",
    "Tanaka",
    "Brennan",
    "Kovac",
    "Achterberg",
    "Moreau",
    "Delacroix",
    "Haddad",
    "Novak",
    "Castell",
    "Imrie",
    "Oyelaran",
]


PADS = {
    "overview": [
        "Documentation, training videos and sample configurations are in the customer portal.",
        "It integrates with the rest of the Northwind Relay portfolio through a shared API.",
        "Roadmap updates are shared with customers twice a year.",
        "Field engineers can help with sizing and first deployment.",
    ],
    "specs": [
        "Detailed drawings and compliance certificates are available on request.",
        "All figures were measured in the Northwind Relay performance lab.",
        "Results in production depend on traffic mix and enabled features.",
        "Specifications may change between releases without notice.",
    ],
    "release": [
        "Release artifacts are signed and can be verified with the published key.",
        "Configuration files from the previous release remain compatible.",
        "Rollback to the previous release is supported if problems appear.",
        "Detailed upgrade steps are in the administrator guide.",
        "Long-term support customers receive the same fixes in a separate build.",
    ],
    "incident": [
        "A customer-facing summary was posted on the status page.",
        "The timeline was reviewed with the account managers of the customers involved.",
        "No customer data was lost during the event.",
    ],
    "metric": [
        "Figures come from the production monitoring pipeline.",
        "Numbers are final and were reviewed by the service owner.",
        "Targets for the product were unchanged during this period.",
        "Capacity headroom remained within the agreed range.",
    ],
}


def pad(rng, sents, kind, lo=64):
    """Insert neutral filler sentences (before the last one) until the text has lo words."""
    pool = [s for s in PADS[kind] if s not in sents]
    rng.shuffle(pool)
    while len(" ".join(sents).split()) < lo and pool:
        sents.insert(len(sents) - 1, pool.pop())
    return sents


def sentences(text):
    return [s for s in SPLIT.split(text.strip()) if s]


def person(rng):
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def fact(ftype, question, answer, **extra):
    d = {"type": ftype, "question": question, "answer": answer}
    d.update(extra)
    return d


def pick(rng, variants, **kw):
    """Choose one (sentence, question) template pair and fill both."""
    s, q = rng.choice(variants)
    return s.format(**kw), q.format(**kw)


# ---------------------------------------------------------------- products
# Each fact sentence names its subject (product, incident id, region, week) so
# it stands on its own; the paired question shares those terms.
SEGMENTS = [
    "regional internet providers",
    "hospital networks",
    "retail chains with many branches",
    "university campuses",
    "trading firms",
    "logistics hubs",
    "city governments",
    "managed service providers",
    "factories and plants",
]
OWNER = [
    ("The {name} is owned by the {team} team.", "Which team owns the {name}?"),
    (
        "Engineering ownership of the {name} sits with the {team} team.",
        "Which team has engineering ownership of the {name}?",
    ),
    (
        "{team} is the team responsible for the {name} roadmap and on-call rotation.",
        "Which team is responsible for the {name} roadmap?",
    ),
]
LAUNCH = [
    ("The {name} first shipped to customers in {when}.", "When did the {name} first ship to customers?"),
    (
        "General availability of the {name} was announced in {when}.",
        "When was general availability of the {name} announced?",
    ),
    (
        "The first customer deliveries of the {name} took place in {when}.",
        "When did the first customer deliveries of the {name} take place?",
    ),
]
PM = [
    ("The product manager for the {name} is {pm}.", "Who is the product manager for the {name}?"),
    (
        "Product decisions for the {name} are made by {pm}, its product manager.",
        "Who is the product manager of the {name}?",
    ),
]


def product_overview(rng, p):
    kw = dict(name=p["name"], team=p["team"], pm=p["pm"], when=f"{rng.choice(MONTHS)} {rng.randrange(2017, 2025)}")
    intro = rng.choice(
        [
            "{name} ({sku}) is a {noun} for {use}.",
            "The {name} ({sku}) is Northwind Relay's {noun}, used mainly for {use}.",
            "Listed in the catalog as {name} ({sku}), this {noun} is aimed at {use}.",
        ]
    ).format(name=p["name"], sku=p["sku"], noun=p["noun"], use=p["use"])
    s_own, q_own = pick(rng, OWNER, **kw)
    s_l, q_l = pick(rng, LAUNCH, **kw)
    s_pm, q_pm = pick(rng, PM, **kw)
    a, b = rng.sample(SEGMENTS, 2)
    seg = rng.choice(["Typical customers include %s and %s.", "Most deployments are at %s and %s."]) % (a, b)
    if p["hardware"]:
        n = f"{rng.randrange(300, 9000):,} units"
        s_n = "About {} of the {} are deployed in the field.".format(n, p["name"])
        q_n = "How many units of the {} are deployed in the field?".format(p["name"])
    else:
        n = f"{rng.randrange(80, 2500):,} customer accounts"
        s_n = "The {} is active in {}.".format(p["name"], n)
        q_n = "In how many customer accounts is the {} active?".format(p["name"])
    body = [s_own, s_l, seg, s_n, s_pm]
    rng.shuffle(body)
    title = rng.choice(["{n} overview", "{n}: product overview", "About the {n}"]).format(n=p["name"])
    facts = [
        fact("owner", q_own, p["team"]),
        fact("launch", q_l, kw["when"]),
        fact("pm", q_pm, p["pm"]),
        fact("install_base", q_n, n),
    ]
    return title, [intro, *body], facts


# Hardware spec ranges per category: throughput Gbps, power W, weight kg, port counts.
HW_RANGES = {
    "Gateways and Routing": ((10, 400), (150, 900), (4, 25), [8, 12, 16, 24, 48]),
    "Probes and Taps": ((10, 200), (40, 400), (2, 15), [4, 8, 12, 16, 32]),
    "Switching": ((400, 3200), (250, 900), (6, 14), [32, 48, 64]),
    "Wireless": ((1, 10), (15, 60), (1, 4), [1, 2, 4]),
    "Storage": ((10, 100), (400, 1500), (20, 60), [4, 8, 16]),
    "Timing and Test": ((1, 25), (10, 90), (1, 5), [2, 4, 8]),
    "Security": ((10, 200), (200, 900), (6, 25), [8, 16, 24, 32]),
}
HW_SPECS = [  # key, unit, default range, sentence, question
    (
        "throughput",
        "{v} Gbps",
        (2, 400),
        "Maximum sustained throughput of the {name} is {v}.",
        "What is the maximum sustained throughput of the {name}?",
    ),
    (
        "ports",
        "{v} ports",
        (4, 64),
        "The {name} provides {v} for network connections.",
        "How many network ports does the {name} provide?",
    ),
    (
        "power",
        "{v} W",
        (15, 900),
        "Typical power draw of the {name} is {v} under full load.",
        "What is the typical power draw of the {name} under full load?",
    ),
    (
        "weight",
        "{v} kg",
        (1, 30),
        "The {name} weighs {v} without mounting hardware.",
        "How much does the {name} weigh without mounting hardware?",
    ),
    (
        "temperature",
        "{v} degrees Celsius",
        (40, 65),
        "The {name} is rated for operation up to {v}.",
        "Up to what temperature is the {name} rated for operation?",
    ),
]
SW_SPECS = [
    (
        "events",
        "{v} events per second",
        (20, 900),
        "A single {name} cluster ingests up to {v}.",
        "How many events per second can a single {name} cluster ingest?",
    ),
    (
        "devices",
        "{v} devices",
        (5, 200),
        "One {name} deployment can monitor up to {v}.",
        "How many devices can one {name} deployment monitor?",
    ),
    (
        "retention",
        "{v} days",
        (7, 400),
        "Default data retention in the {name} is {v}.",
        "What is the default data retention in the {name}?",
    ),
    (
        "ram",
        "{v} GB of RAM",
        (4, 64),
        "Each {name} node needs at least {v}.",
        "How much RAM does each {name} node need?",
    ),
    (
        "api",
        "{v} requests per minute",
        (6, 120),
        "The REST API of the {name} is rate limited to {v}.",
        "What is the REST API rate limit of the {name}?",
    ),
]


def spec_value(rng, key, lo, hi, category=None):
    if category in HW_RANGES:
        tput, power, weight, ports = HW_RANGES[category]
        lo, hi = {"throughput": tput, "power": power, "weight": weight}.get(key, (lo, hi))
        if key == "ports":
            return str(rng.choice(ports))
    n = rng.randrange(lo, hi)
    if key == "events":
        return f"{n * 1000:,}"
    if key in ("devices", "api"):
        return "{:,}".format(n * 50 if key == "devices" else n * 100)
    if key == "weight":
        return "%.1f" % (n + rng.randrange(0, 10) / 10.0)
    return str(n)


def product_specs(rng, p):
    table = HW_SPECS if p["hardware"] else SW_SPECS
    intro = rng.choice(
        [
            "This sheet lists the technical specifications of the {name} ({sku}).",
            "Specifications for the {name} ({sku}) as of the current release.",
            "Sizing and technical data for the {name} ({sku}) are summarized here.",
        ]
    ).format(name=p["name"], sku=p["sku"])
    sents, facts = [intro], []
    for key, unit, (lo, hi), s, q in table:
        v = unit.format(v=spec_value(rng, key, lo, hi, p["category"]))
        v = "1 port" if v == "1 ports" else v
        sents.append(s.format(name=p["name"], v=v))
        facts.append(fact("spec_" + key, q.format(name=p["name"]), v))
    extra = (
        [
            "All models include a console port and out-of-band management.",
            "The chassis is designed for front-to-back airflow.",
        ]
        if p["hardware"]
        else [
            "Supported platforms include current Linux distributions and Kubernetes.",
            "Single sign-on works with any SAML 2.0 identity provider.",
        ]
    )
    sents.append(rng.choice(extra))
    title = rng.choice(["{n} technical specifications", "{n} spec sheet", "{n}: specifications"])
    return title.format(n=p["name"]), sents, facts


HW_CHANGES = [
    "hitless configuration reload",
    "IPv6 flow sampling",
    "dual-image secure boot",
    "per-port power monitoring",
    "faster fan control",
    "PTP boundary clock mode",
]
SW_CHANGES = [
    "SAML single sign-on",
    "per-tenant rate limits",
    "query autocompletion",
    "OpenTelemetry export",
    "scheduled reports",
    "bulk device import",
]
ISSUES = [
    "exported reports can show the wrong time zone",
    "the first login after upgrade can be slow",
    "some SNMP counters reset after a reboot",
    "large topology views may render slowly",
]


def product_release(rng, p, date, fixes=None):
    label = "firmware" if p["hardware"] else "version"
    ver = f"{rng.randrange(2, 9)}.{rng.randrange(0, 12)}.{rng.randrange(1, 9)}"
    kw = dict(
        name=p["name"],
        sku=p["sku"],
        label=label,
        Label=label.capitalize(),
        ver=ver,
        date=date,
        change=rng.choice(HW_CHANGES if p["hardware"] else SW_CHANGES),
        n=f"{rng.randrange(3, 60)} defects",
    )
    s_d, q_d = pick(
        rng,
        [
            (
                "{Label} {ver} for the {name} ({sku}) was released on {date}.",
                "When was {label} {ver} for the {name} released?",
            ),
            (
                "Northwind Relay shipped {label} {ver} for the {name} ({sku}) on {date}.",
                "On what date did Northwind Relay ship {label} {ver} for the {name}?",
            ),
        ],
        **kw,
    )
    s_c, q_c = pick(
        rng,
        [
            (
                "The headline change in {name} {label} {ver} is support for {change}.",
                "What is the headline change in {name} {label} {ver}?",
            ),
            (
                "The biggest addition in {name} {label} {ver} is support for {change}.",
                "What is the biggest addition in {name} {label} {ver}?",
            ),
        ],
        **kw,
    )
    s_f, q_f = pick(
        rng,
        [
            ("{name} {label} {ver} fixes {n}.", "How many defects does {name} {label} {ver} fix?"),
            (
                "In total, {n} were fixed in {name} {label} {ver}.",
                "How many defects were fixed in {name} {label} {ver}?",
            ),
        ],
        **kw,
    )
    sents = [
        s_d,
        s_c,
        s_f,
        f"One known issue remains: {rng.choice(ISSUES)}.",
        rng.choice(
            [
                "This release also ships the permanent fix for {inc}.",
                "It includes the permanent fix promised in the {inc} postmortem.",
            ]
        ).format(inc=fixes)
        if fixes
        else "Security advisories for this release are listed in the customer portal.",
        rng.choice(
            [
                "Upgrades can be scheduled from the management console.",
                "Customers should upgrade during a planned maintenance window.",
                "The update is rolled out region by region over two weeks.",
            ]
        ),
    ]
    facts = [
        fact("release_date", q_d, date),
        fact("release_change", q_c, kw["change"]),
        fact("release_defects", q_f, kw["n"]),
    ]
    return "{} release notes {}".format(p["name"], ver), sents, facts


# --------------------------------------------------------------- incidents
CAUSES = [  # (article, answer phrase, where, what the responders did)
    ("an", "expired TLS certificate", "on the public load balancer", "rotated the certificate and added expiry alerts"),
    ("a", "misconfigured BGP route map", "on a transit router", "reverted the route map and added a peer review step"),
    ("a", "full log volume", "on the ingestion hosts", "cleared old logs and lowered the rotation size"),
    ("a", "memory leak in the flow parser", "after a library upgrade", "rolled back the parser library"),
    ("a", "DNS resolver timeout", "in the internal resolver pool", "added resolver capacity and shorter timeouts"),
    ("a", "race condition in the config loader", "during a reload", "shipped a hotfix that serializes reloads"),
    ("an", "exhausted database connection pool", "in the API tier", "raised the pool limit and fixed a leaking query"),
    ("a", "faulty firmware push", "to a subset of devices", "halted the rollout and reflashed the affected devices"),
    ("a", "clock drift on NTP servers", "in one data center", "replaced the time source and resynced hosts"),
    ("a", "failed power supply", "in a core switch", "swapped the power supply and rebalanced the rack"),
    ("a", "corrupted index shard", "in the search cluster", "rebuilt the shard from a replica"),
    ("a", "long-running schema migration lock", "on the primary database", "killed the migration and rescheduled it"),
    ("an", "expired API token", "used by a sync job", "issued a new token and moved it to the secrets manager"),
    ("a", "rate limiter misconfiguration", "at the API edge", "corrected the limits and added a config test"),
    ("a", "kernel panic after a driver update", "on storage nodes", "pinned the previous driver version"),
    ("a", "saturated uplink", "between two regions", "moved bulk transfers off the shared link"),
    (
        "a",
        "bad feature flag rollout",
        "that enabled an unfinished code path",
        "turned the flag off and added a staged rollout",
    ),
    ("a", "cache stampede", "after a mass expiry", "added request coalescing and jittered expiry"),
    ("a", "leak of file descriptors", "in the collector service", "patched the leak and raised monitoring thresholds"),
    ("an", "incorrect MTU setting", "on a new tunnel", "set the MTU correctly and added a path MTU check"),
    ("a", "stale DNS record", "left over from a migration", "removed the record and lowered TTLs"),
    ("a", "deadlocked queue consumer", "in the alert pipeline", "restarted consumers and fixed the lock ordering"),
    ("an", "unreachable license server", "in the shared services VPC", "restored the route and cached license checks"),
    ("a", "disk controller failure", "in a storage shelf", "failed over to the standby controller"),
]
SYMPTOMS = [
    "failed API calls",
    "delayed alerts",
    "missing flow records",
    "dashboard timeouts",
    "packet loss",
    "failed logins",
    "stale device status",
]
DETECTORS = [
    "synthetic monitoring",
    "a customer ticket",
    "an automated latency alert",
    "the on-call responder during a routine check",
    "an error budget alert",
]
ACTIONS = [
    "add a canary stage to the deployment pipeline",
    "document the manual failover steps",
    "alert earlier on the leading indicator",
    "add a regression test for this failure",
    "run a game day to rehearse the recovery",
]


def incident(rng, inc_id, date, p, region, helper, related=None):
    """One incident report. `helper` is a team other than the product owner."""
    cause = rng.choice(CAUSES)
    minutes = f"{rng.randrange(9, 400)} minutes"
    kw = dict(
        id=inc_id,
        date=date,
        sev=rng.choice(["SEV1", "SEV2", "SEV2", "SEV3"]),
        name=p["name"],
        sku=p["sku"],
        region=region,
        time=f"{rng.randrange(24):02d}:{rng.randrange(60):02d}",
        m=minutes,
        art=cause[0],
        cause=cause[1],
        where=cause[2],
        fix=cause[3],
        ic=person(rng),
        n=f"{rng.randrange(12, 2400):,} customers",
        sym=rng.choice(SYMPTOMS),
        det=rng.choice(DETECTORS),
        act=rng.choice(ACTIONS),
        rel=related,
        helper=helper,
    )
    s_open, q_date = pick(
        rng,
        [
            (
                "{id} was a {sev} incident that began on {date} at {time} UTC.",
                "On what date did the {id} incident begin?",
            ),
            (
                "On {date} at {time} UTC, responders opened {id} as a {sev} incident.",
                "On what date did responders open {id}?",
            ),
            ("Incident {id} ({sev}) started on {date} at {time} UTC.", "On what date was incident {id} started?"),
        ],
        **kw,
    )
    s_prod, q_prod = pick(
        rng,
        [
            ("{id} affected the {name} ({sku}) in the {region} region.", "Which product was affected by {id}?"),
            ("{id} hit {name} ({sku}) customers in {region}.", "Which product's customers were hit by {id}?"),
            (
                "Service for the {name} ({sku}) in {region} was impaired during {id}.",
                "Service for which product was impaired during {id}?",
            ),
        ],
        **kw,
    )
    s_imp, q_imp = pick(
        rng,
        [
            ("During {id}, roughly {n} saw {sym}.", "How many customers saw {sym} during {id}?"),
            (
                "About {n} were affected by {id}, mostly through {sym}.",
                "About how many customers were affected by {id}?",
            ),
        ],
        **kw,
    )
    s_rc, q_rc = pick(
        rng,
        [
            ("The root cause of {id} was {art} {cause} {where}.", "What was the root cause of {id}?"),
            ("Engineers traced {id} to {art} {cause} {where}.", "What was {id} traced to by engineers?"),
            (
                "The postmortem for {id} identified {art} {cause} {where} as the root cause.",
                "What did the postmortem for {id} identify as the root cause?",
            ),
        ],
        **kw,
    )
    s_dur, q_dur = pick(
        rng,
        [
            ("The {id} outage lasted {m} from first alert to full recovery.", "How long did the {id} outage last?"),
            ("Total customer impact from {id} was {m}.", "What was the total customer impact duration of {id}?"),
            (
                "Service was degraded for {m} during {id} before recovery.",
                "For how long was service degraded during {id}?",
            ),
        ],
        **kw,
    )
    s_ic, q_ic = pick(
        rng,
        [
            ("The incident commander for {id} was {ic}.", "Who was the incident commander for {id}?"),
            ("{ic} led the response to {id} as incident commander.", "Who led the response to {id}?"),
        ],
        **kw,
    )
    rest = [
        rng.choice(["It was first noticed through {det}.", "Detection came from {det}."]),
        rng.choice(["The {helper} team was pulled in to help.", "Responders asked the {helper} team for help."]),
        rng.choice(["Responders {fix}.", "To resolve it, the team {fix}.", "The fix: the team {fix}."]),
        rng.choice(["A follow-up action is to {act}.", "The main action item is to {act}."]),
    ]
    if related:
        rest.insert(
            1,
            rng.choice(
                [
                    "The symptoms looked like {rel} at first.",
                    "Responders reused the runbook written after {rel}.",
                    "The team first suspected a repeat of {rel}, but the evidence differed.",
                ]
            ),
        )
    sents = [s_open, s_prod, s_imp, s_rc, s_dur, s_ic] + [s.format(**kw) for s in rest]
    title = rng.choice(
        ["{id}: {name} disruption in {region}", "Incident report {id}", "{id} postmortem ({name})"]
    ).format(**kw)
    facts = [
        fact("root_cause", q_rc, cause[1]),
        fact("duration", q_dur, minutes, value=int(minutes.split(maxsplit=1)[0])),
        fact("date", q_date, date),
        fact("product", q_prod, p["name"]),
        fact("commander", q_ic, kw["ic"]),
        fact("customers", q_imp, kw["n"]),
    ]
    return title, sents, facts


# ----------------------------------------------------------------- metrics
NOTES = [
    "A noisy tenant running a large backfill explained most of the variation.",
    "No change freezes or major releases fell in this period.",
    "Traffic was higher than usual because of a regional holiday sale.",
    "A planned database failover took place without customer impact.",
    "The team rolled out new capacity midway through the period.",
    "Two minor deploys were rolled back as a precaution.",
]


def p95_series(rng, weeks):
    """A plausible week-by-week p95 latency random walk, in ms."""
    v, out = rng.randrange(60, 600), {}
    for w in weeks:
        v = max(25, int(v * rng.uniform(0.8, 1.25)))
        out[w] = v
    return out


def weekly_metric(rng, p, region, week, series):
    """One weekly report. The intro names product, region and week; the fact
    sentences then state one number each, in the words an analyst would use."""
    p95, prev = series[week], series[week - 1]
    change = round((p95 - prev) * 100.0 / prev)
    trend = (
        "flat compared with the previous week"
        if change == 0
        else (f"up {change}% from the previous week" if change > 0 else f"down {-change}% from the previous week")
    )
    kw = dict(name=p["name"], sku=p["sku"], region=region, week=week, p95=f"{p95} ms", trend=trend)
    kw.update(
        err=f"{rng.uniform(0.01, 3.5):.2f}%",
        up=f"{rng.uniform(99.0, 99.99):.2f}%",
        t=f"{rng.randrange(3, 180)} support tickets",
        r=f"{rng.uniform(1, 90):.1f} million requests",
    )
    w = "in {region} during week {week} of 2026"
    intro = rng.choice(
        [
            "This report covers the {name} ({sku}) in {region} for week {week} of 2026.",
            "Weekly service report for the {name} ({sku}), region {region}, week {week} of 2026.",
            "Here are the week {week} 2026 operating numbers for the {name} ({sku}) in {region}.",
        ]
    ).format(**kw)
    s_p, q_p = pick(
        rng,
        [
            ("The p95 latency was {p95}, {trend}.", "What was the p95 latency of the {name} " + w + "?"),
            ("The p95 request latency came in at {p95}.", "What p95 request latency did the {name} have " + w + "?"),
            (
                "Average p95 latency for the week was {p95}.",
                "What was the average p95 latency of the {name} " + w + "?",
            ),
        ],
        **kw,
    )
    s_e, q_e = pick(
        rng,
        [
            ("The error rate was {err} of requests.", "What was the error rate of the {name} " + w + "?"),
            ("Errors made up {err} of all requests.", "What share of {name} requests were errors " + w + "?"),
        ],
        **kw,
    )
    s_u, q_u = pick(
        rng,
        [
            ("Uptime for the week was {up}.", "What was the uptime of the {name} " + w + "?"),
            ("Measured availability reached {up}.", "What availability did the {name} reach " + w + "?"),
        ],
        **kw,
    )
    s_t, q_t = pick(
        rng,
        [
            ("Customers opened {t}.", "How many support tickets were opened for the {name} " + w + "?"),
            (
                "The support queue received {t} for this product and region.",
                "How many support tickets did the {name} receive " + w + "?",
            ),
        ],
        **kw,
    )
    body = [s_p, s_e, s_u, s_t, "The service handled {r}.".format(**kw), rng.choice(NOTES)]
    title = rng.choice(
        ["Weekly metrics: {name}, {region}, week {week} 2026", "{name} {region} weekly report (W{week} 2026)"]
    ).format(**kw)
    facts = [
        fact("p95", q_p, kw["p95"], value=p95),
        fact("error_rate", q_e, kw["err"]),
        fact("uptime", q_u, kw["up"]),
        fact("tickets", q_t, kw["t"]),
    ]
    return title, [intro, *body], facts


def monthly_metric(rng, p, month, base_revenue):
    """One month for one product; revenue moves within +-15% of the product's base."""
    rev = int(round(base_revenue * rng.uniform(0.85, 1.15), -2))
    churned = rng.randrange(0, 9)
    kw = dict(
        name=p["name"],
        sku=p["sku"],
        month=month,
        rev=f"${rev:,}",
        new=f"{rng.randrange(2, 60)} new customers",
        churn="1 account" if churned == 1 else f"{churned} accounts",
        up=f"{rng.uniform(99.5, 99.99):.2f}%",
        t=f"{rng.randrange(20, 700)} tickets",
        nps=str(rng.randrange(18, 72)),
    )
    intro = rng.choice(
        [
            "Monthly business metrics for the {name} ({sku}) across all regions, {month}.",
            "This is the {month} monthly report for the {name} ({sku}), all regions combined.",
        ]
    ).format(**kw)
    s_r, q_r = pick(
        rng,
        [
            ("Revenue for the month was {rev}.", "What was the revenue of the {name} in {month}?"),
            ("The product booked {rev} in revenue.", "How much revenue did the {name} book in {month}?"),
        ],
        **kw,
    )
    s_n, q_n = pick(
        rng,
        [
            ("The product added {new}.", "How many new customers did the {name} add in {month}?"),
            (
                "Sales closed deals with {new} during the month.",
                "How many new customers did sales win for the {name} in {month}?",
            ),
        ],
        **kw,
    )
    s_u, q_u = pick(
        rng,
        [
            ("Monthly uptime was {up}.", "What was the monthly uptime of the {name} in {month}?"),
            ("Availability over the month averaged {up}.", "What was the availability of the {name} in {month}?"),
        ],
        **kw,
    )
    body = [
        s_r,
        s_n,
        s_u,
        "Churn for the month was {churn}.".format(**kw),
        "Support handled {t} and the net promoter score was {nps}.".format(**kw),
        rng.choice(NOTES),
    ]
    title = rng.choice(["Monthly metrics: {name}, {month}", "{name} monthly business report ({month})"]).format(**kw)
    facts = [
        fact("revenue", q_r, kw["rev"], value=rev),
        fact("new_customers", q_n, kw["new"]),
        fact("monthly_uptime", q_u, kw["up"]),
    ]
    return title, [intro, *body], facts
