"""English sentence banks per topic: templates with slots, filled by a seeded RNG.

Each topic has its own vocabulary so topic classifiers have signal; templates are varied so
no two articles share a skeleton, and near-duplicate detection has to work on real overlap.
"""

from __future__ import annotations

TOPICS = ("science", "technology", "news", "sports", "cooking", "finance", "health")

SLOTS: dict[str, dict[str, list[str]]] = {
    "science": {
        "who": ["researchers at the Max Planck Institute", "a team from Kyoto University", "astronomers in Chile",
                "geologists working in Iceland", "marine biologists", "physicists at CERN",
                "a group of ecologists", "climate scientists at NOAA", "chemists in Zurich"],
        "thing": ["the deep ocean floor", "a distant exoplanet", "coral reef bacteria", "ancient pollen grains",
                  "superconducting thin films", "migrating songbirds", "glacial meltwater", "the solar corona",
                  "soil fungi networks", "a newly described beetle species"],
        "finding": ["varies far more over a season than earlier models assumed",
                    "responds to temperature changes within a few hours",
                    "carries a chemical signature nobody had predicted",
                    "can be measured with a cheap optical sensor",
                    "behaves differently when nutrients are scarce",
                    "stores more carbon than previously estimated"],
        "method": ["a two-year field campaign", "high-resolution spectroscopy", "a network of seismometers",
                   "isotope analysis of sediment cores", "long-term satellite observations",
                   "controlled laboratory experiments", "genome sequencing of hundreds of samples"],
    },
    "technology": {
        "who": ["the maintainers of the project", "a small startup in Berlin", "engineers at a cloud provider",
                "the compiler team", "open-source contributors", "the database developers",
                "a security researcher"],
        "thing": ["the garbage collector", "the new query planner", "a Rust rewrite of the parser",
                  "the package manager", "container start-up time", "the TLS handshake",
                  "vector search indexes", "the build cache", "memory allocation on ARM servers"],
        "finding": ["cut median latency by nearly forty percent", "removed an entire class of race conditions",
                    "made incremental builds three times faster", "exposed a subtle off-by-one error",
                    "reduced memory use on large workloads", "simplified the public API considerably"],
        "method": ["careful profiling with flame graphs", "a fuzzing campaign that ran for weeks",
                   "benchmarks on commodity hardware", "a staged rollout behind a feature flag",
                   "property-based tests", "a detailed code review"],
    },
    "news": {
        "who": ["the city council", "opposition lawmakers", "the transport ministry", "regional governors",
                "union representatives", "the electoral commission", "local residents", "the prime minister"],
        "thing": ["the proposed housing bill", "the new rail timetable", "public library funding",
                  "the coastal flood defences", "the budget for schools", "a reform of local elections",
                  "the water supply contract"],
        "finding": ["would be reviewed again before the summer recess", "had been delayed by several months",
                    "faced strong criticism at a packed public meeting", "was approved after a narrow vote",
                    "needed a clearer plan for long-term costs", "drew thousands of written comments"],
        "method": ["a public consultation", "an independent audit", "a cross-party committee",
                   "leaked internal documents", "a series of town-hall meetings", "official statistics"],
    },
    "sports": {
        "who": ["the home side", "the veteran goalkeeper", "the young striker", "the coaching staff",
                "the league's top scorer", "the visiting team", "the club captain", "the cycling team"],
        "thing": ["the second half", "the championship race", "the penalty shoot-out", "the final lap",
                  "the title decider", "the away fixture", "the qualifying round"],
        "finding": ["turned the match around in the final ten minutes", "struggled to break down a compact defence",
                    "set a new club record for consecutive wins", "was decided by a single controversial call",
                    "showed how much depth the squad now has", "left supporters cheering long after the whistle"],
        "method": ["a relentless pressing game", "quick counter-attacks", "a switch to three at the back",
                   "disciplined set-piece routines", "careful rotation of the squad", "an aggressive pacing strategy"],
    },
    "cooking": {
        "who": ["home cooks", "the chef", "our test kitchen", "bakers", "grandmothers across the region",
                "food writers", "the restaurant's pastry team"],
        "thing": ["a slow-cooked tomato sauce", "sourdough bread", "roasted autumn vegetables",
                  "a lemon and almond cake", "spiced lentil soup", "fresh egg pasta", "a simple vinaigrette",
                  "braised short ribs"],
        "finding": ["tastes noticeably better the next day", "needs far less sugar than most recipes claim",
                    "benefits from a pinch of salt added early", "comes out crisp when the oven is properly hot",
                    "can be prepared almost entirely in advance", "keeps well in the freezer for a month"],
        "method": ["toasting the spices first", "resting the dough overnight", "cooking it low and slow",
                   "weighing ingredients instead of using cups", "deglazing the pan with wine",
                   "finishing it with good olive oil"],
    },
    "finance": {
        "who": ["central bank officials", "bond investors", "analysts at several brokerages",
                "small business owners", "pension fund managers", "retail savers", "the finance ministry"],
        "thing": ["long-term interest rates", "the housing market", "corporate bond spreads",
                  "consumer credit growth", "the exchange rate", "quarterly earnings", "household savings"],
        "finding": ["rose for the third consecutive month", "eased slightly after the latest inflation data",
                    "remained well below the pre-pandemic trend", "surprised forecasters on the upside",
                    "diverged sharply between regions", "stabilised after a volatile quarter"],
        "method": ["monthly survey data", "a review of annual reports", "futures market pricing",
                   "a comparison with previous cycles", "stress tests of the largest lenders"],
    },
    "health": {
        "who": ["doctors", "a large cohort study", "public health officials", "nurses on hospital wards",
                "sleep researchers", "nutrition scientists", "physiotherapists"],
        "thing": ["regular moderate exercise", "blood pressure in older adults", "seasonal flu vaccination",
                  "screen time before bed", "dietary fibre intake", "chronic back pain", "childhood asthma"],
        "finding": ["lowered the risk of hospital admission", "improved sleep quality within a few weeks",
                    "was linked to better long-term outcomes", "mattered more than the type of activity",
                    "varied widely between neighbourhoods", "responded well to simple lifestyle changes"],
        "method": ["a randomised controlled trial", "ten years of patient records", "a national survey",
                   "wearable activity trackers", "a systematic review of earlier studies"],
    },
}

