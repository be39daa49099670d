"""What each planted persona looks like: the parameters the builders draw from.

One table per behaviour, keyed by persona name (docs/contracts.md). The numbers are
plausible for a mid-sized Chinese retail bank (yuan, monthly counts); they separate
the personas in features while leaving overlap, so that clustering has real work to do.
"""

from __future__ import annotations

from sparkseg.generate.config import PERSONAS

W = dict[str, float]

# Age in years: (low, high) of a triangular-ish draw.
AGE: dict[str, tuple[float, float]] = {
    "payroll_mass": (23, 56),
    "young_digital": (20, 30),
    "affluent_investor": (34, 68),
    "silver_depositor": (60, 86),
    "small_business": (27, 58),
    "dormant_saver": (24, 76),
    "churning": (25, 62),
    "new_customer": (18.5, 50),
}
# Years since account opening (low, high) for personas other than new_customer.
TENURE_YEARS: dict[str, tuple[float, float]] = {
    "payroll_mass": (0.6, 15),
    "young_digital": (0.6, 6),
    "affluent_investor": (2, 22),
    "silver_depositor": (3, 30),
    "small_business": (0.8, 14),
    "dormant_saver": (1.5, 20),
    "churning": (1, 12),
    "new_customer": (0, 0.24),  # opened within the last ~90 days
}

GENDER_FEMALE: dict[str, float] = {
    "payroll_mass": 0.48, "young_digital": 0.52, "affluent_investor": 0.45,
    "silver_depositor": 0.56, "small_business": 0.38, "dormant_saver": 0.5,
    "churning": 0.47, "new_customer": 0.5,
}

CITY_TIER: dict[str, W] = {
    "payroll_mass": {"1": 0.2, "2": 0.35, "3": 0.3, "4": 0.15},
    "young_digital": {"1": 0.32, "2": 0.38, "3": 0.2, "4": 0.1},
    "affluent_investor": {"1": 0.5, "2": 0.32, "3": 0.14, "4": 0.04},
    "silver_depositor": {"1": 0.12, "2": 0.25, "3": 0.33, "4": 0.3},
    "small_business": {"1": 0.18, "2": 0.32, "3": 0.3, "4": 0.2},
    "dormant_saver": {"1": 0.15, "2": 0.25, "3": 0.3, "4": 0.3},
    "churning": {"1": 0.3, "2": 0.35, "3": 0.22, "4": 0.13},
    "new_customer": {"1": 0.25, "2": 0.35, "3": 0.25, "4": 0.15},
}

OCCUPATION: dict[str, W] = {
    "payroll_mass": {"employee": 0.7, "civil_servant": 0.12, "professional": 0.1,
                     "freelancer": 0.05, "self_employed": 0.03},
    "young_digital": {"employee": 0.55, "student": 0.2, "freelancer": 0.15,
                      "professional": 0.08, "unemployed": 0.02},
    "affluent_investor": {"business_owner": 0.35, "professional": 0.3, "employee": 0.15,
                          "civil_servant": 0.08, "retired": 0.12},
    "silver_depositor": {"retired": 0.88, "self_employed": 0.05, "employee": 0.04,
                         "unemployed": 0.03},
    "small_business": {"self_employed": 0.6, "business_owner": 0.35, "freelancer": 0.05},
    "dormant_saver": {"employee": 0.35, "retired": 0.2, "unemployed": 0.15, "freelancer": 0.1,
                      "self_employed": 0.1, "student": 0.1},
    "churning": {"employee": 0.55, "professional": 0.15, "self_employed": 0.15,
                 "business_owner": 0.1, "freelancer": 0.05},
    "new_customer": {"employee": 0.55, "student": 0.15, "self_employed": 0.1,
                     "freelancer": 0.1, "professional": 0.1},
}

