# ruff: noqa: E501  (long lines are prose paragraphs of the document templates)
"""Twelve independent quarterly-business-review documents for Northwind Relay.

Each document is a hand-written template whose figures are drawn from the
seeded random generator. Each has three key points (verbatim phrases); the
first key point is always in the first paragraph.
"""


def _money_m(x):
    return f"${x:.1f} million"


def _sales(rng):
    am, em, ap = rng.uniform(9, 12), rng.uniform(6, 8), rng.uniform(2.5, 4)
    kw = dict(
        total=_money_m(am + em + ap),
        am=_money_m(am),
        em=_money_m(em),
        ap=_money_m(ap),
        yoy=rng.randrange(11, 19),
        em_g=rng.randrange(24, 33),
        am_g=rng.randrange(6, 11),
        hw=rng.randrange(54, 63),
        win=rng.randrange(29, 39),
        deal=f"${rng.randrange(80, 140) * 1000:,}",
        cyc=rng.randrange(70, 96),
        cov=f"{rng.uniform(2.8, 3.6):.1f}",
    )
    text = """# Q1 2026 Sales Report

Northwind Relay closed the first quarter of 2026 with total bookings of {total}, up {yoy}% on the same quarter last year and slightly ahead of plan. Growth came from every region, but the mix shifted toward larger multi-product deals, and the team ends the quarter with more qualified pipeline than at any point in the company's history.

## Regional results

EMEA was the fastest-growing region, with bookings of {em}, up {em_g}% year over year. Two national rail operators and a large hospital group standardized on our probes and gateways, and each of those deals included a three-year software subscription. The Americas remained the largest region at {am}, growing a steadier {am_g}%. Most of that growth came from existing customers adding sites rather than from new logos. APAC booked {ap}, roughly flat, which reflects the reorganization of the reseller channel that began in January. We expect APAC to recover in the second half once the new distributor agreements are in place.

## Product mix

Hardware made up {hw}% of bookings, down from last year as software subscriptions continued to grow faster than appliances. The Orion Gateway was again the best-selling single product, and the Kestrel Probe had its strongest quarter since launch. Attach rates for analytics software rose in every region: more than half of new gateway deals now include the Atlas Analyzer. Renewals of existing subscriptions were on time for nearly all large accounts, with only a handful of small customers asking for shorter terms.

## Deal metrics

Our win rate against named competitors was {win}%, an improvement of several points over the previous quarter. Sales engineers credit the new proof-of-value kit, which lets a prospect see live results from its own network within a week. The average new deal was worth {deal}. Sales cycles lengthened to {cyc} days on average, mainly because procurement teams at large customers added security reviews. Discounting stayed within policy; no deal required an exception above the regional director level.

## Pipeline and outlook

Pipeline coverage for the second quarter stands at {cov} times the quota, which is healthy by our usual standards. The main risks are a slower public-sector budget cycle in the Americas and currency movements that could reduce the dollar value of EMEA deals. To manage these risks we will pull forward two marketing campaigns, add one partner manager in APAC and keep a close watch on deals above one million dollars, which now require a weekly review with the sales leadership team.
"""
    return (
        text,
        kw,
        [
            "total bookings of {total}",
            "EMEA was the fastest-growing region",
            "win rate against named competitors was {win}%",
        ],
    )


