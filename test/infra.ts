/**
 * Locating real servers for integration tests: NATS_URL / MONGODB_URI when set; otherwise the tests are skipped with
 * one loud line, and with REQUIRE_INFRA=1 a skip is a failure. Nothing is started here: no testcontainers and no
 * Docker probe (this machine class has no Docker engine); `deploy/local/infra.sh up` starts local servers and prints
 * the variables. The shared market data set follows the same rule ({@link sharedMarketData}).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/** A server for integration tests: its URL when set, and how to declare the tests that need it. */
export interface InfraTarget {
  url: string | undefined;
  /** `describe` when the server is available, `describe.skip` otherwise. */
  describeIf: jest.Describe;
}

const announced = new Set<string>();

function target(name: 'NATS_URL' | 'MONGODB_URI', what: string): InfraTarget {
  const url = process.env[name];
  if (url) return { url, describeIf: describe };
  if (process.env.REQUIRE_INFRA === '1') {
    throw new Error(
      `REQUIRE_INFRA=1 but ${name} is not set: ${what} integration tests cannot run. Start it with deploy/local/infra.sh up.`,
    );
  }
  if (!announced.has(name)) {
    announced.add(name);
    // One loud line per server kind and test file.
    process.stderr.write(
      `\n*** SKIPPED: ${what} integration tests (${name} not set). Run deploy/local/infra.sh up and export ${name}. ***\n`,
    );
  }
  return { url: undefined, describeIf: describe.skip };
}

/** A real nats-server with JetStream, from NATS_URL. */
export function natsTarget(): InfraTarget {
  return target('NATS_URL', 'NATS JetStream');
}

/** A real MongoDB wire-protocol server (FerretDB in CI), from MONGODB_URI. */
export function mongoTarget(): InfraTarget {
  return target('MONGODB_URI', 'MongoDB-compatible (FerretDB)');
}

/** A name unique to this test run, for streams, consumers and databases. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/**
 * The developer market data set: STRATA_MARKET_DATA_DIR when set, else `shared/data/market` beside the checkout, else
 * `/work/shared/data/market`.
 */
export interface SharedMarketData {
  /** The directory, when found. */
  dir: string | undefined;
  /** `it` when the data is there, `it.skip` otherwise. */
  itIf: jest.It;
}

/**
 * Locates the shared market data for tests that read it: not found means skipped with one loud line, and a failure
 * under REQUIRE_INFRA=1 (CI has it beside the clone).
 * @param repo the repository root.
 */
export function sharedMarketData(repo: string, what: string): SharedMarketData {
  const override = process.env.STRATA_MARKET_DATA_DIR;
  const candidates = override ? [override] : [resolve(repo, '../shared/data/market'), '/work/shared/data/market'];
  const dir = candidates.find((p) => existsSync(p));
  if (dir) return { dir, itIf: it };
  if (process.env.REQUIRE_INFRA === '1') {
    throw new Error(
      `REQUIRE_INFRA=1 but the shared market data is in none of ${candidates.join(', ')}: ${what} cannot run.`,
    );
  }
  process.stderr.write(`\n*** SKIPPED: ${what} (shared market data not in ${candidates.join(' or ')}). ***\n`);
  return { dir: undefined, itIf: it.skip };
}
