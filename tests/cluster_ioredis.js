// cluster_ioredis.js HOST PORT FIRST LAST: ioredis's Cluster client
// through postern's seed listener HOST:PORT, with no natMap: SET and
// GET 300 keys spread over all slots (each read back), one MULTI on a
// hash tag, then the nodes ioredis learned must all be HOST on a port of
// FIRST-LAST (postern's listeners, never a node's own address).
// Prints "ok ops=N nodes=M" or the first error; exit 1 on any error.
"use strict";
const Redis = require("ioredis");

const [host, port, first, last] = [process.argv[2],
    ...process.argv.slice(3).map(Number)];

async function main() {
	const cluster = new Redis.Cluster([{ host, port }], {
		// fail instead of retrying for ever: the test has a deadline
		clusterRetryStrategy: (times) => (times > 3 ? null : 200),
		redisOptions: { connectTimeout: 5000, maxRetriesPerRequest: 3 },
	});
	let ops = 0;
	try {
		for (let i = 0; i < 300; i++) {
			const k = "io:" + i, v = "v" + i + ":" + Date.now();
			await cluster.set(k, v);
			const got = await cluster.get(k);
			ops += 2;
			if (got !== v)
				throw new Error("wrong value for " + k + ": " + got);
		}
		const res = await cluster.multi().set("{io}a", "1")
		    .incr("{io}b").get("{io}a").exec();
		if (res.length !== 3 || res[2][1] !== "1")
			throw new Error("MULTI/EXEC: " + JSON.stringify(res));
		const nodes = cluster.nodes("all");
		for (const n of nodes) {
			const o = n.options;
			if (o.host !== host || o.port < first || o.port > last)
				throw new Error("a node outside postern's listeners: " +
				    o.host + ":" + o.port);
		}
		if (nodes.length < 3)
			throw new Error("only " + nodes.length + " nodes known");
		console.log("ok ops=" + ops + " nodes=" + nodes.length);
	} finally {
		cluster.disconnect();
	}
}

main().catch((e) => {
	console.log("error: " + (e && e.stack ? e.stack : e));
	process.exit(1);
});
