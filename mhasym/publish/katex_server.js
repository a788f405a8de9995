// Renders TeX with KaTeX for the site build. One JSON request per line on stdin:
//   {"tex": "...", "display": true, "macros": {"\\mhT": "\\top"}}   (macros optional)
// one JSON answer per line on stdout: {"html": "..."} or {"error": "..."}.
// throwOnError is on, so TeX that KaTeX cannot parse is reported, never drawn in red.
const katex = require("katex");
const readline = require("readline");

const rl = readline.createInterface({ input: process.stdin, terminal: false });
rl.on("line", (line) => {
  let answer;
  try {
    const request = JSON.parse(line);
    const html = katex.renderToString(request.tex, {
      displayMode: Boolean(request.display),
      throwOnError: true,
      strict: "error",
      trust: false,
      macros: request.macros || {},
      output: "htmlAndMathml", // MathML for assistive technology; the container's aria-label holds the spoken form
    });
    answer = { html };
  } catch (err) {
    answer = { error: String(err && err.message ? err.message : err).split("\n")[0] };
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
});