def _support(rng):
    kw = dict(
        n=f"{rng.randrange(9800, 13500):,}",
        sla=f"{rng.uniform(92, 96.5):.1f}%",
        frt=rng.randrange(31, 52),
        csat=f"{rng.uniform(4.3, 4.7):.1f}",
        lic=rng.randrange(18, 27),
        defl=rng.randrange(14, 24),
        backlog=rng.randrange(120, 340),
        hires=rng.randrange(4, 9),
    )
    text = """# Customer Support Summary, Q1 2026

The support organization resolved {sla} of tickets within SLA this quarter while handling {n} tickets in total, the highest volume we have ever seen. Customer satisfaction held steady at {csat} out of 5, which shows that the team absorbed the extra load without a drop in quality.

## Volume and responsiveness

Ticket volume grew mainly because of the large gateway deployments that went live in January and February. New installations always generate questions in their first weeks, and this quarter several of them landed at once. The median first response time was {frt} minutes across all priorities. Priority 1 tickets, which cover full outages, were answered faster than the target every single week. The slowest area was Priority 3 requests about reporting features, which sometimes waited more than a day during peak weeks.

## What customers asked about

The largest category was licensing and activation questions, at {lic}% of all tickets. Most of these came from customers moving to the new subscription portal, where license keys are now tied to user accounts rather than devices. Configuration help for gateways was the second category, followed by questions about data retention settings in the analytics products. Genuine product defects made up a small share of tickets, and almost all were already known and scheduled for a fix.

## Self-service

The refreshed knowledge base went live in February. Search logs show that {defl}% of visitors who searched for an answer did not open a ticket afterward, which we count as deflected contacts. The most viewed articles were about license transfers, firmware upgrade order and resetting a forgotten administrator password. We will add short videos for the top twenty articles next quarter.

## Backlog and staffing

The open backlog at quarter end was {backlog} tickets, within our normal range. We hired {hires} new support engineers, mostly in the APAC time zones, so that customers in that region no longer wait for the Americas shift to start. Two senior engineers moved into a new escalation team that works directly with product engineering on hard cases.

## Priorities for next quarter

Next quarter the team will focus on three things: shortening the licensing journey so it no longer needs a ticket at all, giving customers a clearer status view for open cases, and publishing a monthly digest of known issues. We also plan to pilot chat support for Priority 3 questions with a small group of customers before making it generally available.
"""
    return (
        text,
        kw,
        [
            "resolved {sla} of tickets within SLA",
            "median first response time was {frt} minutes",
            "licensing and activation questions",
        ],
    )


def _roadmap(rng):
    kw = dict(
        month=rng.choice(["September", "October"]),
        pct=rng.randrange(18, 26),
        eng=rng.randrange(140, 190),
        probes=rng.randrange(5, 9),
    )
    text = """# Engineering Roadmap, Q2 and Q3 2026

The top engineering priority for the next two quarters is the unified Northwind Agent, which merges our host agent and mobile agent into one codebase and is planned for general availability in {month} 2026. Today customers run two agents with different configuration formats and upgrade paths, and that split causes a large share of deployment friction.

## Why a unified agent

Both agents collect similar data, but they were built by different teams at different times. Each has its own plugin model, packaging and release train. Maintaining both costs us roughly two full teams, and customers regularly ask which one they should install. The unified agent will share a single configuration file, a single update channel and a common plugin interface. Existing configurations will be converted automatically on first start.

## Probe and gateway work

The second priority is IPv6 flow sampling across all probes. Several large customers are moving their internal networks to IPv6 and need the same visibility they have today for IPv4. The work touches {probes} hardware models and requires new firmware for each one. We will ship it in stages, starting with the models that have the most installed units. In parallel, the gateway team will finish hitless configuration reloads, so that customers can change policies without dropping sessions.

## Platform and reliability

We will reserve {pct}% of engineering capacity for reliability work in every sprint. This budget covers alert tuning, removing single points of failure found in recent incidents, and paying down build system debt that slows every team. Reliability work will be tracked with the same visibility as feature work, and the reliability budget cannot be borrowed by feature teams to catch up on deadlines.

## Things we are not doing

To make room for these priorities we are pausing the native desktop client for the management console and the experimental packet replay feature. Both had small user bases. The desktop client will stay supported but receive only security fixes. We are also declining requests for custom reporting engines in individual deals, and will instead expand the scheduled reports feature so that it covers most of those needs.

## Staffing and dependencies

The engineering organization has {eng} engineers. The unified agent needs about a third of them for two quarters. The biggest dependency is the new build and signing pipeline, which must be ready before the first beta. Product management will publish a public roadmap page once the beta starts, so that customers can plan their own migrations well in advance.
"""
    return (
        text,
        kw,
        [
            "the unified Northwind Agent",
            "IPv6 flow sampling across all probes",
            "reserve {pct}% of engineering capacity for reliability work",
        ],
    )


