// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.26;

/// A payee that refuses every payment and every call. The payment suite's rollback probe
/// pays it: a correct chain must fail the payment, tell the sender, and leave every balance
/// unchanged but for the gas the sender paid.
contract RevertingPayee {
    receive() external payable {
        revert("RevertingPayee: payment refused");
    }

    fallback() external payable {
        revert("RevertingPayee: call refused");
    }
}
