"""Internal policy documents: 20 topics, each written for three regions.

Each topic lists fact templates as (sentence, value format, choices, question).
The value is drawn per region, so the same topic differs between regions and
questions must name the region to be answerable.
"""

POLICY_REGIONS = ["Americas", "EMEA", "APAC"]

TOPICS = [
    (
        "Travel Policy",
        "People Operations",
        [
            (
                "Economy class is required for flights shorter than {v}.",
                "{v} hours",
                [4, 5, 6, 8],
                "Under the {region} travel policy, below what flight length is economy class required?",
            ),
            (
                "Hotel stays are capped at {v} per night.",
                "${v}",
                [180, 210, 240, 260, 300],
                "What is the nightly hotel cap in the {region} travel policy?",
            ),
            (
                "Trips must be booked at least {v} in advance.",
                "{v} days",
                [7, 10, 14, 21],
                "How far in advance must trips be booked under the {region} travel policy?",
            ),
            (
                "Any trip costing more than {v} needs director approval.",
                "${v}",
                [2500, 4000, 5000, 7500],
                "Above what trip cost is director approval needed in the {region} travel policy?",
            ),
        ],
    ),
    (
        "Expense Policy",
        "Finance",
        [
            (
                "Receipts are required for any single expense above {v}.",
                "${v}",
                [20, 25, 50, 75],
                "Above what amount are receipts required under the {region} expense policy?",
            ),
            (
                "Expense reports must be submitted within {v} of the purchase.",
                "{v} days",
                [30, 45, 60, 90],
                "Within how many days must expense reports be submitted in {region}?",
            ),
            (
                "The daily meal allowance is {v}.",
                "${v}",
                [55, 65, 75, 90],
                "What is the daily meal allowance in the {region} expense policy?",
            ),
            (
                "Approved reimbursements are paid within {v}.",
                "{v} business days",
                [5, 7, 10, 15],
                "How quickly are approved reimbursements paid under the {region} expense policy?",
            ),
        ],
    ),
    (
        "Access Security Policy",
        "Security Engineering",
        [
            (
                "Passwords must be at least {v} long.",
                "{v} characters",
                [12, 14, 16, 20],
                "What is the minimum password length in the {region} access security policy?",
            ),
            (
                "Access rights are reviewed every {v}.",
                "{v} days",
                [30, 60, 90, 180],
                "How often are access rights reviewed under the {region} access security policy?",
            ),
            (
                "Laptops must lock the screen after {v} of inactivity.",
                "{v} minutes",
                [2, 5, 10, 15],
                "After how long must laptops lock the screen in {region}?",
            ),
            (
                "Lost or stolen devices must be reported within {v}.",
                "{v} hours",
                [1, 2, 4, 24],
                "Within what time must a lost device be reported in {region}?",
            ),
        ],
    ),
    (
        "On-Call Policy",
        "Platform Reliability",
        [
            (
                "A standard on-call shift lasts {v}.",
                "{v} days",
                [3, 4, 7, 14],
                "How long is a standard on-call shift in {region}?",
            ),
            (
                "The primary on-call engineer must acknowledge a page within {v}.",
                "{v} minutes",
                [3, 5, 10, 15],
                "Within how many minutes must the primary on-call engineer acknowledge a page in {region}?",
            ),
            (
                "Engineers receive an on-call stipend of {v} per week.",
                "${v}",
                [250, 300, 400, 500, 650],
                "What weekly on-call stipend do engineers receive in {region}?",
            ),
            (
                "Unacknowledged pages escalate to the secondary after {v}.",
                "{v} minutes",
                [12, 15, 20, 30],
                "After how long do unacknowledged pages escalate to the secondary in {region}?",
            ),
        ],
    ),
    (
        "Refund Policy",
        "Customer Support",
        [
            (
                "Customers may return unopened hardware within {v} of delivery for a full refund.",
                "{v} days",
                [14, 21, 30, 45, 60],
                "How many days does the {region} refund policy allow for returning unopened hardware?",
            ),
            (
                "Software subscriptions can be cancelled for a pro-rated refund within the first {v}.",
                "{v} days",
                [7, 10, 14, 30],
                "Within how many days can software subscriptions be cancelled for a refund in {region}?",
            ),
            (
                "A restocking fee of {v} applies to opened hardware.",
                "{v}%",
                [10, 12, 15, 20, 25],
                "What restocking fee applies to opened hardware under the {region} refund policy?",
            ),
            (
                "Refunds are issued within {v} after the return is received.",
                "{v} business days",
                [5, 7, 10, 14],
                "How soon are refunds issued after a return is received in {region}?",
            ),
        ],
    ),
    (
        "Data Retention Policy",
        "Legal",
        [
            (
                "Customer telemetry is kept for {v} and then deleted.",
                "{v} days",
                [90, 180, 395, 730],
                "How long is customer telemetry kept under the {region} data retention policy?",
            ),
            (
                "Closed support tickets are retained for {v}.",
                "{v} years",
                [2, 3, 5, 7],
                "How long are closed support tickets retained in {region}?",
            ),
            (
                "Access logs are stored for {v}.",
                "{v} months",
                [6, 12, 18, 24],
                "How long are access logs stored under the {region} data retention policy?",
            ),
            (
                "Database backups are purged after {v}.",
                "{v} days",
                [14, 30, 35, 90],
                "After how many days are database backups purged in {region}?",
            ),
        ],
    ),
    (
        "Remote Work Policy",
        "People Operations",
        [
            (
                "Employees may work remotely up to {v} per week.",
                "{v} days",
                [2, 3, 4],
                "How many days per week may employees work remotely in {region}?",
            ),
            (
                "The yearly home office stipend is {v}.",
                "${v}",
                [400, 500, 600, 750],
                "What is the yearly home office stipend in {region}?",
            ),
            (
                "Working from another country is limited to {v} per year.",
                "{v} days",
                [20, 30, 45, 60],
                "How many days per year can {region} staff work from another country?",
            ),
        ],
    ),
    (
        "Hardware Warranty Policy",
        "Customer Support",
        [
            (
                "Standard hardware warranty coverage lasts {v}.",
                "{v} years",
                [1, 2, 3, 5],
                "How long does standard hardware warranty coverage last in {region}?",
            ),
            (
                "Advance replacement units ship within {v}.",
                "{v} business days",
                [1, 2, 3],
                "How quickly do advance replacement units ship in {region}?",
            ),
            (
                "Extended warranty can be bought within {v} of purchase.",
                "{v} days",
                [30, 60, 90],
                "Within how many days of purchase can extended warranty be bought in {region}?",
            ),
        ],
    ),
    (
        "Incident Severity Policy",
        "Platform Reliability",
        [
            (
                "For a SEV1 incident the status page must be updated within {v}.",
                "{v} minutes",
                [10, 15, 20, 30],
                "How quickly must the status page be updated for a SEV1 incident in {region}?",
            ),
            (
                "Postmortems for SEV1 incidents are due within {v}.",
                "{v} business days",
                [3, 5, 7, 10],
                "When are SEV1 postmortems due under the {region} incident severity policy?",
            ),
            (
                "A SEV2 incident is declared when more than {v} of customers in a region are affected.",
                "{v}%",
                [1, 2, 5, 10],
                "Above what share of affected customers is a SEV2 declared in {region}?",
            ),
        ],
    ),
    (
        "Change Management Policy",
        "Platform Reliability",
        [
            (
                "Production changes need approval from {v}.",
                "{v} reviewers",
                [1, 2, 3],
                "How many reviewers must approve production changes in {region}?",
            ),
            (
                "A change freeze starts {v} before the end of each quarter.",
                "{v} days",
                [3, 5, 7, 10],
                "How many days before quarter end does the change freeze start in {region}?",
            ),
            (
                "Emergency changes must be documented within {v}.",
                "{v} hours",
                [12, 24, 48, 72],
                "Within how many hours must emergency changes be documented in {region}?",
            ),
        ],
    ),
    (
        "Vendor Onboarding Policy",
        "Legal",
        [
            (
                "Contracts worth more than {v} require legal review.",
                "${v}",
                [25000, 50000, 100000],
                "Above what contract value is legal review required under the {region} vendor onboarding policy?",
            ),
            (
                "Vendor risk assessments are repeated every {v}.",
                "{v} months",
                [6, 12, 18, 24],
                "How often are vendor risk assessments repeated in {region}?",
            ),
            (
                "New vendors are paid on terms of {v}.",
                "{v} days",
                [30, 45, 60],
                "What payment terms do new vendors get in {region}?",
            ),
        ],
    ),
    (
        "Training Budget Policy",
        "People Operations",
        [
            (
                "Each employee has an annual training budget of {v}.",
                "${v}",
                [1000, 1500, 2000, 2500],
                "What is the annual training budget per employee in {region}?",
            ),
            (
                "Staff may attend up to {v} per year.",
                "{v} conferences",
                [1, 2, 3],
                "How many conferences per year may {region} staff attend?",
            ),
            (
                "Certification exam fees are reimbursed up to {v}.",
                "${v}",
                [400, 600, 800, 1000],
                "Up to what amount are certification exam fees reimbursed in {region}?",
            ),
        ],
    ),
    (
        "Parental Leave Policy",
        "People Operations",
        [
            (
                "Primary caregivers receive {v} of fully paid leave.",
                "{v} weeks",
                [16, 18, 20, 26],
                "How much fully paid leave do primary caregivers receive in {region}?",
            ),
            (
                "Secondary caregivers receive {v} of paid leave.",
                "{v} weeks",
                [4, 6, 8, 12],
                "How much paid leave do secondary caregivers receive in {region}?",
            ),
            (
                "Leave must be requested at least {v} before the expected start.",
                "{v} weeks",
                [2, 3, 4],
                "How far before the expected start must parental leave be requested in {region}?",
            ),
        ],
    ),
    (
        "Laptop and Equipment Policy",
        "IT Services",
        [
            (
                "Laptops are refreshed every {v}.",
                "{v} months",
                [24, 30, 36, 48],
                "How often are laptops refreshed in {region}?",
            ),
            (
                "A second monitor can be expensed up to {v}.",
                "${v}",
                [250, 300, 350, 400],
                "Up to what amount can a second monitor be expensed in {region}?",
            ),
            (
                "Departing employees must return equipment within {v}.",
                "{v} days",
                [5, 7, 10, 14],
                "Within how many days must departing employees return equipment in {region}?",
            ),
        ],
    ),
    (
        "Support SLA Policy",
        "Customer Support",
        [
            (
                "Priority 1 tickets receive a first response within {v}.",
                "{v} minutes",
                [15, 30, 45, 60],
                "How fast do Priority 1 tickets receive a first response in {region}?",
            ),
            (
                "Priority 3 tickets receive a first response within {v}.",
                "{v} hours",
                [8, 12, 24, 48],
                "How fast do Priority 3 tickets receive a first response in {region}?",
            ),
            (
                "Enterprise customers with more than {v} get a named technical account manager.",
                "{v} devices",
                [200, 500, 1000],
                "How many devices must enterprise customers exceed to get a named technical account manager"
                " in {region}?",
            ),
        ],
    ),
    (
        "Encryption Policy",
        "Security Engineering",
        [
            (
                "Encryption keys are rotated every {v}.",
                "{v} days",
                [30, 60, 90, 180],
                "How often are encryption keys rotated in {region}?",
            ),
            (
                "The minimum allowed TLS version is {v}.",
                "TLS {v}",
                ["1.2", "1.3"],
                "What is the minimum allowed TLS version in {region}?",
            ),
            (
                "Key custodians must number at least {v} for every master key.",
                "{v} people",
                [2, 3, 4],
                "How many key custodians must each master key have in {region}?",
            ),
        ],
    ),
    (
        "Backup Policy",
        "Platform Reliability",
        [
            (
                "Production databases are backed up every {v}.",
                "{v} hours",
                [1, 2, 4, 6, 12],
                "How often are production databases backed up in {region}?",
            ),
            (
                "Restore tests run every {v}.",
                "{v} days",
                [30, 60, 90],
                "How often do restore tests run under the {region} backup policy?",
            ),
            (
                "Backups are copied to a second site within {v}.",
                "{v} minutes",
                [15, 30, 60, 120],
                "How quickly are backups copied to a second site in {region}?",
            ),
        ],
    ),
    (
        "Procurement Policy",
        "Finance",
        [
            (
                "Purchases above {v} need a purchase order.",
                "${v}",
                [1000, 2500, 5000],
                "Above what amount do purchases need a purchase order in {region}?",
            ),
            (
                "Three competing quotes are required for spending over {v}.",
                "${v}",
                [20000, 25000, 40000],
                "Above what spend are three competing quotes required in {region}?",
            ),
            (
                "Purchase orders are approved within {v} on average.",
                "{v} business days",
                [2, 3, 4, 5],
                "How long does purchase order approval take on average in {region}?",
            ),
        ],
    ),
    (
        "Gifts and Hospitality Policy",
        "Legal",
        [
            (
                "Gifts worth more than {v} must be declared.",
                "${v}",
                [50, 75, 100, 150],
                "Above what value must gifts be declared in {region}?",
            ),
            (
                "Declarations must be filed within {v} of receiving the gift.",
                "{v} days",
                [3, 5, 7, 10],
                "Within how many days must gift declarations be filed in {region}?",
            ),
            (
                "Hospitality from a single vendor is capped at {v} per year.",
                "${v}",
                [300, 500, 750],
                "What is the yearly cap on hospitality from a single vendor in {region}?",
            ),
        ],
    ),
    (
        "Customer Data Access Policy",
        "Security Engineering",
        [
            (
                "Temporary access grants to customer data expire after {v}.",
                "{v} hours",
                [4, 8, 12, 24],
                "After how many hours do temporary customer data access grants expire in {region}?",
            ),
            (
                "Every access session is audited within {v}.",
                "{v} days",
                [7, 14, 30],
                "Within how many days is each customer data access session audited in {region}?",
            ),
            (
                "No more than {v} engineers may hold standing access at once.",
                "{v} engineers",
                [3, 5, 8, 10],
                "How many engineers may hold standing customer data access at once in {region}?",
            ),
        ],
    ),
]

