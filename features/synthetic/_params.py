"""The planted parameters of the synthetic ABM world, declared once.

Everything the generator plants (and later writes to ``ground_truth.json``)
lives here as plain module constants: the firmographic vocabulary, the channel
and signal catalogue with base touch rates and costs, the signal weights of the
opportunity-creation hazard, the role and seniority multipliers, the ABM
targeting (propensity) model and the per-tier ABM effects, the win, deal-size,
cycle and churn models. The other private modules only read these values, so
the ground truth is exactly what was simulated.
"""

from __future__ import annotations

import numpy as np

from features.contracts import ABM_TIERS, BUYING_ROLES, SENIORITIES

GENERATOR_VERSION = "1.0.0"

# ----------------------------------------------------------------------------
# Firmographics
# ----------------------------------------------------------------------------

#: segment -> (share of accounts, mean log10 annual revenue, sd of log10 revenue)
SEGMENTS: dict[str, tuple[float, float, float]] = {
    "strategic": (0.03, 10.2, 0.30),
    "enterprise": (0.15, 9.3, 0.30),
    "mid_market": (0.32, 8.3, 0.30),
    "smb": (0.50, 7.3, 0.35),
}
#: size = (log10(annual_revenue) - SIZE_CENTER) / SIZE_SCALE
SIZE_CENTER = 8.0
SIZE_SCALE = 0.8
#: share of accounts whose annual_revenue is missing in the CRM export
MISSING_REVENUE_SHARE = 0.01

#: industry -> (share, fit contribution)
INDUSTRIES: dict[str, tuple[float, float]] = {
    "software": (0.14, 0.6),
    "financial_services": (0.12, 0.4),
    "telecommunications": (0.06, 0.3),
    "healthcare": (0.10, 0.2),
    "professional_services": (0.09, 0.2),
    "manufacturing": (0.13, 0.1),
    "energy": (0.05, 0.0),
    "retail": (0.10, -0.1),
    "transportation": (0.06, -0.1),
    "media": (0.05, -0.2),
    "public_sector": (0.06, -0.3),
    "education": (0.04, -0.4),
}
#: region -> (share, fit contribution)
REGIONS: dict[str, tuple[float, float]] = {
    "NA": (0.45, 0.2),
    "EMEA": (0.30, 0.0),
    "APAC": (0.18, -0.1),
    "LATAM": (0.07, -0.3),
}
#: business unit -> (share, fit contribution)
BUSINESS_UNITS: dict[str, tuple[float, float]] = {
    "cloud_platform": (0.35, 0.2),
    "security": (0.25, 0.1),
    "data_analytics": (0.25, 0.0),
    "industrial_iot": (0.15, -0.2),
}

# ----------------------------------------------------------------------------
# ABM targeting: ordered logit on observables (size, fit)
#   latent = g_size * size + g_fit * fit + Logistic(0, 1)
#   tier = none | one_to_many | one_to_few | one_to_one by the cutpoints
# ----------------------------------------------------------------------------

TIER_PROPENSITY: dict[str, float] = {"size": 1.6, "fit": 1.5}
#: cutpoints between none|one_to_many, one_to_many|one_to_few, one_to_few|one_to_one
TIER_CUTPOINTS: tuple[float, float, float] = (1.9, 3.6, 5.6)

# ----------------------------------------------------------------------------
# Buying committee
# ----------------------------------------------------------------------------

#: committee size = clip(3 + Poisson(exp(a + b * size)), 3, 40)
COMMITTEE_LOG_MEAN = (1.75, 0.6)
COMMITTEE_MIN, COMMITTEE_MAX = 3, 40

