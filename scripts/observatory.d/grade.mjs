// Grades responses of a running Palisade with the MDN HTTP Observatory's
// own scanner (@mdn/mdn-http-observatory): its scan() function, which
// fetches the page over HTTP and HTTPS the way the hosted Observatory does,
// runs all ten of its tests and computes the score and grade with its
// grader. hooks.mjs only lets scan() pass on the ports, path and headers.
//
//   node grade.mjs HOST HTTPS_PORT HTTP_PORT NAME=PATH=ACCEPT...
//
// e.g. node grade.mjs localhost 8443 8080 'website=/=text/html'
//
// For each target it prints the score, the grade and every test's result
// with its score modifier, next to the best modifier this deployment can
// earn. It exits 1 unless every target gets A+ and every test earns that
// best modifier (so the score is the highest the scanner allows here).
// The certificate must be trusted (NODE_EXTRA_CA_CERTS): with an untrusted
// one the scanner retries without verification and fails the HSTS and
// redirection tests, as it would for a real site.
//
// OBSERVATORY_JSON=FILE also writes the raw results there.

import { register } from "node:module";
import { writeFileSync } from "node:fs";

register("./hooks.mjs", import.meta.url);
const { scan } = await import("@mdn/mdn-http-observatory");
const { ALL_RESULTS } = await import(
  "@mdn/mdn-http-observatory/src/constants.js"
);
const { getScoreModifier, getGradeForScore } = await import(
  "@mdn/mdn-http-observatory/src/grader/grader.js"
);
const { Expectation } = await import("@mdn/mdn-http-observatory/src/types.js");

// Results worth extra credit that no test run of ours can earn, and why.
// Every other result of a test is attainable, so the best one is required.
const UNATTAINABLE = new Map([
  [
    Expectation.HstsPreloaded,
    "needs the domain on the browsers' HSTS preload list (hstspreload.org): a deployment's choice, impossible for localhost",
  ],
  [
    Expectation.RedirectionAllRedirectsPreloaded,
    "needs the domain on the browsers' HSTS preload list: impossible for localhost",
  ],
  [
    Expectation.SriImplementedAndAllScriptsLoadedSecurely,
    "extra credit for scripts loaded with integrity=; Palisade serves no script at all",
  ],
  [
    Expectation.SriImplementedAndExternalScriptsLoadedSecurely,
    "extra credit for scripts loaded with integrity=; Palisade serves no script at all",
  ],
]);
// Cookie extra credit needs a cookie: a response that sets none earns
// cookies-not-found (0), which is then the best it can get.
const COOKIE_CREDIT = Expectation.CookiesSecureWithHttponlySessionsAndSamesite;

const [host, httpsPort, httpPort, ...specs] = process.argv.slice(2);
if (!host || !httpsPort || !httpPort || specs.length === 0) {
  console.error(
    "usage: node grade.mjs HOST HTTPS_PORT HTTP_PORT NAME=PATH=ACCEPT..."
  );
  process.exit(2);
}

const SHOWN_HEADERS = [
  "content-security-policy",
  "strict-transport-security",
  "x-content-type-options",
  "x-frame-options",
  "referrer-policy",
  "cross-origin-resource-policy",
  "cross-origin-opener-policy",
  "permissions-policy",
  "set-cookie",
  "access-control-allow-origin",
];

let failed = false;
const raw = {};
for (const spec of specs) {
  const [name, path, accept] = spec.split("=");
  const target = `https://${host}:${httpsPort}${path} (Accept: ${accept})`;
  let result;
  try {
    result = await scan(host, {
      httpsPort,
      httpPort,
      path,
      headers: [`Accept: ${accept}`],
    });
  } catch (e) {
    console.log(`== ${name}: ${target}\n   FAIL: the scan failed: ${e.message}`);
    failed = true;
    continue;
  }
  raw[name] = result;

  let best = 100;
  const rows = [];
  const problems = [];
  for (const Output of ALL_RESULTS) {
    const test = result.tests[Output.name];
    const modifier = test.scoreModifier ?? 0;
    const sets_cookies = test.result !== Expectation.CookiesNotFound;
    const candidates = Output.possibleResults.filter(
      (r) =>
        !UNATTAINABLE.has(r) &&
        (Output.name !== "cookies" || sets_cookies || r !== COOKIE_CREDIT)
    );
    const bestModifier = Math.max(...candidates.map(getScoreModifier));
    best += bestModifier;
    const ok = test.pass && modifier >= bestModifier;
    if (!ok) {
      problems.push(
        `${Output.name}: ${test.result} (${fmt(modifier)}), best attainable ${fmt(bestModifier)}: ${plain(test.scoreDescription)}`
      );
    }
    const forgone = Output.possibleResults
      .filter((r) => UNATTAINABLE.has(r) && getScoreModifier(r) > modifier)
      .map((r) => `${r} ${fmt(getScoreModifier(r))}: ${UNATTAINABLE.get(r)}`);
    rows.push({ Output, test, modifier, bestModifier, ok, forgone });
  }
  const bestGrade = getGradeForScore(best).grade;
  const top = result.scan.grade === "A+" && result.scan.score >= best;
  if (!top) {
    problems.unshift(
      `score ${result.scan.score} (${result.scan.grade}), want ${best} (${bestGrade})`
    );
  }

  console.log(`== ${name}: ${target}`);
  console.log(
    `   HTTP ${result.scan.statusCode}; score ${result.scan.score}/${best} attainable, grade ${result.scan.grade}; tests passed ${result.scan.testsPassed}/${result.scan.testsQuantity}`
  );
  for (const { Output, test, modifier, bestModifier, ok, forgone } of rows) {
    console.log(
      `   ${ok ? "ok  " : "FAIL"} ${Output.name.padEnd(30)} ${fmt(modifier).padStart(3)} (best ${fmt(bestModifier).padStart(3)})  ${test.result}`
    );
    console.log(`        ${plain(test.scoreDescription)}`);
    for (const f of forgone) {
      console.log(`        not counted: ${f}`);
    }
  }
  const headers = result.scan.responseHeaders;
  console.log("   response headers graded:");
  for (const h of SHOWN_HEADERS) {
    if (headers[h] !== undefined) {
      const v = Array.isArray(headers[h]) ? headers[h].join(" | ") : headers[h];
      console.log(`     ${h}: ${v}`);
    }
  }
  if (problems.length > 0) {
    failed = true;
    for (const p of problems) {
      console.log(`   FAIL: ${p}`);
    }
  } else {
    console.log(`   PASS: A+ with ${result.scan.score}, the highest score attainable here`);
  }
}

if (process.env.OBSERVATORY_JSON) {
  writeFileSync(process.env.OBSERVATORY_JSON, JSON.stringify(raw, null, 2));
}
process.exit(failed ? 1 : 0);

// The scanner's descriptions are HTML fragments.
function plain(html) {
  return String(html ?? "")
    .replace(/<[^>]+>/g, "")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, "&")
    .replace(/\s+/g, " ")
    .trim();
}

function fmt(n) {
  return n > 0 ? `+${n}` : `${n}`;
}