# Monthly income bands (yuan).
INCOME_BANDS: tuple[str, ...] = ("<5k", "5k-10k", "10k-20k", "20k-50k", "50k+")
# Monthly salary (yuan) at the band's middle; the draw spreads it +-30%.
INCOME_SALARY: tuple[float, ...] = (3800, 7500, 14000, 30000, 70000)
INCOME: dict[str, W] = {
    "payroll_mass": {"<5k": 0.18, "5k-10k": 0.45, "10k-20k": 0.27, "20k-50k": 0.09, "50k+": 0.01},
    "young_digital": {"<5k": 0.35, "5k-10k": 0.42, "10k-20k": 0.18, "20k-50k": 0.05},
    "affluent_investor": {"5k-10k": 0.05, "10k-20k": 0.2, "20k-50k": 0.45, "50k+": 0.3},
    "silver_depositor": {"<5k": 0.55, "5k-10k": 0.35, "10k-20k": 0.08, "20k-50k": 0.02},
    "small_business": {"<5k": 0.1, "5k-10k": 0.3, "10k-20k": 0.35, "20k-50k": 0.2, "50k+": 0.05},
    "dormant_saver": {"<5k": 0.45, "5k-10k": 0.35, "10k-20k": 0.15, "20k-50k": 0.05},
    "churning": {"<5k": 0.1, "5k-10k": 0.35, "10k-20k": 0.35, "20k-50k": 0.17, "50k+": 0.03},
    "new_customer": {"<5k": 0.3, "5k-10k": 0.4, "10k-20k": 0.2, "20k-50k": 0.08, "50k+": 0.02},
}

# Risk tolerance from the bank's suitability questionnaire (C1 cautious .. C5 aggressive).
RISK: dict[str, W] = {
    "payroll_mass": {"C1": 0.15, "C2": 0.35, "C3": 0.35, "C4": 0.12, "C5": 0.03},
    "young_digital": {"C1": 0.08, "C2": 0.25, "C3": 0.37, "C4": 0.22, "C5": 0.08},
    "affluent_investor": {"C2": 0.1, "C3": 0.35, "C4": 0.38, "C5": 0.17},
    "silver_depositor": {"C1": 0.55, "C2": 0.35, "C3": 0.1},
    "small_business": {"C1": 0.1, "C2": 0.3, "C3": 0.35, "C4": 0.2, "C5": 0.05},
    "dormant_saver": {"C1": 0.45, "C2": 0.35, "C3": 0.2},
    "churning": {"C1": 0.15, "C2": 0.3, "C3": 0.35, "C4": 0.15, "C5": 0.05},
    "new_customer": {"C1": 0.2, "C2": 0.35, "C3": 0.3, "C4": 0.12, "C5": 0.03},
}

# Probability of holding each product besides the deposit account everyone has.
HOLDS: dict[str, dict[str, float]] = {
    "payroll_mass": {"credit_card": 0.55, "loan": 0.12, "mortgage": 0.25, "wealth": 0.18,
                     "fund": 0.2, "insurance": 0.12},
    "young_digital": {"credit_card": 0.6, "loan": 0.15, "mortgage": 0.03, "wealth": 0.08,
                      "fund": 0.35, "insurance": 0.05},
    "affluent_investor": {"credit_card": 0.75, "loan": 0.08, "mortgage": 0.3, "wealth": 0.92,
                          "fund": 0.75, "insurance": 0.5},
    "silver_depositor": {"credit_card": 0.1, "loan": 0.01, "mortgage": 0.01, "wealth": 0.4,
                         "fund": 0.05, "insurance": 0.22},
    "small_business": {"credit_card": 0.6, "loan": 0.55, "mortgage": 0.2, "wealth": 0.15,
                       "fund": 0.12, "insurance": 0.1},
    "dormant_saver": {"credit_card": 0.08, "loan": 0.02, "mortgage": 0.02, "wealth": 0.05,
                      "fund": 0.03, "insurance": 0.03},
    "churning": {"credit_card": 0.45, "loan": 0.1, "mortgage": 0.15, "wealth": 0.35,
                 "fund": 0.3, "insurance": 0.15},
    "new_customer": {"credit_card": 0.2, "loan": 0.05, "mortgage": 0.02, "wealth": 0.06,
                     "fund": 0.1, "insurance": 0.03},
}

