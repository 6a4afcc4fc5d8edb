'use strict';

// Caliper workload module: every transaction calls CallTarget.clear(uint256), the same
// contract function the engine's clearing suite calls with workload "call". Each finished
// transaction's status (hash, Caliper's own create and final times in epoch ms) is kept and
// written, one JSON object per line, to the file named by the round's `txLog` argument, so
// the runner can compute Caliper's percentiles and match its hashes to the block observer.

const fs = require('fs');
const { WorkloadModuleBase } = require('@hyperledger/caliper-core');

class ClearWorkload extends WorkloadModuleBase {
    constructor() {
        super();
        this.ticket = 0;
        this.lines = [];
    }

    async initializeWorkloadModule(workerIndex, totalWorkers, roundIndex, roundArguments, sutAdapter, sutContext) {
        await super.initializeWorkloadModule(workerIndex, totalWorkers, roundIndex, roundArguments, sutAdapter, sutContext);
        this.txLog = `${roundArguments.txLog}.${workerIndex}`;
        this.ticket = workerIndex * 1000000000;
    }

    async submitTransaction() {
        const request = {
            contract: 'CallTarget',
            verb: 'clear',
            args: [this.ticket++],
            readOnly: false,
        };
        const status = await this.sutAdapter.sendRequests(request);
        this.lines.push(JSON.stringify({
            hash: status.GetID() || null,
            status: status.GetStatus(),
            created_ms: status.GetTimeCreate(),
            final_ms: status.GetTimeFinal(),
        }));
    }

    async cleanupWorkloadModule() {
        fs.writeFileSync(this.txLog, this.lines.join('\n') + (this.lines.length ? '\n' : ''));
    }
}

function createWorkloadModule() {
    return new ClearWorkload();
}

module.exports.createWorkloadModule = createWorkloadModule;
