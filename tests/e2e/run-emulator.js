#!/usr/bin/env node
// Starts the telegram-test-api Bot API emulator for the Python end-to-end tests
// (tests/e2e/emulator.py starts this script and stops it by its PID).
//
// Usage: node run-emulator.js [--port N] [--store-timeout SECONDS]
//
// --port 0 (the default) binds a free port chosen by the OS. Once listening it
// prints one line of JSON to stdout:
//   {"event":"ready","host":"127.0.0.1","port":12345}
// It stops on SIGTERM/SIGINT and when its stdin closes (so it never outlives a
// parent that died without stopping it).
'use strict';

const TelegramServer = require('telegram-test-api');

function option(name, fallback) {
  const i = process.argv.indexOf(name);
  if (i === -1 || i + 1 >= process.argv.length) {
    return fallback;
  }
  const value = Number(process.argv[i + 1]);
  if (!Number.isInteger(value) || value < 0) {
    throw new Error(`${name} needs a non-negative integer, got ${process.argv[i + 1]}`);
  }
  return value;
}

const HOST = '127.0.0.1';

async function main() {
  const port = option('--port', 0);
  const storeTimeout = option('--store-timeout', 600);
  // Quirk: normalizeConfig() turns port 0 into 9000 (`config.port || 9000`), so
  // ask for a placeholder and put 0 back before start() calls listen().
  const server = new TelegramServer({ port: port || 9000, host: HOST, storeTimeout });
  server.config.port = port;
  await server.start();
  const bound = server.server.address().port;
  server.config.port = bound;
  server.config.apiURL = `http://${HOST}:${bound}`;

  let stopping = false;
  const stop = async (why) => {
    if (stopping) {
      return;
    }
    stopping = true;
    // server.stop() waits for open connections; do not hang on a stuck one.
    setTimeout(() => process.exit(0), 2000).unref();
    try {
      await server.stop();
    } catch (error) {
      process.stderr.write(`emulator: stop after ${why} failed: ${error}\n`);
    }
    process.exit(0);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.stdin.on('end', () => stop('stdin closed'));
  process.stdin.on('error', () => stop('stdin error'));
  process.stdin.resume();

  process.stdout.write(`${JSON.stringify({ event: 'ready', host: HOST, port: bound })}\n`);
}

main().catch((error) => {
  process.stderr.write(`emulator: ${error && error.stack ? error.stack : error}\n`);
  process.exit(1);
});