# Assets under management (deposit + wealth + fund + insurance), yuan: median and spread.
AUM_MEDIAN: dict[str, float] = {
    "payroll_mass": 45_000, "young_digital": 12_000, "affluent_investor": 1_600_000,
    "silver_depositor": 320_000, "small_business": 150_000, "dormant_saver": 18_000,
    "churning": 220_000, "new_customer": 9_000,
}
AUM_SIGMA: dict[str, float] = {
    "payroll_mass": 0.9, "young_digital": 1.0, "affluent_investor": 0.6,
    "silver_depositor": 0.8, "small_business": 1.0, "dormant_saver": 1.1,
    "churning": 0.9, "new_customer": 1.2,
}
# How AUM splits over the asset products a customer holds (renormalised over holdings).
AUM_SPLIT: dict[str, dict[str, float]] = {
    "payroll_mass": {"deposit": 0.7, "wealth": 0.15, "fund": 0.1, "insurance": 0.05},
    "young_digital": {"deposit": 0.75, "wealth": 0.05, "fund": 0.18, "insurance": 0.02},
    "affluent_investor": {"deposit": 0.22, "wealth": 0.42, "fund": 0.24, "insurance": 0.12},
    "silver_depositor": {"deposit": 0.72, "wealth": 0.2, "fund": 0.02, "insurance": 0.06},
    "small_business": {"deposit": 0.85, "wealth": 0.08, "fund": 0.05, "insurance": 0.02},
    "dormant_saver": {"deposit": 0.95, "wealth": 0.03, "fund": 0.01, "insurance": 0.01},
    "churning": {"deposit": 0.5, "wealth": 0.3, "fund": 0.15, "insurance": 0.05},
    "new_customer": {"deposit": 0.9, "wealth": 0.05, "fund": 0.05, "insurance": 0.0},
}
# Month-on-month relative noise of balances (dormant savers barely move).
BALANCE_NOISE: dict[str, float] = {
    "payroll_mass": 0.12, "young_digital": 0.25, "affluent_investor": 0.06,
    "silver_depositor": 0.03, "small_business": 0.3, "dormant_saver": 0.002,
    "churning": 0.08, "new_customer": 0.2,
}
# Monthly drift of asset balances.
BALANCE_DRIFT: dict[str, float] = {
    "payroll_mass": 0.006, "young_digital": 0.004, "affluent_investor": 0.008,
    "silver_depositor": 0.003, "small_business": 0.002, "dormant_saver": 0.0003,
    "churning": 0.0, "new_customer": 0.08,
}

# Share of customers with a monthly payroll credit (代发工资; pension for silver depositors).
SALARY_PROB: dict[str, float] = {
    "payroll_mass": 0.97, "young_digital": 0.45, "affluent_investor": 0.3,
    "silver_depositor": 0.55, "small_business": 0.05, "dormant_saver": 0.0,
    "churning": 0.5, "new_customer": 0.35,
}
# Pension credits are smaller than the income band suggests.
SALARY_FACTOR: dict[str, float] = {p: 1.0 for p in PERSONAS} | {"silver_depositor": 0.45}

# Customer-initiated transactions per 30 active days, relative (scaled to txn_per_customer).
TXN_RATE: dict[str, float] = {
    "payroll_mass": 1.0, "young_digital": 1.6, "affluent_investor": 0.9,
    "silver_depositor": 0.4, "small_business": 2.6, "dormant_saver": 0.3,
    "churning": 1.0, "new_customer": 1.3,
}
# Organic digital events per 30 active days, relative (scaled to events_per_customer).
EVENT_RATE: dict[str, float] = {
    "payroll_mass": 1.0, "young_digital": 2.4, "affluent_investor": 0.8,
    "silver_depositor": 0.25, "small_business": 0.8, "dormant_saver": 0.15,
    "churning": 0.7, "new_customer": 1.7,
}

