from django.db import models


class State(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    SCREENING = "screening", "Screening"
    UNDER_REVIEW = "under_review", "Under review"
    AWAITING_FIRM = "awaiting_firm", "Awaiting firm (RFI)"
    TECHNICAL_TESTING = "technical_testing", "Technical testing"
    EVALUATION = "evaluation", "Evaluation"
    RECOMMENDED = "recommended", "Recommended"
    ADMITTED = "admitted", "Admitted"
    ADMITTED_WITH_CONDITIONS = "admitted_with_conditions", "Admitted with conditions"
    REJECTED = "rejected", "Rejected"
    IN_SANDBOX = "in_sandbox", "In sandbox"
    EXIT_REVIEW = "exit_review", "Exit review"
    EXITED = "exited", "Exited"
    WITHDRAWN = "withdrawn", "Withdrawn"


# States in which the firm may still withdraw: everything before a decision.
WITHDRAWABLE_STATES = [
    State.DRAFT,
    State.SUBMITTED,
    State.SCREENING,
    State.UNDER_REVIEW,
    State.AWAITING_FIRM,
    State.TECHNICAL_TESTING,
    State.EVALUATION,
    State.RECOMMENDED,
]
# States in which the regulator's service-level clock runs (or ran).
CLOCK_STATES_ENDED = {
    State.ADMITTED,
    State.ADMITTED_WITH_CONDITIONS,
    State.REJECTED,
    State.IN_SANDBOX,
    State.EXIT_REVIEW,
    State.EXITED,
    State.WITHDRAWN,
}


class Category(models.TextChoices):
    PAYMENT = "payment", "Payment"
    CLEARING = "clearing", "Clearing and settlement"
    INSURANCE = "insurance", "Insurance"
    TRADING = "trading", "Trading"
    COPYRIGHT = "copyright", "Copyright"
    OTHER = "other", "Other"


class TechLevel(models.IntegerChoices):
    L0 = 0, "L0: no technical testing"
    L1 = 1, "L1: underlying protocol"
    L2 = 2, "L2: protocol and application"
    L3 = 3, "L3: protocol, application and runtime monitoring"


class Tier(models.TextChoices):
    INSTITUTIONAL = "institutional", "Institutional"
    TECHNICAL = "technical", "Technical"
    PHYSICAL = "physical", "Physical"


class TierState(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    IN_PROGRESS = "in_progress", "In progress"
    SATISFIED = "satisfied", "Satisfied"
    FAILED = "failed", "Failed"
    WAIVED = "waived", "Waived"


class Criterion(models.TextChoices):
    """The five FCA sandbox eligibility criteria."""

    IN_SCOPE = "in_scope", "In scope"
    GENUINE_INNOVATION = "genuine_innovation", "Genuine innovation"
    CONSUMER_BENEFIT = "consumer_benefit", "Consumer benefit"
    READINESS = "readiness", "Readiness for testing"
    NEED_FOR_SUPPORT = "need_for_support", "Need for sandbox support"


CRITERION_HELP = {
    Criterion.IN_SCOPE: "Is the proposition a regulated activity, or does it support one?",
    Criterion.GENUINE_INNOVATION: "Is it new, or significantly different from what is offered?",
    Criterion.CONSUMER_BENEFIT: "Does it offer a good prospect of identifiable consumer benefit?",
    Criterion.READINESS: "Is it ready for testing in a live environment?",
    Criterion.NEED_FOR_SUPPORT: "Does it need the sandbox, rather than ordinary authorisation?",
}


class AssessmentOutcome(models.TextChoices):
    PENDING = "", "Not assessed"
    MET = "met", "Met"
    NOT_MET = "not_met", "Not met"
    UNCLEAR = "unclear", "Unclear"


class Relief(models.TextChoices):
    WAIVER = "waiver", "Waiver or modification of rules"
    GUIDANCE = "guidance", "Individual guidance"
    RESTRICTED_AUTHORISATION = "restricted_authorisation", "Restricted authorisation"
    NO_ACTION_LETTER = "no_action_letter", "No-action letter"


class DocumentKind(models.TextChoices):
    WHITE_PAPER = "white_paper", "White paper"
    LEGAL_OPINION = "legal_opinion", "Legal opinion"
    RISK_ASSESSMENT = "risk_assessment", "Risk assessment"
    OTHER = "other", "Other"


class DecisionOutcome(models.TextChoices):
    ADMIT = "admit", "Admit"
    ADMIT_WITH_CONDITIONS = "admit_with_conditions", "Admit with conditions"
    REJECT = "reject", "Reject"


class ConditionStatus(models.TextChoices):
    OPEN = "open", "Open"
    MET = "met", "Met"
    BREACHED = "breached", "Breached"
    WAIVED = "waived", "Waived"


class FirmReportKind(models.TextChoices):
    PERIODIC = "periodic", "Periodic report"
    INCIDENT = "incident", "Incident report"
    FINAL = "final", "Final report"


class ExitOutcome(models.TextChoices):
    AUTHORISED = "authorised", "Authorised"
    EXTENDED = "extended", "Extended"
    TERMINATED = "terminated", "Terminated"


class ZoneKind(models.TextChoices):
    FREE_TRADE = "free_trade", "Free-trade zone"
    TECH_PARK = "tech_park", "Technology park"
    FINANCIAL_SECURITY = "financial_security", "Financial security zone"


class MembershipRole(models.TextChoices):
    ADMIN = "admin", "Firm admin"
    MEMBER = "member", "Member"
