// Parse an AsyncAPI document with the official parser, as an outside integrator's tools do.
// Prints every diagnostic; exits 1 when any is an error or the document does not parse.
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { DiagnosticSeverity, Parser } from "@asyncapi/parser";

const SEVERITY = ["error", "warning", "information", "hint"];

const file = resolve(process.argv[2] ?? "../asyncapi.yaml");
const parser = new Parser();
const { document, diagnostics } = await parser.parse(await readFile(file, "utf8"), {
  source: pathToFileURL(file).href,
});
for (const d of diagnostics) {
  const where = d.path.length ? d.path.join(".") : "(document)";
  console.log(`${SEVERITY[d.severity] ?? d.severity} ${d.code} at ${where}: ${d.message}`);
}
const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error);
if (errors.length > 0 || document === undefined) {
  console.log(`${file}: ${errors.length} error(s); the document does not parse`);
  process.exit(1);
}
console.log(`${file}: parses as AsyncAPI ${document.version()}, no errors`);