CATEGORY: dict[str, W] = {
    "payroll_mass": {"consumption": 0.62, "transfer": 0.16, "wealth_purchase": 0.02,
                     "wealth_redemption": 0.01, "loan_repayment": 0.06, "fee": 0.03,
                     "other": 0.1},
    "young_digital": {"consumption": 0.78, "transfer": 0.12, "wealth_purchase": 0.02,
                      "wealth_redemption": 0.01, "loan_repayment": 0.03, "fee": 0.01,
                      "other": 0.03},
    "affluent_investor": {"consumption": 0.38, "transfer": 0.2, "wealth_purchase": 0.18,
                          "wealth_redemption": 0.12, "loan_repayment": 0.04, "fee": 0.03,
                          "other": 0.05},
    "silver_depositor": {"consumption": 0.35, "transfer": 0.15, "wealth_purchase": 0.06,
                         "wealth_redemption": 0.04, "fee": 0.02, "other": 0.38},
    "small_business": {"consumption": 0.3, "transfer": 0.55, "loan_disbursement": 0.01,
                       "loan_repayment": 0.05, "fee": 0.04, "other": 0.05},
    "dormant_saver": {"consumption": 0.35, "transfer": 0.2, "fee": 0.1, "other": 0.35},
    "churning": {"consumption": 0.45, "transfer": 0.3, "wealth_purchase": 0.03,
                 "wealth_redemption": 0.08, "loan_repayment": 0.04, "fee": 0.03,
                 "other": 0.07},
    "new_customer": {"consumption": 0.6, "transfer": 0.25, "wealth_purchase": 0.03,
                     "fee": 0.02, "other": 0.1},
}
# Share of transfers that go out (debit).
TRANSFER_OUT: dict[str, float] = {
    "payroll_mass": 0.62, "young_digital": 0.6, "affluent_investor": 0.5,
    "silver_depositor": 0.45, "small_business": 0.5, "dormant_saver": 0.5,
    "churning": 0.78, "new_customer": 0.45,
}

TXN_CHANNEL: dict[str, W] = {
    "payroll_mass": {"mobile_app": 0.35, "pos": 0.2, "wechat": 0.14, "atm": 0.08,
                     "online_banking": 0.07, "third_party": 0.09, "mini_program": 0.04,
                     "branch": 0.03},
    "young_digital": {"mobile_app": 0.24, "wechat": 0.25, "mini_program": 0.18,
                      "third_party": 0.22, "pos": 0.07, "online_banking": 0.02, "atm": 0.01,
                      "branch": 0.01},
    "affluent_investor": {"branch": 0.25, "mobile_app": 0.26, "online_banking": 0.15,
                          "pos": 0.2, "wechat": 0.05, "third_party": 0.05, "atm": 0.02,
                          "mini_program": 0.02},
    "silver_depositor": {"branch": 0.46, "atm": 0.3, "pos": 0.1, "mobile_app": 0.08,
                         "wechat": 0.03, "online_banking": 0.01, "third_party": 0.01,
                         "mini_program": 0.01},
    "small_business": {"pos": 0.25, "third_party": 0.25, "mobile_app": 0.2,
                       "online_banking": 0.15, "wechat": 0.07, "branch": 0.05, "atm": 0.02,
                       "mini_program": 0.01},
    "dormant_saver": {"branch": 0.3, "atm": 0.3, "mobile_app": 0.15, "pos": 0.15,
                      "wechat": 0.05, "online_banking": 0.03, "third_party": 0.02},
    "churning": {"mobile_app": 0.32, "online_banking": 0.15, "pos": 0.14, "branch": 0.14,
                 "atm": 0.1, "wechat": 0.08, "third_party": 0.05, "mini_program": 0.02},
    "new_customer": {"mobile_app": 0.4, "wechat": 0.15, "mini_program": 0.1, "pos": 0.15,
                     "third_party": 0.1, "branch": 0.05, "atm": 0.03, "online_banking": 0.02},
}
# Channels on which each category can happen (the persona mix is restricted to these).
CATEGORY_CHANNELS: dict[str, tuple[str, ...]] = {
    "consumption": ("pos", "wechat", "mini_program", "third_party", "mobile_app"),
    "transfer": ("mobile_app", "online_banking", "branch", "atm", "wechat", "third_party"),
    "wealth_purchase": ("mobile_app", "online_banking", "branch", "mini_program"),
    "wealth_redemption": ("mobile_app", "online_banking", "branch", "mini_program"),
    "loan_disbursement": ("branch", "mobile_app"),
    "loan_repayment": ("mobile_app", "online_banking", "branch", "third_party"),
    "fee": ("branch", "atm", "mobile_app", "online_banking"),
    "interest": ("branch",),
    "salary": ("online_banking",),
    "other": ("atm", "branch"),
}