def _security(rng):
    kw = dict(
        n=rng.randrange(5, 9),
        stale=rng.randrange(11, 29),
        click=f"{rng.uniform(2.1, 4.4):.1f}%",
        was=f"{rng.uniform(7, 11):.1f}%",
        crit=rng.randrange(2, 5),
        date="30 June 2026",
    )
    text = """# Security Audit Results, Q1 2026

Our annual SOC 2 Type II audit finished in March with a clean opinion, but the auditors raised {n} findings, and the most serious one concerns stale administrator accounts in internal tools. None of the findings involved customer data, yet several point to process gaps that we need to close before the next audit window.

## Main finding

The auditors sampled administrator accounts across our internal systems and found {stale} accounts belonging to people who had changed roles or left the company. In each case the account was disabled in the central directory, but some older tools kept local accounts that did not follow the directory. The accounts were removed within a day of discovery, and logs show none of them were used after the owner's departure. We will move every remaining tool behind single sign-on and run an automated weekly comparison between local accounts and the directory. The owner for this work is Security Engineering, with a deadline of {date}.

## Other findings

Two findings relate to change management evidence: a small number of production changes were approved in chat rather than in the ticketing system. Another concerns vendor reviews, where two low-risk vendors were overdue for their annual reassessment. The remaining findings are documentation gaps in the backup restore procedure. None of them is rated high risk, but each has an owner and a due date.

## Vulnerability management

External penetration testers found {crit} critical issues in the management console during the quarter. All of them were fixed within the agreed window, and retesting confirmed each fix. Scanning coverage for production hosts is now complete, and container images are scanned on every build. Dependency updates are applied automatically for patch releases, with human review for major versions.

## People and awareness

Security awareness continues to improve. The phishing simulation click rate fell to {click} this quarter, down from {was} a year ago. Staff who clicked received a short training module rather than a warning, and repeat clicks are now rare. We also ran a tabletop exercise with the executive team that walked through a ransomware scenario, which showed that our communication plan works but that the legal review step needs a faster path.

## Next steps

Beyond closing the findings, we plan to expand hardware security keys to all engineers, start a bug bounty program for the public websites and publish a customer-facing trust page. The trust page will summarize our certifications, subprocessors and security contacts, which should shorten many of the security questionnaires that slow down our sales cycle.
"""
    return (
        text,
        kw,
        ["SOC 2 Type II audit", "stale administrator accounts", "phishing simulation click rate fell to {click}"],
    )


def _hiring(rng):
    start = rng.randrange(380, 430)
    kw = dict(
        start=start,
        end=start + rng.randrange(48, 70),
        eng=rng.randrange(55, 66),
        tth=rng.randrange(36, 49),
        acc=rng.randrange(78, 90),
        ref=rng.randrange(25, 35),
    )
    text = """# Hiring Plan for the Rest of 2026

We plan to grow Northwind Relay from {start} to {end} employees by the end of 2026, and about {eng}% of the new roles are in engineering. The plan is deliberately narrower than last year's, focusing on the teams that carry the product roadmap and on support coverage in Asia-Pacific.

## Where the roles are

Engineering roles are concentrated in three areas: the unified agent program, firmware for our probe and gateway lines, and the reliability group. Product management adds two people to cover analytics and cloud products. Customer support adds engineers in the APAC time zones, and sales adds a small number of account executives in EMEA, where demand has grown fastest. General and administrative functions stay flat, with the exception of one additional privacy counsel in the legal team.

## Locations

We will open a new engineering hub in Lisbon during the third quarter. Lisbon gives us overlap with both the Americas and EMEA working days, a strong local talent pool and a cost level that lets us hire senior engineers within budget. The hub will start with about fifteen people, led by an engineering director who will relocate from our existing office. Remote hiring continues for roles where location matters less, such as technical writing and developer relations.

## Recruiting performance

Our average time to hire was {tth} days last quarter, measured from the day a role opens to the day an offer is accepted. The offer acceptance rate was {acc}%, which is healthy, but we lost several senior candidates to counteroffers. Referrals produced {ref}% of hires and remain our best source by quality. We will raise the referral bonus for hard-to-fill engineering roles and shorten the interview loop from five conversations to four.

## Onboarding

Every new hire will now have a named onboarding buddy and a thirty-day plan agreed with their manager before their first day. Engineering hires will ship a small change to production in their first two weeks. We will measure onboarding with a short survey after thirty and ninety days, and share the results with hiring managers each quarter.

## Risks

The main risk is timing: if the second half of the year is slower than planned, we will pause roles that are not tied to the roadmap or to customer coverage. Finance will review the plan each month. A second risk is concentration, since the Lisbon hub depends on a few early senior hires, so we will start that search immediately.
"""
    return (
        text,
        kw,
        ["from {start} to {end} employees", "new engineering hub in Lisbon", "average time to hire was {tth} days"],
    )


