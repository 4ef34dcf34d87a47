import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

/**
 * The floors of src/ (see README "Architecture"): each may import only the floors listed for it.
 * `env.ts` is a leaf every server floor may use. Type-only imports count too: a circle of types
 * is still a circle of ideas.
 */
const FLOORS: Record<string, string[]> = {
  protocol: [],
  client: ["protocol"],
  engine: ["protocol", "env"],
  providers: ["protocol", "env"],
  domain: ["engine", "providers", "protocol", "env"],
  session: ["domain", "engine", "providers", "protocol", "env"],
  worker: ["session", "domain", "engine", "providers", "protocol", "env"],
  env: [],
};

const SRC = resolve(__dirname, "../../src");

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
  });
}

function resolveImport(from: string, spec: string): string | null {
  if (!spec.startsWith(".")) return null;
  const base = resolve(dirname(from), spec);
  for (const candidate of [base, `${base}.ts`, join(base, "index.ts")]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  throw new Error(`${relative(SRC, from)}: cannot resolve '${spec}'`);
}

/** Every file of src/ with the files of src/ it imports (static imports, re-exports, import types). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files(SRC)) {
    const info = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
    graph.set(
      file,
      info.importedFiles.map((f) => resolveImport(file, f.fileName)).filter((f): f is string => f !== null),
    );
  }
  return graph;
}

const floorOf = (file: string) => relative(SRC, file).split("/")[0]!.replace(/\.ts$/, "");

function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (f: string) => {
    state.set(f, "open");
    stack.push(f);
    for (const next of graph.get(f) ?? []) {
      if (state.get(next) === "open") found.push([...stack.slice(stack.indexOf(next)), next].map((p) => relative(SRC, p)));
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(f, "done");
  };
  for (const f of graph.keys()) if (!state.has(f)) visit(f);
  return found;
}

describe("src/ architecture", () => {
  const graph = importGraph();

  it("has no import cycle", () => {
    expect(graph.size).toBeGreaterThan(20);
    expect(cycles(graph)).toEqual([]);
  });

  it("imports flow one way between floors", () => {
    const wrong: string[] = [];
    for (const [file, deps] of graph) {
      const floor = floorOf(file);
      const allowed = FLOORS[floor];
      if (!allowed) {
        wrong.push(`${relative(SRC, file)}: '${floor}' is not a known floor`);
        continue;
      }
      for (const dep of deps) {
        const to = floorOf(dep);
        if (to !== floor && !allowed.includes(to)) wrong.push(`${relative(SRC, file)} → ${relative(SRC, dep)}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("has one write path: only the pipeline commits to the event log; D1 batches only where listed", () => {
    // A write is committed by src/session/pipeline.ts alone (requests, batches, jobs, timers,
    // uploads, joins). The other batches: the commit itself and log retention (eventlog.ts), the
    // metrics counters (not session state), and the rows of a session being created (no log yet).
    const allowed: Record<string, RegExp> = {
      "session/pipeline.ts": /\.commitGroup\(/,
      "session/eventlog.ts": /\.batch\(|commitGroup\(/,
      "session/metrics.ts": /\.batch\(/,
      "domain/session.ts": /\.batch\(/,
    };
    const found: string[] = [];
    for (const file of graph.keys()) {
      const rel = relative(SRC, file);
      if (floorOf(file) === "client") continue;
      readFileSync(file, "utf8")
        .split("\n")
        .forEach((line, i) => {
          if (/\.commitGroup\(|\.batch\(|\)\.run\(\)/.test(line) && !allowed[rel]?.test(line)) found.push(`${rel}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(found).toEqual([]);
    expect(Object.keys(allowed).every((f) => graph.has(join(SRC, f)))).toBe(true);
  });

  it("finds a cycle when there is one (the check itself works)", () => {
    const a = join(SRC, "a.ts");
    const b = join(SRC, "b.ts");
    expect(
      cycles(
        new Map([
          [a, [b]],
          [b, [a]],
        ]),
      ),
    ).toEqual([["a.ts", "b.ts", "a.ts"]]);
  });
});

/**
 * The web client (web/) speaks to the engine only through the SDK: it may import its own files,
 * Preact and its signals, and `src/client` (the SDK's entry, which re-exports the protocol's types
 * and helpers such as `isReadOperation`) — never another file of src/ (protocol, domain, …).
 */
const WEB = resolve(__dirname, "../../web");
const WEB_PACKAGES = new Set(["preact", "preact/hooks", "@preact/signals"]);

function webImportViolations(file: string, source: string): string[] {
  const sdk = join(SRC, "client", "index.ts");
  const wrong: string[] = [];
  for (const { fileName: spec } of ts.preProcessFile(source, true, true).importedFiles) {
    if (!spec.startsWith(".")) {
      if (!WEB_PACKAGES.has(spec)) wrong.push(`${relative(WEB, file)} → ${spec}`);
      continue;
    }
    const target = resolve(dirname(file), spec);
    if (target.startsWith(`${WEB}/`)) continue;
    if (target === join(SRC, "client") || target === sdk) continue;
    wrong.push(`${relative(WEB, file)} → ${spec}`);
  }
  return wrong;
}

function webFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? webFiles(p) : /\.(ts|tsx)$/.test(p) ? [p] : [];
  });
}

describe("web/ architecture", () => {
  it("imports only src/client (the SDK), Preact and its own files", () => {
    const all = webFiles(join(WEB, "src"));
    expect(all.length).toBeGreaterThan(5);
    expect(all.flatMap((f) => webImportViolations(f, readFileSync(f, "utf8")))).toEqual([]);
  });

  it("catches an import of the protocol, the domain or an unknown package (the check itself works)", () => {
    const f = join(WEB, "src", "x.tsx");
    const src = [
      'import type { Character } from "../../src/protocol/entities";',
      'import { x } from "../../src/client/client";',
      'import "zod";',
      'import { connect } from "../../src/client";',
      'import { h } from "preact";',
      'import { y } from "./y";',
    ].join("\n");
    expect(webImportViolations(f, src)).toEqual(["src/x.tsx → ../../src/protocol/entities", "src/x.tsx → ../../src/client/client", "src/x.tsx → zod"]);
  });
});