# Median amount (yuan) per category, scaled by the persona's spending level below.
CATEGORY_MEDIAN: dict[str, float] = {
    "consumption": 90, "transfer": 2500, "wealth_purchase": 50_000,
    "wealth_redemption": 60_000, "loan_disbursement": 200_000, "loan_repayment": 3_500,
    "fee": 12, "other": 1_000,
}
CATEGORY_SIGMA: dict[str, float] = {
    "consumption": 1.0, "transfer": 1.1, "wealth_purchase": 0.8, "wealth_redemption": 0.8,
    "loan_disbursement": 0.7, "loan_repayment": 0.6, "fee": 0.7, "other": 0.8,
}
SPEND_LEVEL: dict[str, float] = {
    "payroll_mass": 1.0, "young_digital": 0.7, "affluent_investor": 4.0,
    "silver_depositor": 0.8, "small_business": 2.5, "dormant_saver": 0.6,
    "churning": 1.6, "new_customer": 0.8,
}

# Merchant category codes of consumption (ISO 18245).
MCC: dict[str, W] = {
    "payroll_mass": {"5411": 0.25, "5812": 0.2, "5814": 0.12, "4111": 0.08, "4121": 0.06,
                     "5541": 0.08, "5311": 0.06, "5912": 0.05, "4814": 0.05, "5999": 0.05},
    "young_digital": {"5814": 0.2, "5812": 0.15, "5815": 0.12, "5691": 0.1, "4121": 0.1,
                      "5732": 0.08, "7832": 0.07, "5411": 0.1, "4814": 0.04, "5999": 0.04},
    "affluent_investor": {"5812": 0.2, "7011": 0.12, "4511": 0.12, "5944": 0.06, "5311": 0.12,
                          "5411": 0.14, "7997": 0.06, "5541": 0.08, "5691": 0.1},
    "silver_depositor": {"5411": 0.4, "5912": 0.18, "8062": 0.1, "5812": 0.1, "5311": 0.1,
                         "4814": 0.06, "5999": 0.06},
    "small_business": {"5045": 0.15, "5111": 0.1, "5200": 0.12, "5411": 0.18, "5812": 0.15,
                       "5541": 0.12, "4214": 0.08, "5999": 0.1},
    "dormant_saver": {"5411": 0.4, "5812": 0.2, "5912": 0.1, "4814": 0.15, "5999": 0.15},
    "churning": {"5411": 0.2, "5812": 0.2, "5311": 0.1, "4511": 0.1, "7011": 0.1,
                 "5732": 0.1, "5691": 0.1, "5999": 0.1},
    "new_customer": {"5411": 0.25, "5812": 0.2, "5814": 0.15, "4121": 0.1, "4111": 0.1,
                     "5999": 0.1, "4814": 0.1},
}
# Parents (aged 30-45) spend part of their consumption on children.
CHILD_MCC: W = {"5641": 0.3, "5945": 0.25, "8211": 0.1, "8220": 0.05, "8299": 0.3}
CHILD_MCC_SHARE = 0.18
# Amount multiplier per MCC (tuition costs more than a coffee).
MCC_LEVEL: dict[str, float] = {
    "4511": 12.0, "7011": 8.0, "5944": 15.0, "7997": 6.0, "5732": 5.0, "5045": 10.0,
    "5111": 3.0, "5200": 4.0, "4214": 5.0, "8062": 3.0, "5641": 3.0, "5945": 2.0,
    "8211": 40.0, "8220": 60.0, "8299": 18.0, "5814": 0.35, "4111": 0.05, "4121": 0.3,
    "5541": 3.0, "4814": 1.0,
}