#: share of each buying role in committees (order of BUYING_ROLES)
ROLE_SHARES: dict[str, float] = {
    "economic_buyer": 0.05,
    "decision_maker": 0.10,
    "champion": 0.10,
    "influencer": 0.22,
    "technical_evaluator": 0.17,
    "user": 0.24,
    "procurement": 0.05,
    "unknown": 0.07,
}
#: P(seniority | role), rows in BUYING_ROLES order, columns in SENIORITIES order
SENIORITY_GIVEN_ROLE = np.array(
    [
        # c_level vp   director manager ic   unknown
        [0.55, 0.35, 0.08, 0.02, 0.00, 0.00],  # economic_buyer
        [0.20, 0.40, 0.30, 0.08, 0.00, 0.02],  # decision_maker
        [0.02, 0.13, 0.35, 0.40, 0.08, 0.02],  # champion
        [0.02, 0.10, 0.30, 0.35, 0.20, 0.03],  # influencer
        [0.00, 0.03, 0.17, 0.35, 0.42, 0.03],  # technical_evaluator
        [0.00, 0.00, 0.05, 0.25, 0.65, 0.05],  # user
        [0.00, 0.05, 0.25, 0.50, 0.15, 0.05],  # procurement
        [0.02, 0.05, 0.10, 0.20, 0.23, 0.40],  # unknown
    ]
)
DEPARTMENTS: tuple[str, ...] = (
    "executive",
    "finance",
    "it",
    "engineering",
    "operations",
    "marketing",
    "sales",
    "procurement",
    "hr",
)
#: P(department | role), rows in BUYING_ROLES order, columns in DEPARTMENTS order
DEPARTMENT_GIVEN_ROLE = np.array(
    [
        [0.50, 0.35, 0.05, 0.00, 0.05, 0.00, 0.05, 0.00, 0.00],
        [0.15, 0.10, 0.35, 0.10, 0.15, 0.05, 0.05, 0.00, 0.05],
        [0.00, 0.05, 0.35, 0.20, 0.15, 0.10, 0.10, 0.00, 0.05],
        [0.05, 0.05, 0.20, 0.15, 0.20, 0.15, 0.15, 0.00, 0.05],
        [0.00, 0.00, 0.50, 0.45, 0.05, 0.00, 0.00, 0.00, 0.00],
        [0.00, 0.05, 0.25, 0.25, 0.20, 0.10, 0.10, 0.00, 0.05],
        [0.00, 0.20, 0.00, 0.00, 0.00, 0.00, 0.00, 0.80, 0.00],
        [0.05, 0.10, 0.15, 0.15, 0.15, 0.15, 0.15, 0.05, 0.05],
    ]
)

#: multiplier of a touch by the contact's buying role (key decision makers count more)
ROLE_MULTIPLIERS: dict[str, float] = {
    "economic_buyer": 2.0,
    "decision_maker": 1.8,
    "champion": 1.5,
    "influencer": 1.0,
    "technical_evaluator": 1.2,
    "user": 0.7,
    "procurement": 0.8,
    "unknown": 0.5,
}
SENIORITY_MULTIPLIERS: dict[str, float] = {
    "c_level": 1.6,
    "vp": 1.4,
    "director": 1.2,
    "manager": 1.0,
    "individual_contributor": 0.8,
    "unknown": 0.7,
}
#: multiplier of an anonymous touch (no contact)
ANONYMOUS_MULTIPLIER = 1.0

#: how often a contact engages, by role and seniority (who the touches land on)
ROLE_ACTIVITY: dict[str, float] = {
    "economic_buyer": 0.5,
    "decision_maker": 0.8,
    "champion": 1.6,
    "influencer": 1.0,
    "technical_evaluator": 1.3,
    "user": 1.0,
    "procurement": 0.5,
    "unknown": 0.6,
}
SENIORITY_ACTIVITY: dict[str, float] = {
    "c_level": 0.5,
    "vp": 0.7,
    "director": 0.9,
    "manager": 1.0,
    "individual_contributor": 1.1,
    "unknown": 0.8,
}
#: touch "classes": which contacts a touch of a class lands on (role affinity)
TOUCH_CLASSES: tuple[str, ...] = ("digital", "live", "sales", "executive")
#: affinity of each role (BUYING_ROLES order) to each class (TOUCH_CLASSES order)
ROLE_CLASS_AFFINITY = np.array(
    [
        [0.6, 1.0, 2.0, 3.0],  # economic_buyer
        [0.8, 1.2, 2.0, 2.0],  # decision_maker
        [1.2, 1.2, 1.5, 1.0],  # champion
        [1.0, 1.0, 0.8, 0.8],  # influencer
        [1.3, 1.0, 1.2, 0.5],  # technical_evaluator
        [1.2, 0.8, 0.4, 0.3],  # user
        [0.5, 0.3, 1.0, 0.8],  # procurement
        [1.0, 0.5, 0.3, 0.3],  # unknown
    ]
)

