// Regenerates shared/tests/fixtures/jre-oracle.jsonl: json-rules-engine 7.3.1's own answers
// for operators x fact types x values (missing facts included), decorators and JSONPath paths.
// The Rust table test replays every line; node is needed only to regenerate.
//
//   cd "$(mktemp -d)" && npm install json-rules-engine@7.3.1 && \
//     NODE_PATH=$PWD/node_modules node /path/to/scripts/gen-jre-oracle.mjs > jre-oracle.jsonl
import { createRequire } from "module";
const require = createRequire(import.meta.url);
const { Engine } = require("json-rules-engine");

const MISSING = Symbol("missing");
const facts = [5, 5.5, -1, 0, 1e21, 0.1, "5", "10", "9", "abc", "", " 12", "0x10", "1e3", "10abc",
  "0759", "0800", true, false, null, [1, 2], [5], ["a", "b"], [], { a: 1 }, MISSING];
const values = [5, "5", "10", "abc", "a", true, null, [5, "5"], ["a"], [], "xundefinedx", "null", "0800", "1,2"];
const ops = ["equal", "notEqual", "in", "notIn", "contains", "doesNotContain", "lessThan",
  "lessThanInclusive", "greaterThan", "greaterThanInclusive", "not:equal", "not:lessThan",
  "someFact:equal", "everyFact:greaterThan", "someValue:equal", "everyValue:lessThan",
  "swap:contains", "swap:in"];

async function run(conditions, factsObj) {
  const engine = new Engine([], { allowUndefinedFacts: true });
  engine.addRule({ conditions, event: { type: "fired" } });
  try {
    const { events } = await engine.run(factsObj);
    return events.length > 0;
  } catch (e) {
    return "error";
  }
}

const out = [];
for (const op of ops) {
  for (const f of facts) {
    for (const v of values) {
      const conditions = { all: [{ fact: "f", operator: op, value: v }] };
      const factsObj = f === MISSING ? {} : { f };
      out.push({ conditions, facts: factsObj, result: await run(conditions, factsObj) });
    }
  }
}
const doc = { a: { b: 5, "x-y": 1 }, arr: [1, 2, 3], one: [7], "dotted.key": 9, deep: [{ k: 1 }, { k: 2 }], n: null };
const paths = ["$.a.b", "$.arr[0]", "$.arr[*]", "$.one[*]", "$..k", "$.arr.length", "$['dotted.key']",
  "$.a[\"x-y\"]", "$.missing", "$.arr[-1:]", "$.n", "a.b", "$"];
const pathValues = [5, 1, 3, 9, [1, 2, 3], 7, null, 2];
for (const path of paths) {
  for (const op of ["equal", "contains", "in", "lessThan", "notEqual"]) {
    for (const v of pathValues) {
      const conditions = { all: [{ fact: "doc", path, operator: op, value: v }] };
      out.push({ conditions, facts: { doc }, result: await run(conditions, { doc }) });
    }
  }
}
// Trees: empty all/any, not, any wins over all.
for (const conditions of [
  { all: [] }, { any: [] }, { not: { any: [] } }, { not: { all: [{ fact: "f", operator: "equal", value: 1 }] } },
  { any: [{ fact: "f", operator: "equal", value: 1 }], all: [{ fact: "f", operator: "equal", value: 2 }] },
]) {
  for (const f of [1, 2]) {
    out.push({ conditions, facts: { f }, result: await run(conditions, { f }) });
  }
}
for (const o of out) console.log(JSON.stringify(o));
