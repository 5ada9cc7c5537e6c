/**
 * The system test's process manager: each Strata service as its own OS process from its built production entry point
 * (`dist/apps/<app>/src/main.js`), with its own PORT and STRATA_DATA_DIR, stdout/stderr to a log file per process,
 * readiness from `/health/ready`, `kill -9` and restarts. Every child is killed when the test ends, whatever happens.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** A free TCP port on 127.0.0.1 (bound once by the OS, then released). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` every `everyMs` until it returns a value other than undefined; throws naming `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 60_000,
  everyMs = 100,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      if (e instanceof FatalError) throw e;
      last = e;
    }
    if (Date.now() > end)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`,
      );
    await sleep(everyMs);
  }
}

/** One service process: started, killed and restarted with the same port, data directory and environment. */
export class ServiceProcess {
  child: ChildProcess | undefined;
  /** Exit code / signal of the last run, once it exited. */
  exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private starts = 0;

  constructor(
    /** Instance name, e.g. `backtests-2`. */
    readonly name: string,
    /** App folder under apps/ (`backtests`). */
    readonly app: string,
    readonly port: number,
    readonly dataDir: string,
    readonly env: Record<string, string>,
    private readonly root: string,
    private readonly logDir: string,
  ) {}

  get logFile(): string {
    return join(this.logDir, `${this.name}.log`);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return !!this.child && !this.exited;
  }

  /** Spawns `node dist/apps/<app>/src/main.js` (appending to its log file). */
  start(): void {
    if (this.running) throw new Error(`${this.name} is already running`);
    mkdirSync(this.dataDir, { recursive: true });
    const fd = openSync(this.logFile, 'a');
    this.starts++;
    this.exited = undefined;
    const child = spawn(process.execPath, [join(this.root, 'dist/apps', this.app, 'src/main.js')], {
      cwd: this.root,
      env: { ...this.env, PORT: String(this.port), STRATA_DATA_DIR: this.dataDir },
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    child.on('exit', (code, signal) => {
      if (this.child === child) this.exited = { code, signal };
    });
    this.child = child;
  }

  /** Resolves when `GET /health/ready` answers 200; throws with the log's tail if the process exits first. */
  async ready(timeoutMs = 90_000): Promise<void> {
    await waitFor(
      `${this.name} ready on :${this.port}`,
      async () => {
        if (this.exited)
          throw new FatalError(
            `${this.name} exited (${JSON.stringify(this.exited)}) before it was ready\n${this.tail()}`,
          );
        const r = await fetch(`${this.url}/health/ready`, { signal: AbortSignal.timeout(2_000) }).catch(
          () => undefined,
        );
        return r?.status === 200 ? true : undefined;
      },
      timeoutMs,
      100,
    ).catch((e: unknown) => {
      throw e instanceof FatalError ? e : new Error(`${String(e)}\n${this.tail()}`);
    });
  }

  /** Sends `signal` and waits for the exit (SIGKILL after `graceMs` for a polite signal). */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 15_000): Promise<void> {
    const child = this.child;
    if (!child || this.exited) return;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill(signal);
    if (signal === 'SIGKILL') return gone;
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await gone;
    clearTimeout(t);
  }

  /** The last `lines` lines of the log file. */
  tail(lines = 40): string {
    try {
      const all = readFileSync(this.logFile, 'utf8').trimEnd().split('\n');
      return all
        .slice(-lines)
        .map((l) => `  [${this.name}] ${l}`)
        .join('\n');
    } catch {
      return `  [${this.name}] (no log)`;
    }
  }
}

/** An error that should not be retried by {@link waitFor}'s caller (a process died). */
export class FatalError extends Error {}

/** All processes of one run; {@link killAll} runs on exit, on SIGINT/SIGTERM and on an uncaught error. */
export class ProcessGroup {
  readonly processes: ServiceProcess[] = [];

  constructor(
    private readonly root: string,
    private readonly logDir: string,
  ) {
    mkdirSync(logDir, { recursive: true });
    const killSync = (): void => {
      for (const p of this.processes) if (p.running) p.child!.kill('SIGKILL');
    };
    process.once('exit', killSync);
    for (const sig of ['SIGINT', 'SIGTERM'] as const)
      process.once(sig, () => {
        killSync();
        process.exit(130);
      });
  }

  /** Declares (does not start) a service process. */
  add(name: string, app: string, port: number, dataDir: string, env: Record<string, string>): ServiceProcess {
    const p = new ServiceProcess(name, app, port, dataDir, env, this.root, this.logDir);
    this.processes.push(p);
    return p;
  }

  /** SIGKILLs every child still running and waits for them. */
  async killAll(): Promise<void> {
    await Promise.all(this.processes.map((p) => p.stop('SIGKILL')));
  }

  /** The tail of every process's log (for a failure report). */
  tails(lines = 25): string {
    return this.processes.map((p) => p.tail(lines)).join('\n');
  }
}