EVENT_CHANNEL: dict[str, W] = {
    "payroll_mass": {"app": 0.55, "wechat": 0.2, "mini_program": 0.1, "web": 0.12,
                     "call_center": 0.03},
    "young_digital": {"app": 0.4, "wechat": 0.25, "mini_program": 0.3, "web": 0.05},
    "affluent_investor": {"app": 0.55, "wechat": 0.1, "mini_program": 0.05, "web": 0.22,
                          "call_center": 0.08},
    "silver_depositor": {"app": 0.25, "wechat": 0.4, "mini_program": 0.05, "web": 0.05,
                         "call_center": 0.25},
    "small_business": {"app": 0.5, "wechat": 0.15, "mini_program": 0.1, "web": 0.2,
                       "call_center": 0.05},
    "dormant_saver": {"app": 0.4, "wechat": 0.25, "web": 0.2, "call_center": 0.15},
    "churning": {"app": 0.55, "wechat": 0.15, "mini_program": 0.05, "web": 0.15,
                 "call_center": 0.1},
    "new_customer": {"app": 0.6, "wechat": 0.2, "mini_program": 0.15, "web": 0.05},
}
EVENT_TYPE: dict[str, W] = {
    "payroll_mass": {"login": 0.25, "page_view": 0.3, "product_view": 0.08, "click": 0.15,
                     "like": 0.04, "comment": 0.02, "share": 0.04, "search": 0.1, "invite": 0.02},
    "young_digital": {"login": 0.14, "page_view": 0.24, "product_view": 0.08, "click": 0.14,
                      "like": 0.13, "comment": 0.07, "share": 0.09, "search": 0.06,
                      "invite": 0.05},
    "affluent_investor": {"login": 0.2, "page_view": 0.2, "product_view": 0.3, "click": 0.12,
                          "like": 0.02, "comment": 0.02, "share": 0.02, "search": 0.1},
    "silver_depositor": {"login": 0.35, "page_view": 0.35, "product_view": 0.1, "click": 0.12,
                         "like": 0.02, "share": 0.03, "search": 0.03},
    "small_business": {"login": 0.3, "page_view": 0.28, "product_view": 0.08, "click": 0.15,
                       "like": 0.03, "comment": 0.02, "share": 0.04, "search": 0.08,
                       "invite": 0.02},
    "dormant_saver": {"login": 0.4, "page_view": 0.4, "product_view": 0.05, "click": 0.1,
                      "search": 0.05},
    "churning": {"login": 0.2, "page_view": 0.3, "product_view": 0.05, "click": 0.14,
                 "like": 0.02, "share": 0.02, "search": 0.17},
    "new_customer": {"login": 0.2, "page_view": 0.3, "product_view": 0.15, "click": 0.13,
                     "like": 0.05, "comment": 0.02, "share": 0.05, "search": 0.05,
                     "invite": 0.05},
}
# Product families viewed in the app (prefix of product_id).
VIEWED_PRODUCT: dict[str, W] = {
    "payroll_mass": {"WM": 0.25, "FD": 0.2, "CC": 0.25, "LN": 0.15, "IS": 0.15},
    "young_digital": {"WM": 0.1, "FD": 0.3, "CC": 0.35, "LN": 0.2, "IS": 0.05},
    "affluent_investor": {"WM": 0.5, "FD": 0.35, "CC": 0.05, "IS": 0.1},
    "silver_depositor": {"WM": 0.55, "FD": 0.05, "IS": 0.3, "CC": 0.1},
    "small_business": {"WM": 0.1, "FD": 0.1, "CC": 0.2, "LN": 0.55, "IS": 0.05},
    "dormant_saver": {"WM": 0.3, "FD": 0.2, "CC": 0.2, "LN": 0.2, "IS": 0.1},
    "churning": {"WM": 0.3, "FD": 0.3, "CC": 0.2, "LN": 0.1, "IS": 0.1},
    "new_customer": {"WM": 0.2, "FD": 0.2, "CC": 0.35, "LN": 0.15, "IS": 0.1},
}
# Usual hour of activity (mean, spread) in local time.
ACTIVE_HOUR: dict[str, tuple[float, float]] = {
    "payroll_mass": (15.5, 4.5), "young_digital": (19.5, 3.5), "affluent_investor": (12.0, 3.5),
    "silver_depositor": (10.0, 2.5), "small_business": (14.0, 4.0),
    "dormant_saver": (13.0, 4.0), "churning": (15.0, 4.5), "new_customer": (16.0, 4.5),
}

