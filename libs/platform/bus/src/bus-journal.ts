import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { type DeadLetter, type Envelope } from '@strata/platform-contracts';

/** One stored message line of a stream log (`<dataDir>/bus/<stream>.log`, JSON lines). */
export interface JournalMessage {
  /** Sequence within the subject, from 1. */
  q: number;
  /** Subject. */
  s: string;
  /** Headers, when any. */
  h?: Record<string, string>;
  /** Envelope (message streams). */
  e?: Envelope<unknown>;
  /** Dead letter (the `dlq` stream). */
  d?: DeadLetter;
}

/** What a journal holds on open. */
export interface JournalState {
  messages: JournalMessage[];
  /** Ack floor per `<subject>|<consumer>`: every sequence at or below it was acknowledged (or dead-lettered). */
  floors: Map<string, number>;
  /** Highest sequence ever assigned per subject (survives compaction). */
  lastSeqs: Map<string, number>;
}

interface OffsetsFile {
  v: 1;
  floors: Record<string, number>;
  lastSeqs: Record<string, number>;
}

/**
 * Append-only persistence of the in-process bus under `<dataDir>/bus`: one JSON-lines log per stream (domain) plus
 * `offsets.json` (consumer ack floors, last sequences; replaced atomically). Writes are batched: appended lines are
 * written together once per event-loop turn, or every `flushIntervalMs` when > 0 (and at once past 1 MiB); {@link append} resolves once its batch is
 * written. With `fsync` the batch is also fsynced (survives a machine crash, not only a process crash).
 */
export class BusJournal {
  private readonly dir: string;
  private readonly pending = new Map<string, string[]>();
  private pendingBytes = 0;
  private waiters: Array<() => void> = [];
  private failers: Array<(e: Error) => void> = [];
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private readonly fds = new Map<string, number>();
  private offsetsDirty = false;
  private readonly floors = new Map<string, number>();
  private readonly lastSeqs = new Map<string, number>();
  private readonly bytesWritten = new Map<string, number>();
  private closed = false;

  constructor(
    dataDir: string,
    private readonly flushIntervalMs: number,
    private readonly fsync: boolean,
  ) {
    this.dir = join(dataDir, 'bus');
    mkdirSync(this.dir, { recursive: true });
  }

  /** Reads every stream log and the offsets file (synchronous: called once at start). Skips a torn last line. */
  load(): JournalState {
    const messages: JournalMessage[] = [];
    const offsetsPath = join(this.dir, 'offsets.json');
    if (existsSync(offsetsPath)) {
      const o = JSON.parse(readFileSync(offsetsPath, 'utf8')) as OffsetsFile;
      for (const [k, v] of Object.entries(o.floors)) this.floors.set(k, v);
      for (const [k, v] of Object.entries(o.lastSeqs)) this.lastSeqs.set(k, v);
    }
    for (const f of readdirSync(this.dir)) {
      if (!f.endsWith('.log')) continue;
      const text = readFileSync(join(this.dir, f), 'utf8');
      this.bytesWritten.set(f.slice(0, -4), Buffer.byteLength(text));
      let start = 0;
      while (start < text.length) {
        let end = text.indexOf('\n', start);
        if (end < 0) end = text.length;
        const line = text.slice(start, end);
        start = end + 1;
        if (!line) continue;
        let m: JournalMessage;
        try {
          m = JSON.parse(line) as JournalMessage;
        } catch {
          // A torn write at the tail (process killed mid-append): the publisher was never told it was stored.
          continue;
        }
        messages.push(m);
        if ((this.lastSeqs.get(m.s) ?? 0) < m.q) this.lastSeqs.set(m.s, m.q);
      }
    }
    return { messages, floors: new Map(this.floors), lastSeqs: new Map(this.lastSeqs) };
  }