# ----------------------------------------------------------------------------
# Channels and signals
# ----------------------------------------------------------------------------

#: signal -> (channel, base weekly rate for a reference account, committee exponent,
#:            anonymous share, touch class, has campaign, has asset)
SIGNALS: dict[str, tuple[str, float, float, float, str, bool, bool]] = {
    "web_visit": ("web", 0.62, 0.6, 0.45, "digital", False, True),
    "pricing_page_visit": ("web", 0.045, 0.6, 0.30, "digital", False, True),
    "content_download": ("content", 0.10, 1.0, 0.0, "digital", True, True),
    "webinar_register": ("webinar", 0.045, 1.0, 0.0, "live", True, True),
    "webinar_attend": ("webinar", 0.022, 1.0, 0.0, "live", True, True),
    "event_attend": ("event", 0.009, 1.0, 0.0, "live", True, True),
    "email_open": ("email", 0.84, 1.0, 0.0, "digital", True, True),
    "email_click": ("email", 0.13, 1.0, 0.0, "digital", True, True),
    "paid_social_click": ("paid_social", 0.10, 0.6, 0.25, "digital", True, True),
    "display_click": ("display", 0.13, 0.5, 0.60, "digital", True, True),
    "linkedin_engagement": ("linkedin", 0.16, 1.0, 0.0, "digital", True, True),
    "sales_meeting": ("sales", 0.018, 0.7, 0.0, "sales", False, False),
    "demo_request": ("demo", 0.0045, 0.5, 0.0, "sales", True, False),
    "demo_attend": ("demo", 0.003, 0.7, 0.0, "sales", False, False),
    "workshop_attend": ("workshop", 0.0022, 0.8, 0.0, "executive", True, True),
    "intent_surge": ("intent", 0.06, 0.3, 1.0, "digital", False, False),
    "direct_mail_response": ("direct_mail", 0.003, 0.8, 0.0, "executive", True, True),
    "paid_search_click": ("paid_search", 0.09, 0.5, 0.50, "digital", True, True),
}
SIGNAL_NAMES: tuple[str, ...] = tuple(SIGNALS)
CHANNEL_NAMES: tuple[str, ...] = tuple(dict.fromkeys(v[0] for v in SIGNALS.values()))
#: reference committee size for the base rates
REFERENCE_COMMITTEE = 10.0
#: global multiplier of the base rates (calibrates ~500 touches per account over two years)
BASE_RATE_SCALE = 1.07

#: touch-rate elasticities: rate *= exp(RATE_SIZE * size + RATE_FIT * fit + u_i + burst)
RATE_SIZE = 0.25
RATE_FIT = 0.3
#: sd of the account engagement random effect u_i ~ N(-sd^2/2, sd)
ACCOUNT_RATE_SD = 0.8
#: in-market bursts: b_t = BURST_DECAY * b_{t-1} + BURST_JUMP * Bernoulli(BURST_START)
BURST_START = 0.035
BURST_DECAY = 0.7
BURST_JUMP = 1.4
#: intent data reacts more strongly to bursts
INTENT_BURST_GAIN = 1.6

#: channel -> mean cost per touch (currency units), lognormal noise sd 0.25
COST_PER_TOUCH: dict[str, float] = {
    "web": 0.0,
    "content": 6.0,
    "webinar": 18.0,
    "event": 280.0,
    "email": 0.03,
    "paid_social": 3.2,
    "display": 0.9,
    "linkedin": 2.4,
    "sales": 160.0,
    "demo": 120.0,
    "workshop": 650.0,
    "intent": 0.6,
    "direct_mail": 45.0,
    "paid_search": 4.8,
}
COST_NOISE_SD = 0.25

#: campaigns per channel per quarter (channels whose signals carry a campaign)
CAMPAIGNS_PER_QUARTER = 4
ASSETS_PER_CAMPAIGN = 3
#: web pages (assets of web touches without campaign)
WEB_PAGES = 60

