"""The test suites. Each is ``run(target, parameters=None, progress=None) -> SuiteResult``."""

from . import block, clearing, consensus, consensus_trace, crypto, monitoring, payment

SUITES = {
    "block": block.run,
    "crypto": crypto.run,
    "consensus": consensus.run,
    "payment": payment.run,
    "clearing": clearing.run,
    "monitoring": monitoring.run,
}

# Checks an uploaded consensus trace rather than a live target: run(trace, parameters).
check_consensus_trace = consensus_trace.run

PARAMETERS = {
    "block": block.BlockParameters,
    "crypto": crypto.CryptoParameters,
    "consensus": consensus.ConsensusParameters,
    "payment": payment.PaymentParameters,
    "clearing": clearing.ClearingParameters,
    "monitoring": monitoring.MonitoringParameters,
    "consensus_trace": consensus_trace.TraceParameters,
}
