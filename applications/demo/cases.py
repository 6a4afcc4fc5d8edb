"""The demo's cases: what firms would really bring to a regulatory sandbox."""

from decimal import Decimal

from ..models import Criterion
from .data import REFERENCE_NODE
from .steps import (
    Case,
    achieved,
    answer,
    ask,
    assess,
    assign_auditor,
    days_from_today,
    decide,
    periodic_report,
    recommend,
    run_tests,
    screen,
    start_sandbox,
    start_screening,
    submit,
    tier,
    to_evaluation,
    to_testing,
    withdraw,
)


def _answers(in_scope, innovation, benefit, readiness, need):
    return {
        Criterion.IN_SCOPE.value: in_scope,
        Criterion.GENUINE_INNOVATION.value: innovation,
        Criterion.CONSUMER_BENEFIT.value: benefit,
        Criterion.READINESS.value: readiness,
        Criterion.NEED_FOR_SUPPORT.value: need,
    }


def _doc(kind, filename, title, *paragraphs):
    return (kind, filename, title, list(paragraphs))


STANDARD_SAFEGUARDS = {
    "safeguard_consent": "Every customer signs a plain-English test agreement that names the "
    "sandbox, the caps and how to leave the test at any time.",
    "safeguard_disclosure": "The app and every receipt state that the service is being tested "
    "under the regulator's sandbox with restricted authorisation.",
    "safeguard_complaints": "Complaints are acknowledged within one business day and resolved "
    "within 15; unresolved complaints can go to the Financial Ombudsman Service.",
    "safeguard_compensation": "Customer losses caused by the service are refunded in full from "
    "a ring-fenced compensation fund.",
}