# Identifiers: chance of having an app device (second device), a WeChat identity, web cookies.
HAS_DEVICE: dict[str, float] = {
    "payroll_mass": 0.88, "young_digital": 0.98, "affluent_investor": 0.85,
    "silver_depositor": 0.35, "small_business": 0.9, "dormant_saver": 0.45,
    "churning": 0.85, "new_customer": 0.93,
}
SECOND_DEVICE: dict[str, float] = {
    "payroll_mass": 0.15, "young_digital": 0.3, "affluent_investor": 0.35,
    "silver_depositor": 0.02, "small_business": 0.3, "dormant_saver": 0.02,
    "churning": 0.15, "new_customer": 0.1,
}
HAS_WECHAT: dict[str, float] = {
    "payroll_mass": 0.75, "young_digital": 0.95, "affluent_investor": 0.55,
    "silver_depositor": 0.6, "small_business": 0.8, "dormant_saver": 0.35,
    "churning": 0.6, "new_customer": 0.8,
}
HAS_WEB: dict[str, float] = {
    "payroll_mass": 0.4, "young_digital": 0.25, "affluent_investor": 0.6,
    "silver_depositor": 0.12, "small_business": 0.65, "dormant_saver": 0.25,
    "churning": 0.45, "new_customer": 0.2,
}

# Campaign channel the customer responds to ("none": opens nothing).
PREFERRED_CHANNEL: dict[str, W] = {
    "payroll_mass": {"app_push": 0.38, "wechat": 0.3, "sms": 0.2, "none": 0.12},
    "young_digital": {"app_push": 0.4, "wechat": 0.46, "sms": 0.04, "none": 0.1},
    "affluent_investor": {"app_push": 0.35, "wechat": 0.15, "sms": 0.35, "none": 0.15},
    "silver_depositor": {"app_push": 0.05, "wechat": 0.2, "sms": 0.52, "none": 0.23},
    "small_business": {"app_push": 0.35, "wechat": 0.35, "sms": 0.15, "none": 0.15},
    "dormant_saver": {"app_push": 0.04, "wechat": 0.06, "sms": 0.15, "none": 0.75},
    "churning": {"app_push": 0.12, "wechat": 0.13, "sms": 0.15, "none": 0.6},
    "new_customer": {"app_push": 0.45, "wechat": 0.3, "sms": 0.13, "none": 0.12},
}

# Share of a persona's customers that behave like a random other persona in channel and
# event mix: real segments overlap.
STYLE_NOISE = 0.12
