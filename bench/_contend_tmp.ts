import { MongoDocumentStore } from '@strata/infra-mongo';
(async () => {
  const s = await MongoDocumentStore.connect({ uri: 'mongodb://127.0.0.1:27117/', dbName: 'contend_' + Date.now(), logger: { warn: () => undefined } });
  const col = s.collection<{ seq: number; n: number; pad: string }>({ name: 'c', indexes: [{ fields: ['seq'], unique: true }] });
  for (let i = 0; i < Number(process.argv[2] ?? 1000); i++) await col.insert({ seq: i, n: 0, pad: 'x'.repeat(100) });
  const d = await col.insert({ seq: -1, n: 0, pad: '' });
  const locks = (s as unknown as { locks: { with: (...a: unknown[]) => Promise<unknown> } }).locks;
  const held = new Set<string>();
  const origWith = locks.with.bind(locks);
  let doubles = 0;
  locks.with = (c: unknown, id: unknown, v: unknown, fn: unknown) =>
    origWith(c, id, v, async () => {
      const k = `${id}@${v}`;
      if (held.has(k)) { doubles++; console.log('DOUBLE ACQUIRE', k); }
      held.add(k);
      try { return await (fn as () => Promise<unknown>)(); } finally { held.delete(k); }
    });
  const model = (col as unknown as { model: { replaceOne: (...a: unknown[]) => Promise<{ matchedCount: number }>; findOne: (q: unknown) => { lean: () => Promise<unknown> } } }).model;
  const orig = model.replaceOne.bind(model);
  model.replaceOne = async (...a: unknown[]) => {
    const r = await orig(...a);
    if (r.matchedCount !== 1) console.log('MISS', JSON.stringify(a[0]), JSON.stringify(r), JSON.stringify(await model.findOne({ _id: d.id }).lean()));
    return r;
  };
  const t = Date.now();
  const res = await Promise.allSettled(Array.from({ length: Number(process.argv[3] ?? 50) }, () => col.updateWithRetry(d.id, (c) => ({ set: { n: c.n + 1 } }))));
  const rej = res.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason).slice(0, 120));
  console.log('ms', Date.now() - t, 'rejected', rej.length, rej.filter((m) => !m.startsWith('VersionConflictError')));
  console.log('final', await col.get(d.id), 'doubles', doubles);
  await s.connection.dropDatabase();
  await s.close();
})();