def _cloud(rng):
    kw = dict(
        spend=f"${rng.uniform(2.1, 2.6):.2f} million",
        over=rng.randrange(8, 14),
        stor=rng.randrange(31, 45),
        sav=f"${rng.randrange(280, 420) * 1000:,}",
        dev=f"${rng.uniform(0.31, 0.48):.2f}",
        idle=rng.randrange(6, 12),
    )
    text = """# Cloud Cost Review, Q1 2026

Cloud spend for the quarter was {spend}, which is {over}% over budget, and almost all of the overrun comes from telemetry storage. Compute and network costs stayed close to plan, so the fix is about how long and how densely we keep customer data rather than about how we run services.

## What drove the overrun

Telemetry storage grew {stor}% during the quarter. Several new customers send far more flow records than their contracts assumed, and our default retention of high-resolution data is generous. Storage is billed by volume, so every extra day of raw data costs us directly. We also found that some older test environments kept full copies of production-sized data sets long after the tests ended.

## What already worked

Savings plans saved {sav} this quarter compared with on-demand prices. We committed to a one-year plan for the steady part of our compute fleet in December, and the commitment was fully used. Rightsizing of database instances removed another small but steady cost, and moving batch jobs to spot capacity worked well for nightly reports. The team also deleted {idle} idle load balancers that were left behind by retired services.

## Unit economics

Our cost per monitored device per month was {dev}. This is the number we care most about, because it tells us whether growth is efficient. It rose slightly this quarter because of the storage issue, but it remains below the target set in last year's plan. Gross margin for cloud-delivered products stayed within the planned range.

## Plan for next quarter

First, we will introduce tiered retention, keeping high-resolution telemetry for a shorter period and rolling older data into compact summaries. Customers who need longer raw retention will be able to buy it as an add-on. Second, every test environment will have an owner and an expiry date, and the platform team will delete expired environments automatically. Third, we will add cost alerts per team, so that engineers see the cost of their services each week rather than at quarter end.

## Governance

Finance and platform engineering will meet every two weeks to review spend against forecast. Any new service that is expected to cost more than a set monthly amount will need a short cost design note before launch. We expect these steps to bring spend back within budget by the end of the third quarter, without reducing the data customers rely on.
"""
    return (
        text,
        kw,
        ["Cloud spend for the quarter was {spend}", "Telemetry storage grew {stor}%", "Savings plans saved {sav}"],
    )


def _churn(rng):
    kw = dict(
        grc=f"{rng.uniform(2.2, 3.4):.1f}%",
        nrr=rng.randrange(108, 117),
        accts=rng.randrange(14, 27),
        smb=rng.randrange(55, 72),
        save=rng.randrange(6, 12),
    )
    text = """# Churn Analysis, Q1 2026

Gross revenue churn was {grc} in the first quarter, and net revenue retention reached {nrr}% because expansion in large accounts more than offset the losses. In other words, the customers who stay are growing, but we are still losing too many small customers early in their first year.

## Who left

We lost {accts} accounts during the quarter. Most of them were in the small-business segment, which accounted for {smb}% of churned accounts but only a modest share of churned revenue. Large enterprise customers almost never left; the two enterprise losses followed acquisitions in which the buyer already used a competing platform. Mid-market churn was low and stable.

## Why they left

Exit interviews and account notes point to three main reasons. The most common was budget pressure, where a customer cut tooling spend across the board. The second was a poor first deployment: customers who did not reach a working dashboard within their first month were far more likely to cancel at renewal. The third was consolidation onto a single vendor for networking and security, which we cannot always prevent. Product defects were rarely the main reason.

## What predicts churn

We built a simple health score from login activity, number of active devices, open support tickets and whether the customer attended onboarding. Accounts in the lowest health band at the start of the quarter were several times more likely to churn than the average. The strongest single signal was a drop in weekly active users over four consecutive weeks.

## What we did

Customer success ran a save program for accounts with low health scores and saved {save} of them, usually by helping them finish their deployment or by moving them to a smaller plan. We also changed the onboarding flow so that every new small-business customer gets a guided setup call in their first week. Early results are encouraging, but it is too soon to see the effect on renewals.

## Recommendations

We recommend three steps for the next two quarters. First, make the health score visible to account managers in the CRM so that warning signs are seen early. Second, offer a lighter plan for the small-business segment with fewer features and a lower price, instead of discounting the standard plan. Third, track time to first dashboard as a company-level metric, because it is the earliest point at which we can influence whether a customer stays.
"""
    return text, kw, ["Gross revenue churn was {grc}", "net revenue retention reached {nrr}%", "small-business segment"]


