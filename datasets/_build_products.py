"""Product master data, catalog pages and live prices (fictional Northwind Relay).

All names, teams and numbers here are invented for the agentlab teaching labs.
"""

TEAMS = [
    "Edge Networking",
    "Observability Core",
    "Data Pipeline",
    "Hardware Design",
    "Platform Reliability",
    "Security Engineering",
    "Wireless Systems",
    "Cloud Integrations",
]

# (name, category, is_hardware, owner team, noun phrase, main use)
PRODUCTS = [
    (
        "Orion Gateway",
        "Gateways and Routing",
        True,
        "Edge Networking",
        "carrier-grade edge gateway",
        "terminating branch-office VPN traffic at scale",
    ),
    (
        "Kestrel Probe",
        "Probes and Taps",
        True,
        "Observability Core",
        "passive packet probe",
        "measuring application response times on busy links",
    ),
    (
        "Heron Switch",
        "Switching",
        True,
        "Edge Networking",
        "top-of-rack switch with built-in telemetry",
        "small data centers that need line-rate visibility",
    ),
    (
        "Lynx Collector",
        "Telemetry Software",
        False,
        "Data Pipeline",
        "flow and log collector",
        "gathering NetFlow, IPFIX and syslog from mixed fleets",
    ),
    (
        "Cobalt Tap",
        "Probes and Taps",
        True,
        "Hardware Design",
        "optical network tap",
        "copying fiber traffic to monitoring tools without loss",
    ),
    (
        "Falcon Router",
        "Gateways and Routing",
        True,
        "Edge Networking",
        "compact branch router",
        "retail stores and clinics with two uplinks",
    ),
    (
        "Meridian Console",
        "Management Software",
        False,
        "Platform Reliability",
        "fleet management console",
        "configuring thousands of Northwind Relay devices from one place",
    ),
    (
        "Atlas Analyzer",
        "Analytics Software",
        False,
        "Observability Core",
        "traffic analytics suite",
        "finding the top talkers and slow paths in a network",
    ),
    (
        "Vesper Sensor",
        "Probes and Taps",
        True,
        "Hardware Design",
        "ruggedized environmental and link sensor",
        "remote cabinets and cell sites",
    ),
    (
        "Granite Firewall",
        "Security",
        True,
        "Security Engineering",
        "next-generation perimeter firewall",
        "mid-size campuses that want inspection and logging in one box",
    ),
    (
        "Quill Agent",
        "Telemetry Software",
        False,
        "Observability Core",
        "lightweight host agent",
        "shipping host metrics and traces from Linux and Windows servers",
    ),
    (
        "Sable Edge Node",
        "Gateways and Routing",
        True,
        "Edge Networking",
        "edge compute node",
        "running monitoring workloads close to remote sites",
    ),
    (
        "Pelican Archive",
        "Storage",
        True,
        "Data Pipeline",
        "packet capture archive",
        "keeping weeks of full packet history for forensics",
    ),
    (
        "Marlin Tracer",
        "Analytics Software",
        False,
        "Observability Core",
        "distributed tracing backend",
        "following a request across microservices",
    ),
    (
        "Osprey Dashboard",
        "Management Software",
        False,
        "Platform Reliability",
        "operations dashboard",
        "network operations centers that watch many sites at once",
    ),
    (
        "Condor Balancer",
        "Gateways and Routing",
        True,
        "Platform Reliability",
        "hardware load balancer",
        "spreading API and web traffic across server pools",
    ),
    (
        "Wren Beacon",
        "Wireless",
        True,
        "Wireless Systems",
        "wireless survey beacon",
        "testing Wi-Fi coverage in warehouses and offices",
    ),
    (
        "Basalt Array",
        "Storage",
        True,
        "Hardware Design",
        "high-density storage array",
        "storing long-term telemetry on premises",
    ),
    (
        "Halcyon Scheduler",
        "Management Software",
        False,
        "Platform Reliability",
        "maintenance window scheduler",
        "coordinating firmware upgrades across regions",
    ),
    (
        "Ibis Packet Broker",
        "Probes and Taps",
        True,
        "Hardware Design",
        "network packet broker",
        "filtering and load balancing traffic to security tools",
    ),
    (
        "Jackdaw Shipper",
        "Telemetry Software",
        False,
        "Data Pipeline",
        "log shipping service",
        "moving device logs into any search or storage backend",
    ),
    (
        "Kite Mesh Controller",
        "Wireless",
        True,
        "Wireless Systems",
        "wireless mesh controller",
        "managing outdoor and industrial mesh networks",
    ),
    (
        "Lark Synthetic Monitor",
        "Analytics Software",
        False,
        "Observability Core",
        "synthetic transaction monitor",
        "checking websites and APIs from many vantage points",
    ),
    (
        "Magpie Flow Recorder",
        "Probes and Taps",
        True,
        "Observability Core",
        "flow recording appliance",
        "turning raw packets into searchable flow records",
    ),
    (
        "Nimbus Connector",
        "Cloud Software",
        False,
        "Cloud Integrations",
        "cloud telemetry connector",
        "pulling VPC flow logs and cloud metrics into one view",
    ),
    (
        "Onyx Timing Card",
        "Timing and Test",
        True,
        "Hardware Design",
        "precision timing card",
        "stamping packets with nanosecond accuracy",
    ),
    (
        "Puffin Access Point",
        "Wireless",
        True,
        "Wireless Systems",
        "enterprise access point",
        "dense offices and lecture halls",
    ),
    (
        "Raven Alert Hub",
        "Management Software",
        False,
        "Platform Reliability",
        "alert routing hub",
        "deduplicating alerts and paging the right on-call engineer",
    ),
    (
        "Starling Config Vault",
        "Security",
        False,
        "Security Engineering",
        "configuration backup vault",
        "versioning and auditing device configurations",
    ),
    (
        "Talon Shield",
        "Security",
        True,
        "Security Engineering",
        "volumetric attack mitigation appliance",
        "absorbing floods before they reach the core network",
    ),
    (
        "Umber Traffic Shaper",
        "Gateways and Routing",
        True,
        "Edge Networking",
        "traffic shaping appliance",
        "prioritizing voice and video on congested links",
    ),
    (
        "Vireo Mobile Agent",
        "Telemetry Software",
        False,
        "Wireless Systems",
        "mobile device agent",
        "measuring cellular and Wi-Fi quality on field devices",
    ),
    (
        "Yarrow Capacity Planner",
        "Analytics Software",
        False,
        "Data Pipeline",
        "capacity planning tool",
        "forecasting when links and storage will run out",
    ),
    (
        "Zephyr WAN Optimizer",
        "Gateways and Routing",
        True,
        "Edge Networking",
        "WAN optimization appliance",
        "speeding up file transfers between distant offices",
    ),
    (
        "Egret Fiber Tester",
        "Timing and Test",
        True,
        "Hardware Design",
        "handheld fiber tester",
        "certifying new fiber runs during installation",
    ),
    (
        "Finch API Monitor",
        "Cloud Software",
        False,
        "Cloud Integrations",
        "API monitoring service",
        "tracking latency and errors of third-party APIs",
    ),
    (
        "Gannet Uplink",
        "Gateways and Routing",
        True,
        "Edge Networking",
        "LTE and 5G uplink gateway",
        "backup connectivity for sites without a second wired line",
    ),
    (
        "Harrier Topology Mapper",
        "Analytics Software",
        False,
        "Cloud Integrations",
        "topology discovery tool",
        "drawing live maps of hybrid networks",
    ),
    (
        "Plover Log Vault",
        "Security",
        False,
        "Security Engineering",
        "tamper-evident log vault",
        "keeping audit logs for compliance reviews",
    ),
    (
        "Tamarin Grid Clock",
        "Timing and Test",
        True,
        "Hardware Design",
        "grandmaster clock",
        "distributing PTP time to utilities and exchanges",
    ),
]