INTROS = [
    "This policy applies to all Northwind Relay staff based in the {region} region.",
    "The rules below govern {topic} for {region} employees and contractors.",
    "Effective {date}, this document replaces earlier {region} guidance on {topic}.",
    "Northwind Relay publishes this {topic} guidance for its {region} offices.",
]
# Each rule sentence names its region and policy, so it stands on its own.
PREFIXES = ["Under the {region} {policy}, ", "The {region} {policy} states that ", "Per the {region} {policy}, "]
CLOSINGS = [
    ("The {owner} team owns the {region} {policy}.", "Which team owns the {region} {policy}?"),
    (
        "Exceptions to the {region} {policy} need written approval from the {owner} team, which owns it.",
        "Which team owns the {region} {policy} and approves exceptions to it?",
    ),
    (
        "The {region} {policy} is owned and reviewed yearly by the {owner} team.",
        "Which team owns and reviews the {region} {policy}?",
    ),
]
FILLERS = [
    "Managers are expected to explain these rules to new hires.",
    "Violations are handled through the normal performance process.",
    "Local law takes precedence where it is stricter than this policy.",
    "The policy is published on the internal wiki and in the handbook.",
]


def policy(rng, topic, owner, facts, region):
    pol = topic.lower()
    kw = dict(
        region=region,
        policy=pol,
        owner=owner,
        topic=pol.replace(" policy", ""),
        date=f"{rng.randrange(1, 28)} {rng.choice(['January', 'April', 'July', 'October'])} 2025",
    )
    sents, out = [rng.choice(INTROS).format(**kw)], []
    other = rng.choice([r for r in POLICY_REGIONS if r != region])
    sents.append(
        rng.choice(
            [
                "It follows the same structure as the {other} {policy}, with local values.",
                "Where this text is silent, the {other} {policy} is the reference.",
            ]
        ).format(other=other, **kw)
    )
    where = "the Americas" if region == "Americas" else region
    for sent, fmt, choices, q in facts:
        v = rng.choice(choices)
        shown = f"{v:,}" if isinstance(v, int) else v
        ans = fmt.format(v=shown)
        if v == 1 and ans.endswith("s"):
            ans = ans[:-1]  # "1 reviewer", "1 year"
        core = sent.format(v=ans)
        sents.append(rng.choice(PREFIXES).format(**kw) + core[0].lower() + core[1:])
        out.append(
            {
                "type": "policy",
                "question": q.format(region=region).replace(" in Americas", " in " + where),
                "answer": ans,
                "value": v if isinstance(v, int) else float(v),
                "topic": topic,
                "slot": len(out),
                "region": region,
            }
        )
    fillers = list(FILLERS)
    rng.shuffle(fillers)
    sents.append(fillers.pop())
    while len(" ".join(sents).split()) < 60:
        sents.append(fillers.pop())
    s_own, q_own = rng.choice(CLOSINGS)
    sents.append(s_own.format(**kw))
    out.append({"type": "policy_owner", "question": q_own.format(**kw), "answer": owner, "topic": topic})
    return f"{topic} ({region})", sents, out