def cases():
    """The demo's cases. Built on each load so their dates are relative to today."""
    D = Decimal
    return [
        Case(
            firm="a",
            project="LedgerLink",
            author="amir",
            fields={
                "title": "Tokenised invoice finance for SME suppliers",
                "summary": "Suppliers to large retailers tokenise approved invoices and sell "
                "them to a pool of institutional funders on a permissioned ledger, getting "
                "paid in two days instead of 60.",
                "hypothesis": "Tokenised, buyer-approved invoices can be financed within 48 "
                "hours at a lower discount rate than factoring.",
                "test_start": days_from_today(90),
                "test_end": days_from_today(270),
                "customer_cap": 150,
                "target_level": 2,
                "relief_requested": ["guidance"],
            },
            answers=_answers(
                "Arranging finance for businesses; the funders' side may involve "
                "collective investment rules, on which we seek guidance.",
                "",
                "Small suppliers get paid faster and cheaper than with factoring.",
                "",
                "",
            ),
            documents=[
                _doc(
                    "white_paper",
                    "ledgerlink-white-paper-draft.pdf",
                    "LedgerLink: tokenised invoice finance (draft white paper)",
                    "Small suppliers wait 60 to 90 days to be paid by large buyers. LedgerLink "
                    "lets a supplier tokenise an invoice once the buyer has approved it, and "
                    "sell the token to funders who are repaid by the buyer on the due date.",
                    "Each token carries the buyer's approval signature, so the same invoice "
                    "cannot be financed twice.",
                ),
            ],
        ),
        Case(
            firm="b",
            project="Tidewater DvP",
            author="bella",
            fields={
                "title": "Atomic delivery-versus-payment for tokenised gilts",
                "summary": "Settles transfers of tokenised UK government bonds against "
                "tokenised sterling deposits in one atomic ledger transaction, removing "
                "principal risk between the two legs.",
                "hypothesis": "Atomic DvP on a permissioned ledger settles gilt repo trades "
                "in seconds with no settlement fails and no principal risk.",
                "success_metrics": "Zero failed or partially settled trades; 99% of trades "
                "settled within 5 seconds; daily reconciliation with the custodian agrees "
                "to the penny.",
                "test_start": days_from_today(60),
                "test_end": days_from_today(240),
                "customer_cap": 12,
                "transaction_cap": D("5000000.00"),
                "aggregate_cap": D("250000000.00"),
                "customer_selection": "Twelve professional counterparties (banks and "
                "building societies) already onboarded with our custodian.",
                **STANDARD_SAFEGUARDS,
                "safeguard_capital": "Regulatory capital of GBP 4.2m held at all times, "
                "plus a default fund sized to the largest two counterparties.",
                "relief_requested": ["waiver", "restricted_authorisation"],
                "relief_detail": "A modification of the settlement finality rules so that "
                "ledger finality counts as settlement finality for the test's trades.",
                "exit_strategy": "If the test succeeds we apply for recognition as a "
                "settlement system; if not, open trades are unwound through the custodian "
                "and the tokens redeemed at par.",
                "target_level": 2,
                "in_cohort": True,
            },
            answers=_answers(
                "Settlement of transactions in government bonds, a regulated activity.",
                "No UK system settles tokenised gilts atomically against tokenised money.",
                "Lower settlement risk and cost, passed on to pension funds that use repo.",
                "The ledger has run for six months on a test network with 40 million "
                "simulated trades.",
                "Settlement finality rules assume a central securities depository; the "
                "test needs a modification to run lawfully.",
            ),
            nodes=["dvp-validator-1", "dvp-validator-2"],
            documents=[
                _doc(
                    "white_paper",
                    "tidewater-dvp-white-paper.pdf",
                    "Tidewater DvP: white paper",
                    "Tidewater DvP links a token register of UK gilts held in custody to a "
                    "tokenised sterling deposit issued by a UK bank. A trade is one ledger "
                    "transaction that moves both tokens or neither.",
                    "Finality is reached after two blocks under an IBFT consensus of four "
                    "validators run by Tidewater, the custodian and two participant banks.",
                ),
                _doc(
                    "legal_opinion",
                    "tidewater-dvp-legal-opinion.pdf",
                    "Legal opinion on settlement finality",
                    "We are asked whether a transfer recorded on the Tidewater ledger is "
                    "final for the purposes of the settlement finality regulations.",
                    "In our opinion it is not, unless the system is designated or the rules "
                    "are modified for the test, which this application requests.",
                ),
            ],
            steps=[submit("bella")],
        ),
        Case(
            firm="a",
            project="Northgate Remit",
            author="alice",
            fields={
                "title": "Low-cost remittances to Ghana and Kenya",
                "summary": "Customers in the UK send money to mobile wallets in Ghana and "
                "Kenya. The transfer settles over a permissioned ledger with local partner "
                "banks, at a total cost under 2% of the amount sent.",
                "hypothesis": "Ledger settlement with local partners lowers the cost of a "
                "GBP 200 remittance from 7% to under 2% and delivers it within a minute.",
                "success_metrics": "Median cost under 2%; 95% delivered within 60 seconds; "
                "no unreconciled amount at the end of any day.",
                "test_start": days_from_today(45),
                "test_end": days_from_today(225),
                "customer_cap": 2000,
                "transaction_cap": D("1000.00"),
                "aggregate_cap": D("1500000.00"),
                "customer_selection": "Existing Northgate customers who opt in; no more "
                "than 2,000, recruited through community organisations in London and "
                "Birmingham.",
                **STANDARD_SAFEGUARDS,
                "safeguard_capital": "Own funds of GBP 1.1m, above the payment institution "
                "requirement.",
                "relief_requested": ["restricted_authorisation"],
                "relief_detail": "Restricted authorisation as a payment institution for "
                "money remittance, limited to the two corridors and the caps above.",
                "exit_strategy": "Full authorisation as a payment institution; if the test "
                "stops, pending transfers are completed or refunded within two days.",
                "target_level": 2,
                "in_cohort": True,
            },
            answers=_answers(
                "Money remittance is a regulated payment service.",
                "Settlement through a shared ledger with the receiving banks, without "
                "correspondent banking.",
                "A typical migrant worker saves about GBP 120 a year in fees.",
                "The corridors run with staff as customers since March.",
                "We need a restricted authorisation to test with real customers.",
            ),
            nodes=[REFERENCE_NODE],
            documents=[
                _doc(
                    "white_paper",
                    "northgate-remit-white-paper.pdf",
                    "Northgate Remit: white paper",
                    "Northgate Remit settles remittances through a ledger shared with "
                    "partner banks in Accra and Nairobi, who credit the recipient's mobile "
                    "wallet as soon as the transfer is final.",
                ),
                _doc(
                    "risk_assessment",
                    "northgate-remit-risk-assessment.pdf",
                    "Northgate Remit: risk assessment",
                    "Key risks: money laundering through the corridors, foreign exchange "
                    "exposure between acceptance and delivery, partner bank failure.",
                    "Controls: screening of sender and recipient, FX locked at acceptance, "
                    "pre-funded partner accounts reconciled daily.",
                ),
            ],
            steps=[
                submit("alice"),
                screen("Complete; money remittance is in scope."),
                ask(
                    "Please explain how client funds are safeguarded between acceptance "
                    "in the UK and delivery to the wallet, and which bank holds the "
                    "safeguarding account. Please also send the FX policy that fixes the "
                    "rate shown to the customer.",
                    10,
                ),
            ],
        ),
        Case(
            firm="a",
            project="Northgate Settle",
            author="alice",
            fields={
                "title": "Intraday netting for merchant acquirers",
                "summary": "Card acquirers net their obligations to each other every 15 "
                "minutes on a shared ledger and settle the net positions in central bank "
                "money, instead of settling gross at the end of the day.",
                "hypothesis": "Netting every 15 minutes cuts acquirers' intraday liquidity "
                "needs by at least 60% without a settlement failure.",
                "success_metrics": "Liquidity saving of 60% or more; every netting cycle "
                "completes within 2 minutes at 500 transactions per second.",
                "test_start": days_from_today(30),
                "test_end": days_from_today(210),
                "customer_cap": 6,
                "transaction_cap": D("250000.00"),
                "aggregate_cap": D("75000000.00"),
                "customer_selection": "Six mid-sized acquirers that have signed the "
                "participation rules.",
                **STANDARD_SAFEGUARDS,
                "safeguard_capital": "Participants pre-fund a settlement guarantee pool "
                "of GBP 10m.",
                "relief_requested": ["guidance", "waiver"],
                "relief_detail": "Guidance on whether the netting service is a payment "
                "system that must be designated.",
                "exit_strategy": "Apply for designation; if the test stops, participants "
                "return to gross settlement the next business day.",
                "target_level": 3,
                "in_cohort": True,
            },
            answers=_answers(
                "Operating a payment system used by regulated acquirers.",
                "Fifteen-minute multilateral netting on a shared ledger is new in the UK.",
                "Lower liquidity costs lead to lower merchant service charges.",
                "Load tests have reached 800 transactions per second on three nodes.",
                "Designation rules need clarifying before any live use.",
            ),
            nodes=[REFERENCE_NODE],
            documents=[
                _doc(
                    "white_paper",
                    "northgate-settle-white-paper.pdf",
                    "Northgate Settle: white paper",
                    "Acquirers submit their obligations to the ledger as they arise. Every "
                    "15 minutes a netting contract computes the net positions, which are "
                    "settled in central bank money through the participants' reserve "
                    "accounts.",
                ),
            ],
            steps=[
                submit("alice"),
                screen("Complete. Technical testing at L2 first, monitoring later."),
                assess(
                    {
                        "in_scope": "Netting among acquirers is a payment system activity.",
                        "genuine_innovation": "No intraday netting service of this kind "
                        "operates in the UK.",
                        "consumer_benefit": "Merchants benefit indirectly through lower "
                        "charges; plausible.",
                        "readiness": "Load test evidence provided; the engine will verify.",
                        "need_for_support": "Designation question justifies the sandbox.",
                    }
                ),
                tier("physical", "in_progress", "Site visit to Riverside data hall booked."),
                to_testing(
                    "Run the block, crypto, consensus, clearing and monitoring suites on "
                    "the reference node."
                ),
                run_tests(),
            ],
        ),
        Case(
            firm="b",
            project="SkyCover",
            author="bella",
            fields={
                "title": "Parametric flight-delay insurance",
                "summary": "Travellers buy cover for a flight; if an official data feed "
                "shows a delay over two hours, the claim is paid automatically to their "
                "card within minutes, without a claim form.",
                "hypothesis": "Automatic payment from a trusted flight-data feed settles "
                "95% of valid claims within 10 minutes, at a lower claims cost.",
                "success_metrics": "95% of valid claims paid within 10 minutes; no "
                "payment on a flight that was not delayed; complaint rate under 1%.",
                "test_start": days_from_today(40),
                "test_end": days_from_today(220),
                "customer_cap": 5000,
                "transaction_cap": D("250.00"),
                "aggregate_cap": D("400000.00"),
                "customer_selection": "Customers of two partner travel agents who choose "
                "the cover at checkout.",
                **STANDARD_SAFEGUARDS,
                "safeguard_capital": "Underwritten by a UK-authorised insurer; claims "
                "reserve of GBP 600,000 held in trust.",
                "relief_requested": ["guidance", "no_action_letter"],
                "relief_detail": "Guidance on product disclosure for parametric cover, and "
                "comfort on paying claims without a claim form.",
                "exit_strategy": "The underwriting insurer adopts the product; if the test "
                "stops, live policies run to expiry.",
                "target_level": 2,
                "in_cohort": True,
            },
            answers=_answers(
                "Arranging and administering insurance contracts.",
                "Claims are paid by a contract reading an agreed data feed.",
                "Customers are paid in minutes instead of weeks.",
                "Pilot with 300 staff policies completed.",
                "Disclosure rules assume indemnity cover; guidance needed.",
            ),
            nodes=["dvp-validator-1"],
            documents=[
                _doc(
                    "white_paper",
                    "skycover-white-paper.pdf",
                    "SkyCover: parametric flight-delay cover",
                    "A policy names a flight and a delay threshold. An oracle signs the "
                    "arrival time published by the airport data provider; the contract "
                    "pays the fixed benefit when the threshold is passed.",
                ),
                _doc(
                    "risk_assessment",
                    "skycover-risk-assessment.pdf",
                    "SkyCover: risk assessment",
                    "Basis risk (a delayed traveller not paid, or the reverse) is disclosed "
                    "at sale. Oracle failure falls back to manual claims within 5 days.",
                ),
            ],
            steps=[
                submit("bella"),
                screen("Complete and in scope."),
                assess(
                    {
                        "in_scope": "Insurance distribution and claims handling.",
                        "genuine_innovation": "Automatic claims from signed data are new.",
                        "consumer_benefit": "Fast payment; basis risk must be disclosed.",
                        "readiness": "Pilot evidence is convincing.",
                        "need_for_support": "Disclosure guidance is needed.",
                    }
                ),
                to_testing("Run block, crypto and payment suites."),
                tier("technical", "satisfied", "All L2 suites passed on the firm's node."),
                achieved(2, "Block, crypto and payment suites passed, p99 latency 0.8 s."),
                tier("physical", "satisfied", "Node registered in the free-trade zone."),
                to_evaluation("Evidence complete."),
                recommend(
                    "admit_with_conditions",
                    "Eligibility met and L2 evidence sound. Admit with a condition on "
                    "basis-risk disclosure and a cap on policies until the oracle has run "
                    "for three months.",
                ),
            ],
        ),
        Case(
            firm="a",
            project="Northgate Instant",
            author="alice",
            fields={
                "title": "Real-time merchant payments",
                "summary": "Small merchants accept account-to-account payments from a QR "
                "code; the payment is final on a permissioned ledger within two seconds "
                "and costs the merchant 0.3%, against 1.5% for cards.",
                "hypothesis": "Ledger settlement confirms 99% of merchant payments within "
                "two seconds, with no lost or duplicated payment.",
                "success_metrics": "p99 confirmation latency under 2 s; zero double "
                "spends; value conserved across all accounts every day.",
                "test_start": days_from_today(-31),
                "test_end": days_from_today(150),
                "customer_cap": 500,
                "transaction_cap": D("500.00"),
                "aggregate_cap": D("250000.00"),
                "customer_selection": "Independent cafés and shops in two London boroughs, "
                "recruited through the local business association.",
                **STANDARD_SAFEGUARDS,
                "safeguard_capital": "Own funds of GBP 2.3m; merchant funds safeguarded "
                "at a UK bank.",
                "relief_requested": ["restricted_authorisation", "guidance"],
                "relief_detail": "Restricted authorisation as a payment institution for "
                "the test's merchants and caps.",
                "exit_strategy": "Full authorisation; if the test ends early, merchants "
                "are moved to our card acquiring service at no cost.",
                "target_level": 3,
                "in_cohort": True,
            },
            answers=_answers(
                "Payment initiation and acquiring are regulated payment services.",
                "Sub-second final settlement for small merchants is not offered today.",
                "Merchants save over 1% on every sale.",
                "Running with staff and friendly merchants for four months.",
                "A restricted authorisation lets us test before full authorisation.",
            ),
            nodes=[REFERENCE_NODE],
            documents=[
                _doc(
                    "white_paper",
                    "northgate-instant-white-paper.pdf",
                    "Northgate Instant: white paper",
                    "The customer scans the merchant's QR code and approves the payment in "
                    "their banking app. Northgate records the transfer on its permissioned "
                    "ledger, where it is final after one block, and the merchant is told "
                    "at once.",
                    "Merchant balances are redeemable one to one for sterling held in a "
                    "safeguarding account.",
                ),
                _doc(
                    "legal_opinion",
                    "northgate-instant-legal-opinion.pdf",
                    "Legal opinion: Northgate Instant",
                    "The service is a payment service (acquiring of payment transactions). "
                    "Ledger balances are not e-money because they are redeemed daily.",
                ),
                _doc(
                    "risk_assessment",
                    "northgate-instant-risk-assessment.pdf",
                    "Northgate Instant: risk assessment",
                    "Operational risk of ledger outage: merchants fall back to cards. Fraud "
                    "risk: payments are authorised in the customer's bank app.",
                ),
            ],
            steps=[
                submit("alice"),
                screen("Complete and in scope."),
                assess(
                    {
                        "in_scope": "Acquiring payment transactions.",
                        "genuine_innovation": "Sub-second final settlement for merchants.",
                        "consumer_benefit": "Lower merchant costs; customers unaffected.",
                        "readiness": "Four months of live staff use.",
                        "need_for_support": "Restricted authorisation needed.",
                    }
                ),
                to_testing("Block, crypto, consensus and payment suites on the reference node."),
                run_tests(),
                tier("technical", "satisfied", "L2 suites passed; monitoring to follow."),
                achieved(2, "L1 and L2 suites passed; no double spend."),
                tier("physical", "satisfied", "Site visit to Riverside data hall done."),
                to_evaluation("Evidence complete."),
                recommend(
                    "admit_with_conditions",
                    "All criteria met, L2 evidence strong. Admit with conditions on "
                    "monitoring and reporting.",
                ),
                decide(
                    "admit_with_conditions",
                    "Agree with the case officer. Admitted for 150 days within the caps.",
                    conditions=[
                        ("Connect the ledger to runtime monitoring (L3) within 30 days.", 30),
                        ("File a periodic report every month of the test.", 31),
                        ("Report any incident affecting payments within 24 hours.", 150),
                    ],
                    parameters={
                        "max_customers": 500,
                        "max_transaction_gbp": 500,
                        "aggregate_cap_gbp": 250000,
                        "latency_bound_p99_s": 2.0,
                        "reporting": "monthly",
                    },
                ),
                start_sandbox(),
                periodic_report(
                    "alice",
                    "Monthly report: first month of the test",
                    "118 merchants onboarded and 9,412 payments made, worth GBP 164,220. "
                    "p99 confirmation latency 1.4 s. No payment lost or duplicated; daily "
                    "reconciliation agreed every day. Two complaints, both about the QR "
                    "sticker, resolved within a day.",
                ),
                assign_auditor("audrey"),
            ],
        ),
        Case(
            firm="b",
            project="Harbourline",
            author="bella",
            fields={
                "title": "Digital letters of credit for commodity shipments",
                "summary": "Importers, exporters and their banks issue, amend and present "
                "documents under letters of credit on a shared ledger, with electronic "
                "bills of lading under the Electronic Trade Documents Act 2023.",
                "hypothesis": "Digital letters of credit cut document checking from five "
                "days to one and remove discrepancies from retyped data.",
                "success_metrics": "Median presentation-to-payment under one business day; "
                "discrepancy rate under 5%.",
                "test_start": days_from_today(50),
                "test_end": days_from_today(230),
                "customer_cap": 40,
                "transaction_cap": D("2000000.00"),
                "aggregate_cap": D("40000000.00"),
                "customer_selection": "Forty commodity traders introduced by two "
                "participating banks.",
                **STANDARD_SAFEGUARDS,
                "safeguard_capital": "Not applicable: the banks bear credit risk; "
                "Tidewater holds professional indemnity cover of GBP 5m.",
                "relief_requested": ["guidance"],
                "relief_detail": "Guidance on record-keeping when the electronic bill of "
                "lading is the original.",
                "exit_strategy": "Banks continue on a commercial licence; paper fallback "
                "is kept throughout.",
                "target_level": 1,
            },
            answers=_answers(
                "Supports regulated banks' trade finance; we seek guidance on our role.",
                "Electronic bills of lading with letters of credit on one ledger.",
                "Faster payment to exporters, fewer disputes.",
                "Two banks have run 120 shadow transactions.",
                "Guidance is needed on record-keeping.",
            ),
            documents=[
                _doc(
                    "white_paper",
                    "harbourline-white-paper.pdf",
                    "Harbourline: digital letters of credit",
                    "Harbourline records each letter of credit, its amendments and the "
                    "presented documents on a shared ledger. Bills of lading are electronic "
                    "trade documents with a single controller at any time.",
                ),
                _doc(
                    "other",
                    "harbourline-rulebook-v1.3.pdf",
                    "Harbourline platform rulebook, version 1.3",
                    "Tidewater Markets operates the Harbourline platform. It is not a party "
                    "to any letter of credit: the issuing, advising and confirming banks are.",
                    "Participants keep their own records; the platform keeps an audit copy "
                    "of every electronic trade document for seven years.",
                ),
            ],
            steps=[
                submit("bella"),
                screen("Complete. Role of the firm to be clarified."),
                ask(
                    "Is Tidewater itself a party to the letters of credit, or does it only "
                    "operate the platform for the banks? Please send the platform rulebook.",
                    14,
                ),
                answer(
                    "bella",
                    "Tidewater only operates the platform; the issuing and advising banks "
                    "are the parties. The platform rulebook (version 1.3) is among this "
                    "case's documents.",
                ),
                assess(
                    {
                        "in_scope": "Platform supporting regulated banks; in scope.",
                        "genuine_innovation": "Electronic trade documents in use.",
                    }
                ),
            ],
        ),
        Case(
            firm="b",
            project="Tidewater Fractions",
            author="bella",
            fields={
                "title": "Fractional retail trading of tokenised money-market funds",
                "summary": "Retail investors buy fractions of tokenised money-market fund "
                "units from GBP 1 through an app, traded around the clock.",
                "hypothesis": "Fractional tokenised units widen access to money-market "
                "funds for savers with small balances.",
                "success_metrics": "10,000 investors; price tracking error under 0.05%.",
                "test_start": days_from_today(20),
                "test_end": days_from_today(200),
                "customer_cap": 10000,
                "transaction_cap": D("2000.00"),
                "aggregate_cap": D("5000000.00"),
                "customer_selection": "Open sign-up through the app.",
                **STANDARD_SAFEGUARDS,
                "safeguard_capital": "Own funds of GBP 800,000.",
                "relief_requested": ["waiver"],
                "relief_detail": "A waiver of the rules on dealing in fund units outside "
                "the fund's dealing point.",
                "exit_strategy": "Redeem all fractions at the fund's next valuation.",
                "target_level": 0,
            },
            answers=_answers(
                "Dealing in investments as agent for retail clients.",
                "Around-the-clock fractional trading of fund units.",
                "Access to money-market returns for small savers.",
                "App built; fund manager agreement in negotiation.",
                "The dealing rules prevent out-of-hours trading.",
            ),
            documents=[
                _doc(
                    "white_paper",
                    "fractions-white-paper.pdf",
                    "Tidewater Fractions: white paper",
                    "Fund units are held by a nominee and represented by tokens that can be "
                    "split to a thousandth and traded between investors at any time.",
                ),
            ],
            steps=[
                submit("bella"),
                screen("Complete."),
                assess(
                    {
                        "in_scope": "Dealing as agent; in scope.",
                        "genuine_innovation": "Fractions exist elsewhere; out-of-hours "
                        "dealing is new but not the benefit to investors.",
                        "consumer_benefit": "Out-of-hours prices would diverge from the "
                        "fund's value; retail investors bear the gap.",
                        "readiness": "No agreement with a fund manager yet.",
                        "need_for_support": "The waiver sought removes a core investor protection.",
                    },
                    outcomes={
                        "genuine_innovation": "unclear",
                        "consumer_benefit": "not_met",
                        "readiness": "not_met",
                    },
                ),
                to_evaluation("No technical testing needed at L0."),
                recommend(
                    "reject",
                    "Consumer benefit and readiness are not met: out-of-hours trading "
                    "exposes retail investors to prices away from the fund's value, and "
                    "there is no agreement with a fund manager.",
                ),
                decide(
                    "reject",
                    "Rejected for the reasons recommended. The firm may reapply once a "
                    "fund manager is engaged and dealing follows the fund's valuation.",
                ),
            ],
        ),
        Case(
            firm="a",
            project="RoyaltyChain",
            author="alice",
            fields={
                "title": "Music royalty distribution ledger",
                "summary": "Streaming royalties are split between songwriters, performers "
                "and labels by a contract on a shared ledger and paid out weekly.",
                "hypothesis": "Weekly payouts by contract reduce unmatched royalties below 2%.",
                "success_metrics": "Unmatched royalties under 2%; payouts every week.",
                "test_start": days_from_today(60),
                "test_end": days_from_today(240),
                "customer_cap": 300,
                "exit_strategy": "Hand the service to a collecting society partner.",
                "target_level": 1,
            },
            answers=_answers(
                "Payment services for royalty holders.",
                "Contract-based royalty splits.",
                "Artists are paid faster and more accurately.",
                "Prototype with one independent label.",
                "Unclear whether payouts are a payment service.",
            ),
            documents=[
                _doc(
                    "white_paper",
                    "royaltychain-white-paper.pdf",
                    "RoyaltyChain: white paper",
                    "RoyaltyChain records each recording's rights holders and their "
                    "shares, and pays them from streaming revenue every week.",
                ),
            ],
            steps=[
                submit("alice"),
                start_screening(),
                withdraw(
                    "alice",
                    "Our collecting society partner will run the payouts under its own "
                    "authorisation, so we no longer need the sandbox.",
                ),
            ],
        ),
    ]