# ----------------------------------------------------------------------------
# ABM: touch-rate multipliers (>= 1, so Poisson thinning gives the
# counterfactual "no ABM" touch stream) and planted effects per tier
# ----------------------------------------------------------------------------

ABM_TOUCH_MULTIPLIERS: dict[str, dict[str, float]] = {
    "one_to_one": {
        "direct_mail": 8.0, "event": 4.0, "workshop": 5.0, "linkedin": 3.0,
        "display": 3.0, "sales": 3.0, "content": 2.0, "email": 1.5,
        "webinar": 2.0, "paid_social": 2.0, "demo": 1.5,
    },
    "one_to_few": {
        "direct_mail": 4.0, "event": 2.5, "workshop": 3.0, "linkedin": 2.2,
        "display": 2.2, "sales": 1.8, "content": 1.6, "email": 1.3,
        "webinar": 1.6, "paid_social": 1.6, "demo": 1.2,
    },
    "one_to_many": {
        "display": 1.8, "linkedin": 1.6, "paid_social": 1.5, "email": 1.15,
        "content": 1.2, "webinar": 1.2,
    },
    "none": {},
}

#: planted ABM effects, per tier
ABM_EFFECTS: dict[str, dict[str, float]] = {
    "one_to_one": {
        "creation_log_odds": 0.50,
        "win_log_odds": 0.45,
        "deal_size_multiplier": 1.50,
        "cycle_length_multiplier": 0.85,
        "churn_multiplier": 0.60,
    },
    "one_to_few": {
        "creation_log_odds": 0.35,
        "win_log_odds": 0.30,
        "deal_size_multiplier": 1.30,
        "cycle_length_multiplier": 0.90,
        "churn_multiplier": 0.75,
    },
    "one_to_many": {
        "creation_log_odds": 0.15,
        "win_log_odds": 0.12,
        "deal_size_multiplier": 1.10,
        "cycle_length_multiplier": 0.95,
        "churn_multiplier": 0.90,
    },
    "none": {
        "creation_log_odds": 0.0,
        "win_log_odds": 0.0,
        "deal_size_multiplier": 1.0,
        "cycle_length_multiplier": 1.0,
        "churn_multiplier": 1.0,
    },
}

# ----------------------------------------------------------------------------
# Opportunity creation hazard (weekly, discrete time)
#   logit h_it = b0 + b_size size_i + b_fit fit_i + abm_i
#                + sum_s w_s log(1 + E_is(t-1))
# ----------------------------------------------------------------------------

DECAY_HALF_LIFE_DAYS = 30.0
HAZARD: dict[str, float] = {"intercept": -7.2, "size": 0.30, "fit": 0.50}
SIGNAL_WEIGHTS: dict[str, float] = {
    "web_visit": 0.06,
    "pricing_page_visit": 0.35,
    "content_download": 0.15,
    "webinar_register": 0.06,
    "webinar_attend": 0.25,
    "event_attend": 0.35,
    "email_open": 0.03,
    "email_click": 0.12,
    "paid_social_click": 0.06,
    "display_click": 0.03,
    "linkedin_engagement": 0.08,
    "sales_meeting": 0.55,
    "demo_request": 0.90,
    "demo_attend": 0.60,
    "workshop_attend": 0.50,
    "intent_surge": 0.30,
    "direct_mail_response": 0.25,
    "paid_search_click": 0.12,
}
#: exposure kept when an opportunity closes (engagement resets partly)
RESET_ON_CLOSE = 0.5

# ----------------------------------------------------------------------------
# Win model: logit p = c0 + c_eng S + c_cov coverage + c_fit fit + c_size size + abm
#   S = sum_s w_s log(1 + E_s) at creation; coverage = share of the 7 known
#   buying roles with a decayed touch count above COVERAGE_THRESHOLD
# ----------------------------------------------------------------------------

WIN: dict[str, float] = {
    "intercept": -3.25,
    "engagement": 0.30,
    "coverage": 1.6,
    "fit": 0.50,
    "size": -0.10,
}
COVERAGE_HALF_LIFE_DAYS = 60.0
COVERAGE_THRESHOLD = 0.5
COVERAGE_ROLES: tuple[str, ...] = tuple(r for r in BUYING_ROLES if r != "unknown")