TEMPLATES = [
    "According to {method}, {thing} {finding}.",
    "As {who} put it, {thing} {finding}.",
    "The results, based on {method}, suggest that {thing} {finding}.",
    "For years {who} believed otherwise, but {thing} {finding}.",
    "What surprised {who} most was that {thing} {finding}.",
    "{Who} relied on {method} to study {thing}.",
    "Critics argue that {method} alone cannot explain why {thing} {finding}.",
    "In interviews, {who} stressed that {thing} {finding}.",
    "It is not the first time that {thing} has drawn the attention of {who}.",
    "Earlier work by {who} had hinted that {thing} {finding}.",
    "The plan now, according to {who}, is to repeat the work using {method}.",
    "Even so, {who} cautioned against drawing firm conclusions about {thing} too early.",
    "The next step, {who} explained, is to combine {method} with a wider set of observations.",
    "Few expected that {thing} {finding}, and the debate is far from settled.",
]

TITLES = [
    "Why {thing} {finding}", "{Who} take a closer look at {thing}", "New findings on {thing}",
    "How {method} changed our view of {thing}", "{Thing}: what we learned this year",
    "The surprising story of {thing}",
]

SITE_NAMES = {
    "science": "Frontier Science Daily", "technology": "The Stack Review", "news": "Metro Civic Herald",
    "sports": "Final Whistle Weekly", "cooking": "Kitchen Table Notes", "finance": "Ledger & Yield",
    "health": "Well Being Journal",
}
