#!/usr/bin/env node
/**
 * Per-file and total mutation figures from the group reports of scripts/mutation-groups.sh
 * (.stryker/reports/*.json, or the report files given as arguments). Score as Stryker counts it:
 * (killed + timeout) / (killed + timeout + survived + no coverage); errors (a suite that fails to load under
 * the mutant) and ignored mutants are outside it. `--survivors` lists each surviving mutant.
 */
const fs = require("fs");
const path = require("path");

const args = process.argv.slice(2);
const listSurvivors = args.includes("--survivors");
const dir = path.join(__dirname, "..", ".stryker", "reports");
const files = args.filter((a) => !a.startsWith("--"));
const reports = files.length > 0 ? files : fs.readdirSync(dir).map((f) => path.join(dir, f));

const STATUS = { Killed: "killed", Timeout: "timeout", Survived: "survived", NoCoverage: "noCov" };
const rows = new Map();
for (const report of reports) {
  const json = JSON.parse(fs.readFileSync(report, "utf8"));
  for (const [file, { mutants, source }] of Object.entries(json.files)) {
    const row = { total: 0, killed: 0, timeout: 0, survived: 0, noCov: 0, errors: 0 };
    for (const m of mutants) {
      row.total++;
      row[STATUS[m.status] ?? "errors"]++;
      if (listSurvivors && (m.status === "Survived" || m.status === "NoCoverage")) {
        const { line, column } = m.location.start;
        const text = source.split("\n")[line - 1].trim();
        console.log(
          `${file}:${line}:${column} ${m.status} ${m.mutatorName} ${JSON.stringify(m.replacement)} | ${text}`,
        );
      }
    }
    rows.set(file, row);
  }
}

const score = (r) => {
  const valid = r.killed + r.timeout + r.survived + r.noCov;
  return valid === 0 ? "n/a" : ((100 * (r.killed + r.timeout)) / valid).toFixed(2);
};
const total = { total: 0, killed: 0, timeout: 0, survived: 0, noCov: 0, errors: 0 };
const lines = [
  "| file | mutants | killed | timeout | survived | no coverage | errors | score % |",
  "|---|--:|--:|--:|--:|--:|--:|--:|",
];
for (const [file, r] of [...rows].sort(([a], [b]) => a.localeCompare(b))) {
  for (const k of Object.keys(total)) total[k] += r[k];
  lines.push(
    `| ${file} | ${r.total} | ${r.killed} | ${r.timeout} | ${r.survived} | ${r.noCov} | ${r.errors} | ${score(r)} |`,
  );
}
lines.push(
  `| **all (${rows.size} files)** | ${total.total} | ${total.killed} | ${total.timeout} | ${total.survived} | ${total.noCov} | ${total.errors} | **${score(total)}** |`,
);
if (!listSurvivors) console.log(lines.join("\n"));
