"""The test suites. Each is ``run(target, parameters=None, progress=None) -> SuiteResult``."""

from . import block, clearing, consensus, consensus_trace, crypto, ledger, monitoring, payment

SUITES = {
    "block": block.run,
    "crypto": crypto.run,
    "consensus": consensus.run,
    "payment": payment.run,
    "clearing": clearing.run,
    "monitoring": monitoring.run,
    "ledger": ledger.run,
}

# Check an uploaded file rather than a live target: check(source, parameters, progress),
# where source is a path, bytes or a binary file (JSON Lines, streamed).
check_consensus_trace = consensus_trace.check
check_ledger_history = ledger.check_history

PARAMETERS = {
    "block": block.BlockParameters,
    "crypto": crypto.CryptoParameters,
    "consensus": consensus.ConsensusParameters,
    "payment": payment.PaymentParameters,
    "clearing": clearing.ClearingParameters,
    "monitoring": monitoring.MonitoringParameters,
    "ledger": ledger.LedgerParameters,
    "consensus_trace": consensus_trace.TraceParameters,
}
