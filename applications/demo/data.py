"""Who and what the demo is about: people, zones, firms, their projects and nodes."""

import os

from sandbox_portal.accounts.models import Role

DEMO_PASSWORD = "sandbox-demo"

# username: (first name, last name, email, role)
PEOPLE = {
    "staff": ("Sam", "Whitfield", "sam.whitfield@regulator.example", Role.STAFF),
    "olivia": ("Olivia", "Brennan", "olivia.brennan@regulator.example", Role.CASE_OFFICER),
    "victor": ("Victor", "Lindqvist", "victor.lindqvist@regulator.example", Role.APPROVER),
    "audrey": ("Audrey", "Mensah", "audrey.mensah@assurance.example", Role.AUDITOR),
    "alice": ("Alice", "Hartley", "alice.hartley@northgate-pay.example", Role.FIRM),
    "amir": ("Amir", "Haddad", "amir.haddad@northgate-pay.example", Role.FIRM),
    "bella": ("Bella", "Okafor", "bella.okafor@tidewater-markets.example", Role.FIRM),
}

# The demo logins as the README and ``make run`` list them: username, what the person does.
LOGINS = [
    ("alice", "Firm admin, Northgate Payments (Firm A)"),
    ("amir", "Firm member, Northgate Payments (Firm A)"),
    ("bella", "Firm admin, Tidewater Markets (Firm B)"),
    ("olivia", "Regulator: case officer"),
    ("victor", "Regulator: approver"),
    ("audrey", "Auditor, assigned to Northgate's real-time merchant payments case"),
    ("staff", "Portal staff (Django admin at /admin/)"),
]

ZONES = [
    (
        "Thames Gateway Free-Trade Zone",
        "free_trade",
        "Customs-free warehousing and simplified import of server hardware. Firms keep a "
        "registered office in the zone and report the equipment they host each quarter.",
    ),
    (
        "Riverside Technology Park",
        "tech_park",
        "Shared data halls with dual power feeds and 24-hour access control. Hosted nodes "
        "must be listed with the park operator; staff on site carry park passes.",
    ),
    (
        "City Financial Security Zone",
        "financial_security",
        "For systems that hold client money or settlement data: segregated racks, "
        "tamper-evident seals, quarterly penetration tests and a named security officer.",
    ),
]

FIRMS = {
    "a": {
        "name": "Northgate Payments",
        "legal_name": "Northgate Payments Ltd",
        "registration_number": "12873340",
        "contact_email": "regulatory@northgate-pay.example",
        "admin": "alice",
        "zones": [
            (
                "Riverside Technology Park",
                "Unit 4, Data Hall 2, Riverside Technology Park",
                "RTP-0417",
            ),
            ("City Financial Security Zone", "Suite 9, 40 Lombard Court, London", "FSZ-1182"),
        ],
        "personnel": [
            ("Priya Raman", "Head of infrastructure", True),
            ("Tom Fletcher", "Site reliability engineer", True),
            ("Hannah Cole", "Money laundering reporting officer", False),
        ],
    },
    "b": {
        "name": "Tidewater Markets",
        "legal_name": "Tidewater Markets plc",
        "registration_number": "09455126",
        "contact_email": "compliance@tidewater-markets.example",
        "admin": "bella",
        "zones": [
            (
                "Thames Gateway Free-Trade Zone",
                "Bay 12, Gateway Logistics Centre, Tilbury",
                "TG-2290",
            ),
        ],
        "personnel": [
            ("Daniel Osei", "Chief technology officer", True),
            ("Marta Kowalska", "Compliance officer", False),
        ],
    },
}

COHORT = "Cohort 7: payments, clearing and insurance"

REFERENCE_NODE = "reference-node"


def chain_url():
    return f"http://127.0.0.1:{os.environ.get('CHAIN_PORT', '8545')}"


def nodes_of(firm_key):
    if firm_key == "a":
        return [
            (REFERENCE_NODE, chain_url(), "Riverside Technology Park, Data Hall 2, rack B4"),
            (
                "validator-2",
                "https://validator-2.northgate-pay.example:8545",
                "Riverside Technology Park, Data Hall 2, rack B5",
            ),
            (
                "observer-1",
                "https://observer-1.northgate-pay.example:8545",
                "City Financial Security Zone, cage 3",
            ),
        ]
    return [
        (
            "dvp-validator-1",
            "https://dvp-1.tidewater-markets.example:8545",
            "Gateway Logistics Centre, bay 12",
        ),
        (
            "dvp-validator-2",
            "https://dvp-2.tidewater-markets.example:8545",
            "Gateway Logistics Centre, bay 12",
        ),
    ]


PROJECTS = {
    "a": [
        ("Northgate Instant", "payment", "Card-free instant payments for small merchants."),
        ("Northgate Remit", "payment", "Low-cost remittances to East and West Africa."),
        ("Northgate Settle", "clearing", "Intraday netting and settlement for acquirers."),
        ("LedgerLink", "other", "Tokenised invoice finance for small suppliers."),
        ("RoyaltyChain", "copyright", "Transparent music royalty distribution."),
    ],
    "b": [
        ("Tidewater DvP", "clearing", "Atomic delivery-versus-payment for tokenised gilts."),
        ("SkyCover", "insurance", "Parametric flight-delay insurance paid automatically."),
        ("Harbourline", "other", "Digital letters of credit for commodity shipments."),
        ("Tidewater Fractions", "trading", "Fractional retail trading of tokenised funds."),
    ],
}
