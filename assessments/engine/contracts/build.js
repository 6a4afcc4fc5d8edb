// Rebuilds artifacts.json (ABI + creation and runtime bytecode) from the Solidity sources
// beside this file with the pinned npm `solc` (solcjs; no compiler download is needed).
//
//   npm run contracts         (or: node assessments/engine/contracts/build.js)
//
// The output is committed; the engine reads artifacts.json and never compiles at run time.
// evmVersion "paris" keeps the bytecode free of PUSH0, so it deploys on consortium chains
// that have not adopted Shanghai.
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const solc = require("solc");

const SOURCES = ["RevertingPayee.sol", "CallTarget.sol"];
const here = __dirname;

const input = {
  language: "Solidity",
  sources: Object.fromEntries(
    SOURCES.map((name) => [name, { content: fs.readFileSync(path.join(here, name), "utf8") }]),
  ),
  settings: {
    evmVersion: "paris",
    optimizer: { enabled: true, runs: 200 },
    metadata: { bytecodeHash: "none" },
    outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } },
  },
};

const output = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (output.errors || []).filter((e) => e.severity === "error");
if (errors.length > 0) {
  for (const e of errors) console.error(e.formattedMessage);
  process.exit(1);
}

const artifacts = {
  compiler: `solc ${solc.version()}`,
  settings: { evmVersion: input.settings.evmVersion, optimizer: input.settings.optimizer },
  contracts: {},
};
for (const source of SOURCES) {
  for (const [name, contract] of Object.entries(output.contracts[source])) {
    artifacts.contracts[name] = {
      source,
      abi: contract.abi,
      bytecode: `0x${contract.evm.bytecode.object}`,
      deployedBytecode: `0x${contract.evm.deployedBytecode.object}`,
    };
  }
}
fs.writeFileSync(path.join(here, "artifacts.json"), `${JSON.stringify(artifacts, null, 2)}\n`);
console.log(`wrote artifacts.json with ${Object.keys(artifacts.contracts).join(", ")}`);
