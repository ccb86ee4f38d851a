// json-rules-engine 7.3.1 over the same rules and events as `iamwatch rules eval`, for
// bench/rules-throughput. Usage: node jre-bench.mjs RULES.json EVENTS.jsonl
// Facts per event: its top-level members, as iamwatch gives them.
import { createRequire } from "module";
import { readFileSync } from "fs";
const require = createRequire(import.meta.url);
const { Engine } = require("json-rules-engine");

const [rulesFile, eventsFile] = process.argv.slice(2);
const rules = JSON.parse(readFileSync(rulesFile, "utf8"));
const engine = new Engine([], { allowUndefinedFacts: true });
for (const r of Array.isArray(rules) ? rules : rules.rules) {
  engine.addRule({ conditions: r.conditions, event: r.event ?? { type: r.id } });
}
const events = readFileSync(eventsFile, "utf8").split("\n").filter((l) => l.length > 0);
const started = process.hrtime.bigint();
let fired = 0;
for (const line of events) {
  const { events: out } = await engine.run(JSON.parse(line));
  fired += out.length;
}
const secs = Number(process.hrtime.bigint() - started) / 1e9;
console.log(`json-rules-engine: ${events.length} events, ${fired} fired in ${secs.toFixed(2)} s (${Math.round(events.length / secs)} events/s)`);
