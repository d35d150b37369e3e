#!/usr/bin/env node
// The `hunch` command: a thin launcher for the built CLI (`npm run build` makes dist/).
import('../dist/cli.js').catch((error) => {
  console.error(`hunch: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