def _partners(rng):
    kw = dict(
        n=rng.randrange(130, 160),
        share=rng.randrange(36, 46),
        gold=rng.randrange(14, 22),
        cert=rng.randrange(300, 480),
        mdf=f"${rng.randrange(400, 700) * 1000:,}",
    )
    text = """# Partner Program Update, Q1 2026

Partners sourced {share}% of new bookings this quarter, and we signed Coralline Distribution as our first master distributor for Asia-Pacific. Together these results confirm that the channel is becoming our main route to market outside the largest enterprise accounts.

## Program size

We now have {n} active channel partners, counting only those that registered at least one deal in the last two quarters. We removed a number of inactive partners from the program in January, so the total is lower than last year even though activity is higher. Partners are concentrated in North America and Western Europe, with a growing group in Southeast Asia.

## The new APAC distributor

Coralline Distribution will manage logistics, credit and first-line support for resellers across the region. Until now, each APAC reseller bought directly from us, which meant long shipping times and a heavy administrative load for our small regional team. Coralline holds stock locally, so delivery times for common appliances should fall from weeks to days. The agreement starts with a six-month ramp period, during which existing resellers can choose when to move over.

## Tiers and certification

The program has three tiers. {gold} partners reached Gold tier this quarter, which requires certified engineers, a minimum annual volume and a customer satisfaction score above the program threshold. Gold partners receive higher discounts and early access to beta releases. Partner engineers completed {cert} certification exams during the quarter, most of them for gateways and the analytics suite.

## Marketing and enablement

We allocated {mdf} in market development funds for the year, with most of it tied to joint events and proof-of-value programs rather than general advertising. The new partner portal launched in February and gives partners deal registration, training, pricing and marketing materials in one place. Feedback has been positive, though partners asked for better tracking of deal status after registration.

## Issues to watch

Channel conflict remains the main complaint: in a few cases our direct sales team and a partner pursued the same customer. We have clarified the rules of engagement, and any registered deal is now protected for ninety days. We also need to make sure that partner-led deployments meet the same quality bar as our own, so we will start a light review of the first deployment done by each newly certified partner.
"""
    return text, kw, ["Partners sourced {share}% of new bookings", "Coralline Distribution", "Gold tier"]


def _incidents(rng):
    kw = dict(
        sev1=rng.randrange(3, 6),
        down=f"{rng.randrange(420, 780):,}",
        mttr=rng.randrange(38, 58),
        prev=rng.randrange(62, 80),
        sev2=rng.randrange(14, 23),
    )
    text = """# Incident Retrospective, Q1 2026

We had {sev1} SEV1 incidents in the first quarter, and together they caused {down} minutes of customer-facing downtime across all products. That is fewer major incidents than in the previous quarter, but two of them had the same underlying theme: certificate expiry in systems that were not covered by our central certificate automation.

## Overview

Beyond the SEV1 incidents, we declared {sev2} SEV2 incidents. Most of the SEV2 events were short and limited to one region or one product. Our mean time to recovery improved to {mttr} minutes, down from {prev} minutes a year ago. The improvement comes mostly from faster detection, since synthetic checks now cover every public endpoint, and from runbooks that let the first responder act without waiting for a specialist.

## Recurring themes

The first theme is certificate expiry. Both certificate incidents involved components that were set up by hand years ago and never moved to automated renewal. We have since inventoried every certificate in production and moved all of them to automated renewal with alerts at thirty and seven days before expiry. The second theme is configuration pushed to all regions at once. Two incidents would have been much smaller if the change had gone to a single region first. The third theme is capacity: one incident started when a shared link between regions became saturated during a large data migration.

## What went well

Communication was better than in past quarters. The status page was updated within our target time for every SEV1 incident, and account managers received a summary for their customers within hours. Postmortems were written on time and were blameless in tone. Several fixes were shipped in the same week as the incident.

## What did not go well

Some alerts were noisy enough that responders initially ignored the real signal. In one incident the on-call engineer was paged more than forty times in an hour, mostly for symptoms rather than causes. Handoffs between regions also caused delays when an incident spanned a shift change.

## Actions

Every production change that affects more than one region will now go through a staged rollout with an automatic pause between stages. The reliability group will cut the number of paging alerts by focusing on user-facing symptoms. We will also run a quarterly game day that rehearses a regional failover, and track the completion of postmortem action items in the weekly operations review.
"""
    return text, kw, ["{sev1} SEV1 incidents", "mean time to recovery improved to {mttr} minutes", "certificate expiry"]