#: P(lost at stage k | lost), k over the 5 open stages
LOST_STAGE_PROBS = (0.30, 0.25, 0.20, 0.15, 0.10)
#: Dirichlet concentration of the 5 open-stage durations
STAGE_DURATION_ALPHA = (2.0, 3.0, 3.0, 3.0, 2.0)

#: cycle days = CYCLE_MEDIAN_DAYS * exp(CYCLE_SIZE * size) * abm_mult * exp(CYCLE_SD * z)
CYCLE_MEDIAN_DAYS = 70.0
CYCLE_SIZE = 0.25
CYCLE_SD = 0.35

#: amount = DEAL_MEDIAN * exp(DEAL_SIZE * size) * abm_mult * exp(DEAL_SD * z), rounded to 100
DEAL_MEDIAN = 35_000.0
DEAL_SIZE = 0.75
DEAL_SD = 0.45

# ----------------------------------------------------------------------------
# Contracts: shifted-beta-geometric renewal per segment
#   theta_i ~ Beta(alpha_seg, beta_seg); theta_i *= churn_multiplier[tier]
#   each anniversary: churn with prob theta_i, else renew for a year
# ----------------------------------------------------------------------------

CHURN: dict[str, dict[str, float]] = {
    "strategic": {"alpha": 0.6, "beta": 6.0},
    "enterprise": {"alpha": 0.8, "beta": 4.5},
    "mid_market": {"alpha": 1.0, "beta": 3.0},
    "smb": {"alpha": 1.2, "beta": 2.0},
}

# ----------------------------------------------------------------------------
# Spend (monthly): programs = touch costs; fixed per-account costs by tier
# ----------------------------------------------------------------------------

#: tier -> monthly per-account cost of (personnel, content)
TIER_ACCOUNT_COSTS: dict[str, tuple[float, float]] = {
    "one_to_one": (1_800.0, 450.0),
    "one_to_few": (350.0, 110.0),
    "one_to_many": (35.0, 15.0),
    "none": (4.0, 2.0),
}
#: how personnel / content cost is split across channels
PERSONNEL_CHANNELS: dict[str, float] = {"sales": 0.5, "event": 0.2, "workshop": 0.2, "email": 0.1}
CONTENT_CHANNELS: dict[str, float] = {"content": 0.5, "webinar": 0.3, "direct_mail": 0.2}
#: channel -> monthly technology cost per tier (platform licences), per account in tier
TECHNOLOGY_PER_ACCOUNT: dict[str, dict[str, float]] = {
    "intent": {"one_to_one": 60.0, "one_to_few": 25.0, "one_to_many": 6.0, "none": 0.8},
    "display": {"one_to_one": 40.0, "one_to_few": 15.0, "one_to_many": 4.0, "none": 0.0},
    "email": {"one_to_one": 5.0, "one_to_few": 3.0, "one_to_many": 1.5, "none": 0.6},
    "web": {"one_to_one": 10.0, "one_to_few": 4.0, "one_to_many": 1.0, "none": 0.5},
}

assert set(ABM_TOUCH_MULTIPLIERS) == set(ABM_TIERS) == set(ABM_EFFECTS)
assert tuple(ROLE_SHARES) == BUYING_ROLES and tuple(ROLE_MULTIPLIERS) == BUYING_ROLES
assert tuple(SENIORITY_MULTIPLIERS) == SENIORITIES
assert set(SIGNAL_WEIGHTS) == set(SIGNALS)
assert set(COST_PER_TOUCH) == set(CHANNEL_NAMES)

# ----------------------------------------------------------------------------
# Generator worlds: named, opt-in departures from the world above
# (``generate_dataset(world=...)``). ``"default"`` changes nothing: same draws,
# same bytes. The others exist to study when the *type* of a signal matters
# for ranking accounts (see benchmarks/RESULTS.md, "Generator worlds and the
# hand-set baseline").
# ----------------------------------------------------------------------------

#: response of each signal's touch rate to the in-market burst: rate *= exp(gain_s * b_it)
BURST_GAINS: dict[str, float] = {
    s: (INTENT_BURST_GAIN if s == "intent_surge" else 1.0) for s in SIGNALS
}

