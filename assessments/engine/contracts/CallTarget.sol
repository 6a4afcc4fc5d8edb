// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.26;

/// A cheap, always-successful contract call for the clearing suite's load: it counts calls
/// per sender and emits one event, so a confirmed call leaves observable state and a log.
contract CallTarget {
    uint256 public total;
    mapping(address => uint256) public calls;

    event Cleared(address indexed from, uint256 ticket);

    function clear(uint256 ticket) external {
        total += 1;
        calls[msg.sender] += 1;
        emit Cleared(msg.sender, ticket);
    }
}