def _launch(rng):
    kw = dict(
        date=f"{rng.randrange(6, 24)} April 2026",
        early=rng.randrange(28, 45),
        nodes=rng.choice([250, 400, 500]),
        pct=rng.randrange(35, 55),
    )
    text = """# Product Launch Notes: Kite Mesh Controller 2.0

Kite Mesh Controller 2.0 becomes generally available on {date}, after an early-access program with {early} early-access customers in mining, ports and city infrastructure. It is the largest update to our wireless mesh line since its first release, and it is aimed squarely at outdoor and industrial networks.

## What is new

The headline feature is scale: a single controller now manages an outdoor mesh of up to {nodes} nodes, compared with a much smaller limit in the previous version. The new self-healing routing engine reroutes traffic around a failed node in seconds, without waiting for an operator. Version 2.0 also adds a map view that overlays signal quality on the site plan, so field teams can see weak spots before they cause outages. Security has been tightened as well: every node now has a hardware-backed identity and all management traffic is encrypted by default.

## What early-access customers told us

Customers were most positive about the map view and about how quickly a failed node was bypassed. A port operator reported that a storm took out several nodes and the mesh recovered before anyone noticed. The main complaint was the upgrade process from the previous version, which required a short outage per site. We have since reduced that window and documented a rolling upgrade path. During the program, average link throughput improved by about {pct}% after customers enabled the new channel planning.

## Positioning

Kite Mesh Controller 2.0 is positioned for sites where cabling is expensive or impossible: quarries, container terminals, campuses spread across large grounds and temporary event sites. It competes with industrial wireless vendors that have strong hardware but weak monitoring. Our differentiation is that the mesh reports into the same observability stack that customers already use for their wired networks.

## Launch activities

Marketing will publish two customer stories from the early-access program on launch day, followed by a webinar for partners. Sales engineers have received a new demo kit with three nodes and a portable controller. Support has trained a dedicated group of engineers on mesh troubleshooting, and the knowledge base includes new articles on site surveys and antenna placement.

## Availability

The release is free for customers with an active subscription. Existing hardware is supported, although the largest meshes need the newer controller appliance. Documentation, release notes and the upgrade guide are available in the customer portal from launch day.
"""
    return (
        text,
        kw,
        ["Kite Mesh Controller 2.0", "{early} early-access customers", "outdoor mesh of up to {nodes} nodes"],
    )