#: "intent-led" bursts: an account that enters a buying cycle researches prices,
#: asks for demos and meetings and shows up in third-party intent data, while
#: its newsletter opens, display clicks and social likes barely move.
BURST_GAINS_INTENT_LED: dict[str, float] = {
    "web_visit": 0.5,
    "pricing_page_visit": 2.0,
    "content_download": 0.8,
    "webinar_register": 0.5,
    "webinar_attend": 0.5,
    "event_attend": 0.3,
    "email_open": 0.0,
    "email_click": 0.3,
    "paid_social_click": 0.2,
    "display_click": 0.0,
    "linkedin_engagement": 0.3,
    "sales_meeting": 1.6,
    "demo_request": 2.2,
    "demo_attend": 1.8,
    "workshop_attend": 1.2,
    "intent_surge": 2.0,
    "direct_mail_response": 0.3,
    "paid_search_click": 1.2,
}

#: extra, non-human or list-driven touches of high-volume signals, recorded like
#: any other touch of the signal but unrelated to the account's buying state:
#: signal -> (base weekly rate for a reference account, committee exponent,
#: sd of the account's log level v_is ~ N(-sd^2/2, sd), anonymous share).
#: rate = base * (n_i / 10)^kappa * exp(v_is) * seasonality * ABM multiplier;
#: no size, fit, u_i or burst term. email_open: newsletter list size and
#: machine opens (privacy-proxy image prefetch records an open whether or not
#: the mail was read); web_visit: crawlers, monitors and security scanners
#: resolved to the account by reverse IP; display_click: bot and accidental clicks.
#: At these rates ~87% of email opens and ~86% of web visits are noise
#: (~2,500 touches per account over two years, against ~510); measured
#: effect on the hand-set baseline: benchmarks/RESULTS.md.
NOISE_TOUCHES: dict[str, tuple[float, float, float, float]] = {
    "email_open": (10.0, 1.0, 1.0, 0.0),
    "web_visit": (6.0, 0.0, 1.5, 1.0),
    "display_click": (1.2, 0.0, 1.2, 1.0),
}

#: planted weights that depart from points-table folklore where B2B research
#: does: registrations and event/webinar attendance and gated downloads are
#: weaker buying signals than assumed, pricing-page research and third-party
#: intent surges stronger; sales-adjacent actions stay the strongest.
RESEARCH_SIGNAL_WEIGHTS: dict[str, float] = {
    "web_visit": 0.04,
    "pricing_page_visit": 0.60,
    "content_download": 0.06,
    "webinar_register": 0.02,
    "webinar_attend": 0.10,
    "event_attend": 0.12,
    "email_open": 0.01,
    "email_click": 0.08,
    "paid_social_click": 0.04,
    "display_click": 0.01,
    "linkedin_engagement": 0.05,
    "sales_meeting": 0.55,
    "demo_request": 0.90,
    "demo_attend": 0.60,
    "workshop_attend": 0.40,
    "intent_surge": 0.55,
    "direct_mail_response": 0.12,
    "paid_search_click": 0.20,
}

#: world name -> overrides of {"signal_weights", "burst_gains", "noise_touches"}
WORLDS: dict[str, dict[str, dict]] = {
    "default": {},
    "noisy_volume": {"noise_touches": NOISE_TOUCHES, "burst_gains": BURST_GAINS_INTENT_LED},
    "research_weights": {"signal_weights": RESEARCH_SIGNAL_WEIGHTS},
    "noisy_research": {
        "noise_touches": NOISE_TOUCHES,
        "burst_gains": BURST_GAINS_INTENT_LED,
        "signal_weights": RESEARCH_SIGNAL_WEIGHTS,
    },
}
WORLD_KEYS: tuple[str, ...] = (
    "signal_weights", "burst_gains", "noise_touches", "bursts", "hazard_intercept",
)

assert set(BURST_GAINS) == set(BURST_GAINS_INTENT_LED) == set(RESEARCH_SIGNAL_WEIGHTS) == set(SIGNALS)
assert set(NOISE_TOUCHES) <= set(SIGNALS)
