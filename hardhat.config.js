// The reference Ethereum node that the technical test engine is developed and tested against.
//
// Start it with `npx hardhat node --hostname 127.0.0.1 --port 8545` (or `npm run node`).
// Defaults: chain id 31337, one block every 1000 ms (interval mining, no automine),
// 100 accounts from the standard Hardhat test mnemonic, each funded with 1,000,000 ETH.
// Environment variables override them, so tests can start several different nodes:
//   HARDHAT_CHAIN_ID   chain id (default 31337)
//   HARDHAT_BLOCK_MS   block interval in milliseconds; 0 mines no empty blocks (default 1000)
//   HARDHAT_AUTOMINE   "true" mines every transaction at once, as well as on the interval
//   HARDHAT_ACCOUNTS   number of funded accounts (default 100)
//   HARDHAT_BLOCK_GAS_LIMIT  gas per block (default 30,000,000); a small one caps throughput
//   HARDHAT_MNEMONIC   mnemonic of the funded accounts (demo and test keys only)

// Never ask for telemetry consent; the prompt is read before any task runs.
process.env.HARDHAT_DISABLE_TELEMETRY_PROMPT ??= "true";

function integer(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === "") {
    return fallback;
  }
  const value = Number.parseInt(raw, 10);
  if (!Number.isInteger(value) || value < 0) {
    throw new Error(`${name} must be a non-negative integer, not ${JSON.stringify(raw)}`);
  }
  return value;
}

const blockMs = integer("HARDHAT_BLOCK_MS", 1000);
const automine = ["1", "true", "yes"].includes((process.env.HARDHAT_AUTOMINE || "").toLowerCase());

/** @type import('hardhat/config').HardhatUserConfig */
module.exports = {
  defaultNetwork: "hardhat",
  networks: {
    hardhat: {
      chainId: integer("HARDHAT_CHAIN_ID", 31337),
      blockGasLimit: integer("HARDHAT_BLOCK_GAS_LIMIT", 30000000),
      mining: {
        auto: automine,
        interval: blockMs,
      },
      accounts: {
        mnemonic:
          process.env.HARDHAT_MNEMONIC ||
          "test test test test test test test test test test test junk",
        count: integer("HARDHAT_ACCOUNTS", 100),
        accountsBalance: "1000000000000000000000000", // 1,000,000 ETH each
      },
      loggingEnabled: false,
    },
  },
  // Hardhat compiles nothing here: the engine's contracts are built by
  // assessments/engine/contracts/build.js (npm `solc`) and committed with their bytecode.
  paths: {
    cache: "var/hardhat/cache",
    artifacts: "var/hardhat/artifacts",
  },
};