  /** Queues a line for the stream's log; resolves when the batch holding it is written. */
  append(stream: string, m: JournalMessage): Promise<void> {
    if (this.closed) return Promise.reject(new Error('bus journal closed'));
    const line = JSON.stringify(m) + '\n';
    let lines = this.pending.get(stream);
    if (!lines) this.pending.set(stream, (lines = []));
    lines.push(line);
    this.pendingBytes += line.length;
    if ((this.lastSeqs.get(m.s) ?? 0) < m.q) this.lastSeqs.set(m.s, m.q);
    return new Promise<void>((resolve, reject) => {
      this.waiters.push(resolve);
      this.failers.push(reject);
      this.schedule();
    });
  }

  /** Records a consumer's ack floor (written with the next batch). */
  setFloor(key: string, floor: number): void {
    if (this.floors.get(key) === floor) return;
    this.floors.set(key, floor);
    this.offsetsDirty = true;
    this.schedule();
  }

  /** Bytes appended to a stream's log since it was last rewritten. */
  logBytes(stream: string): number {
    return this.bytesWritten.get(stream) ?? 0;
  }

  /** Atomically replaces a stream's log with `messages` (compaction). Pending lines of that stream are written first. */
  rewrite(stream: string, messages: Iterable<JournalMessage>): void {
    this.flushSync();
    const fd = this.fds.get(stream);
    if (fd !== undefined) {
      closeSync(fd);
      this.fds.delete(stream);
    }
    const chunks: string[] = [];
    for (const m of messages) chunks.push(JSON.stringify(m) + '\n');
    const body = chunks.join('');
    const path = join(this.dir, `${stream}.log`);
    writeFileSync(path + '.tmp', body);
    renameSync(path + '.tmp', path);
    this.bytesWritten.set(stream, Buffer.byteLength(body));
  }

  private schedule(): void {
    if (this.pendingBytes > 1 << 20) {
      this.flushSync();
      return;
    }
    if (!this.timer) {
      // 0: one batch per event-loop turn (everything published in this turn is written together).
      this.timer =
        this.flushIntervalMs > 0
          ? setTimeout(() => this.flushSync(), this.flushIntervalMs)
          : setImmediate(() => this.flushSync());
    }
  }

  /** Writes every queued line and the offsets file now, then resolves the waiting appends. */
  flushSync(): void {
    if (this.timer) {
      if ('hasRef' in this.timer && 'refresh' in this.timer) clearTimeout(this.timer);
      else clearImmediate(this.timer);
      this.timer = undefined;
    }
    const waiters = this.waiters;
    const failers = this.failers;
    this.waiters = [];
    this.failers = [];
    try {
      for (const [stream, lines] of this.pending) {
        if (!lines.length) continue;
        let fd = this.fds.get(stream);
        if (fd === undefined) {
          fd = openSync(join(this.dir, `${stream}.log`), 'a');
          this.fds.set(stream, fd);
        }
        const buf = Buffer.from(lines.join(''));
        let off = 0;
        while (off < buf.length) off += writeSync(fd, buf, off);
        if (this.fsync) fsyncSync(fd);
        this.bytesWritten.set(stream, (this.bytesWritten.get(stream) ?? 0) + buf.length);
      }
      this.pending.clear();
      this.pendingBytes = 0;
      if (this.offsetsDirty) {
        this.offsetsDirty = false;
        const o: OffsetsFile = {
          v: 1,
          floors: Object.fromEntries(this.floors),
          lastSeqs: Object.fromEntries(this.lastSeqs),
        };
        const path = join(this.dir, 'offsets.json');
        writeFileSync(path + '.tmp', JSON.stringify(o));
        renameSync(path + '.tmp', path);
      }
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      for (const f of failers) f(err);
      return;
    }
    for (const w of waiters) w();
  }

  /** Flushes and closes the files. */
  close(): void {
    if (this.closed) return;
    this.offsetsDirty = true;
    this.flushSync();
    this.closed = true;
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }
}
