// Starts emulate's GitHub service on a random 127.0.0.1 port for one test process.
//
//   node serve.mjs [seed.yaml]
//
// Prints `READY <url>` once listening. Reads commands on stdin, one a line: `reset` (back to
// the seed; answers `RESET`) and `quit`. Exits when stdin closes, so a test process that dies
// without a clean drop does not leave a server behind. PORT in the environment overrides the
// random port. Diagnostics go to stderr; stdout carries only the protocol lines.
//
// The port is picked before the emulator starts so that the URLs inside response bodies and
// `Link` headers say 127.0.0.1 rather than `localhost` (which may resolve to ::1 first).
import { createEmulator } from "emulate";
import { readFileSync } from "node:fs";
import net from "node:net";
import readline from "node:readline";
import { parse } from "yaml";

const seedPath = process.argv[2];
let seed = {};
try {
  seed = seedPath ? (parse(readFileSync(seedPath, "utf8")) ?? {}) : {};
} catch (err) {
  console.error(`serve.mjs: cannot read seed ${seedPath}: ${err.message}`);
  process.exit(2);
}

/** A port that was free on 127.0.0.1 a moment ago. */
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** Starts the emulator; retries with another port when a free port was taken meanwhile. */
async function start() {
  for (let attempt = 1; ; attempt++) {
    const port = process.env.PORT ? Number(process.env.PORT) : await freePort();
    try {
      return await createEmulator({
        service: "github",
        port,
        hostname: "127.0.0.1",
        baseUrl: `http://127.0.0.1:${port}`,
        seed,
      });
    } catch (err) {
      if (err.code !== "EADDRINUSE" || process.env.PORT || attempt >= 5) throw err;
    }
  }
}

const gh = await start();
console.log(`READY ${gh.url}`);

let closing = false;
async function shutdown() {
  if (closing) return;
  closing = true;
  await gh.close();
  process.exit(0);
}

const rl = readline.createInterface({ input: process.stdin });
rl.on("line", (line) => {
  const command = line.trim();
  if (command === "reset") {
    gh.reset();
    console.log("RESET");
  } else if (command === "quit") {
    shutdown();
  } else if (command !== "") {
    console.error(`serve.mjs: unknown command ${JSON.stringify(command)}`);
  }
});
rl.on("close", shutdown);