def _legal(rng):
    kw = dict(
        dpa=rng.randrange(78, 92),
        fine=f"${rng.randrange(150, 400)},000",
        req=rng.randrange(40, 90),
        month=rng.choice(["May", "June"]),
    )
    text = """# Legal and Compliance Update, Q1 2026

The biggest compliance milestone of the quarter is that EU data residency is now available: customers can keep all of their telemetry inside a new Frankfurt region, and {dpa}% of EU customers have already signed the updated data processing agreement. This removes the most common blocker in European public-sector deals.

## Data protection

The updated data processing agreement reflects the new region, an updated list of subprocessors and clearer language on international transfers. Customers who have not signed yet remain covered by the previous agreement. We received {req} data subject requests during the quarter, all answered within the legal deadline. Most were access requests from former trial users. The privacy team also completed impact assessments for the new mobile agent features.

## Product regulation

We continue to prepare for the EU Cyber Resilience Act, which will require vulnerability handling processes, security updates for a defined support period and a software bill of materials for products with digital elements. Much of this is already in place, but we need to formalize the support period for each hardware line and publish it. A cross-functional group led by legal and product security will finish this work by {month}.

## Contracts

The standard customer agreement was simplified this quarter. It is now shorter, uses plain language and has fewer negotiable clauses, which has already reduced the time legal spends on each deal. We also introduced a standard partner agreement for the new distributor model in Asia-Pacific. Liability caps and indemnities did not change.

## Disputes

A trademark dispute with a small European software company over a product name was settled in February. We agreed to stop using the disputed name in two countries in exchange for a full release, and paid {fine} to cover their costs. No other litigation is pending. One customer raised a billing complaint that was resolved through the normal escalation process.

## Export controls and sanctions

Screening of customers and partners against sanctions lists is now automated in the order system, and no shipments were blocked this quarter. We reviewed the export classification of our newest hardware and confirmed that no additional licenses are required for our current markets.

## Outlook

Next quarter the team will focus on the Cyber Resilience Act work, a refresh of the employee code of conduct and training for the sales team on the new contract templates. We will also review our open source license compliance process ahead of the unified agent release.
"""
    return text, kw, ["EU data residency", "{dpa}% of EU customers", "EU Cyber Resilience Act"]


def _board(rng):
    kw = dict(
        arr=_money_m(rng.uniform(86, 99)),
        growth=rng.randrange(19, 27),
        run=rng.randrange(26, 37),
        price=_money_m(rng.uniform(4, 9)),
        team=rng.randrange(12, 20),
        gm=rng.randrange(68, 75),
    )
    text = """# Memo to the Board of Directors

Northwind Relay ended the first quarter with annual recurring revenue of {arr}, growing {growth}% year over year, and management asks the board to approve the acquisition of Tessellate Labs. This memo summarizes the quarter and explains why we believe the acquisition is the right next step.

## Financial position

Revenue growth is healthy and increasingly driven by software subscriptions. Gross margin was {gm}%, in line with plan despite higher cloud storage costs. Operating expenses grew more slowly than revenue. We have {run} months of cash runway at the current burn rate, without assuming any new financing. Collections were strong, and no single customer represents more than a small share of revenue.

## Operating highlights

Sales performed slightly ahead of plan, with the strongest growth in EMEA. The support team handled record volumes while keeping satisfaction steady. The annual security audit finished with a clean opinion and a manageable set of findings. Reliability improved: we had fewer major incidents than last quarter and recovered faster from the ones we had.

## The proposed acquisition

Tessellate Labs is a small company that builds topology inference software. Its technology discovers how devices connect using only passive traffic data, without any credentials on the devices themselves. This would fill a gap in our analytics products, where customers today have to maintain topology by hand or import it from other tools. The purchase price is {price}, paid mostly in cash with a retention package for the founders. The team of {team} engineers would join our analytics group.

## Risks

Integration is the main risk. Tessellate's code is written in a different stack and will need work before it can run inside our platform. We have planned for two quarters of integration before the first combined release. There is also key-person risk, which the retention package is designed to address. Finally, the acquisition uses cash that could otherwise fund hiring, so we have reduced the second-half hiring plan slightly to keep runway above our internal minimum.

## Decisions requested

The board is asked to approve the acquisition on the terms described, and to note the updated hiring plan and the Lisbon engineering hub. Management will present a detailed integration plan at the next meeting, along with a first view of the budget for 2027.
"""
    return (
        text,
        kw,
        ["annual recurring revenue of {arr}", "acquisition of Tessellate Labs", "{run} months of cash runway"],
    )


BUILDERS = [
    _sales,
    _support,
    _roadmap,
    _security,
    _hiring,
    _cloud,
    _churn,
    _partners,
    _incidents,
    _launch,
    _legal,
    _board,
]


def make_briefs(rng):
    texts, key_points = {}, {}
    for i, fn in enumerate(BUILDERS, 1):
        tpl, kw, kps = fn(rng)
        text = tpl.format(**kw)
        points = [k.format(**kw) for k in kps]
        first_par = text.split("\n\n")[1]
        assert points[0] in first_par, (fn.__name__, points[0])
        assert all(p in text for p in points), fn.__name__
        assert 350 <= len(text.split()) <= 600, (fn.__name__, len(text.split()))
        name = f"doc{i:02d}.md"
        texts[name], key_points[name] = text, points
    return texts, key_points
