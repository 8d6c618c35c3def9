/**
 * `npm run docs`: writes the docs generated from the model into `docs/`.
 * `npm run docs -- --check`: writes nothing; exits 1 listing the docs that differ from what the model gives.
 */
import * as fs from "fs";
import * as path from "path";
import { renderDocs } from "./docs/render";
import { PROJECT_ROOT } from "./stackFile";

export const DOCS_DIR = path.join(PROJECT_ROOT, "docs");

/** Generated docs whose committed text differs from the model's (missing files count as stale). */
export function staleDocs(docs: Readonly<Record<string, string>>, dir: string = DOCS_DIR): string[] {
  return Object.entries(docs)
    .filter(([file, content]) => {
      const target = path.join(dir, file);
      return !fs.existsSync(target) || fs.readFileSync(target, "utf8") !== content;
    })
    .map(([file]) => file);
}

function main(argv: readonly string[]): number {
  const unknown = argv.filter((a) => a !== "--check");
  if (unknown.length > 0) {
    console.error(`unknown argument ${unknown[0]}; usage: npm run docs [-- --check]`);
    return 2;
  }
  const docs = renderDocs();
  const stale = staleDocs(docs);
  if (argv.includes("--check")) {
    if (stale.length === 0) {
      console.log(`docs are up to date (${Object.keys(docs).length} files)`);
      return 0;
    }
    console.error(`stale docs (run npm run docs):\n${stale.map((f) => `  docs/${f}`).join("\n")}`);
    return 1;
  }
  fs.mkdirSync(DOCS_DIR, { recursive: true });
  for (const file of stale) fs.writeFileSync(path.join(DOCS_DIR, file), docs[file as keyof typeof docs]);
  console.log(stale.length === 0 ? "docs already up to date" : `wrote ${stale.map((f) => `docs/${f}`).join(", ")}`);
  return 0;
}

if (require.main === module) process.exit(main(process.argv.slice(2)));