FEATURES = {
    "Gateways and Routing": [
        "Zero-touch provisioning lets a new {name} join the fleet in minutes.",
        "Dual power supplies and hot-swappable fans keep the {name} running during maintenance.",
        "Built-in path monitoring steers traffic away from degraded uplinks automatically.",
    ],
    "Probes and Taps": [
        "The {name} timestamps every packet in hardware, so measurements stay accurate under load.",
        "It is completely passive and never adds latency to production traffic.",
        "Fail-open optics keep the monitored link up even if the {name} loses power.",
    ],
    "Switching": [
        "Every port exports streaming counters once per second.",
        "The {name} supports standard leaf-spine designs and open automation APIs.",
        "Buffer occupancy is visible per queue, which makes microbursts easy to spot.",
    ],
    "Wireless": [
        "The {name} reports radio health and client experience to the cloud every minute.",
        "Automatic channel planning avoids interference from neighboring networks.",
        "Mounting kits for ceilings, walls and poles are included in the box.",
    ],
    "Storage": [
        "Data is protected with erasure coding, so two drives can fail without loss.",
        "The {name} indexes stored data on arrival, so searches return in seconds.",
        "Capacity grows by adding expansion shelves without downtime.",
    ],
    "Timing and Test": [
        "The {name} is calibrated at the factory and ships with a traceable certificate.",
        "Results can be exported as PDF reports or pushed straight to a management console.",
        "Battery-backed holdover keeps time accurate during short outages.",
    ],
    "Security": [
        "Every change handled by the {name} is written to an append-only audit trail.",
        "Role-based access control limits who can view or change sensitive settings.",
        "Threat signatures and rules update automatically several times a day.",
    ],
    "Telemetry Software": [
        "The {name} buffers data locally, so nothing is lost during network outages.",
        "Configuration is a single file that can be managed with any automation tool.",
        "Resource use stays low, typically under one percent of a modern CPU core.",
    ],
    "Management Software": [
        "The {name} offers single sign-on and a complete API for automation.",
        "Saved views let each team see only the sites and devices they care about.",
        "Changes can be staged, reviewed and rolled back with one click.",
    ],
    "Analytics Software": [
        "The {name} keeps high-resolution data for recent days and rolls up older data automatically.",
        "Analysts can build queries visually or write them in a simple query language.",
        "Anomaly detection highlights unusual patterns without manual thresholds.",
    ],
    "Cloud Software": [
        "The {name} runs as a managed service, so there is nothing to install or patch.",
        "Connections to the major public clouds are set up with read-only credentials.",
        "Usage-based billing means customers pay only for the data they actually send.",
    ],
}

INTROS = [
    "{name} ({sku}) is a {noun} for {use}.",
    "Meet the {name} ({sku}), a {noun} designed for {use}.",
    "Built for {use}, the {name} ({sku}) is the {noun} in the Northwind Relay lineup.",
    "The {name} ({sku}) is our {noun}, made for {use}.",
]
PRICE_LINES = [
    "The listed price is {price} {unit}.",
    "{name} is listed at {price} {unit}.",
    "List price: {price} {unit}.",
    "Current catalog pricing for the {name} is {price} {unit}.",
]
HW_UNITS = ["per appliance", "per unit", "per device"]
SW_UNITS = ["per year for a standard license", "per node per year", "per year per site"]
SUPPORT_HW = [
    "Every unit ships with a {w}-year hardware warranty and advance replacement.",
    "A {w}-year warranty covers parts and labor, with replacement units shipped ahead of returns.",
]
SUPPORT_SW = [
    "Subscriptions include around-the-clock support and every minor release.",
    "Each license includes standard support, security updates and access to the online academy.",
]
CLOSINGS = [
    "Volume discounts are available through authorized partners.",
    "Contact your Northwind Relay account team for a tailored quote.",
    "Evaluation units can be requested from the sales engineering team.",
    "Training and deployment services can be added to any order.",
]


def fmt_price(value):
    return f"${value:,.2f}"


def make_products(rng):
    """Return the 40 product dicts with SKUs and listed prices."""
    out = []
    for i, (name, cat, hw, team, noun, use) in enumerate(PRODUCTS):
        if hw:
            price = rng.randrange(4, 90) * 100 + rng.choice([-1.0, 49.0, 99.0, 0.0])
        else:
            price = rng.randrange(2, 40) * 50 - 1.0
        out.append(
            {
                "sku": f"NR-{1001 + i}",
                "name": name,
                "category": cat,
                "hardware": hw,
                "team": team,
                "noun": noun,
                "use": use,
                "listed_price": float(price),
            }
        )
    return out


def catalog_page(rng, p):
    fill = dict(name=p["name"], sku=p["sku"], noun=p["noun"], use=p["use"], price=fmt_price(p["listed_price"]))
    feats = rng.sample(FEATURES[p["category"]], 2)
    parts = [rng.choice(INTROS).format(**fill)]
    parts += [f.format(**fill) for f in feats]
    unit = rng.choice(HW_UNITS if p["hardware"] else SW_UNITS)
    parts.append(rng.choice(PRICE_LINES).format(unit=unit, **fill))
    if p["hardware"]:
        parts.append(rng.choice(SUPPORT_HW).format(w=rng.choice([1, 3, 5])))
    else:
        parts.append(rng.choice(SUPPORT_SW))
    parts.append(rng.choice(CLOSINGS))
    return " ".join(parts)


def live_prices(rng, products, n_bad=7):
    """Live API prices: equal to listed except n_bad SKUs that are off by >5%."""
    skus = [p["sku"] for p in products]
    bad = sorted(rng.sample(skus, n_bad))
    too_high = set(rng.sample(bad, 4))  # listed price above live price
    live = {}
    for p in products:
        listed = p["listed_price"]
        if p["sku"] not in bad:
            live[p["sku"]] = listed
            continue
        factor = rng.uniform(0.78, 0.91) if p["sku"] in too_high else rng.uniform(1.09, 1.28)
        live[p["sku"]] = float(round(listed * factor))
    return live, bad
