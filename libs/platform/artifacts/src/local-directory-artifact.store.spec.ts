import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalDirectoryArtifactStore } from './local-directory-artifact.store';
import { artifactStoreConformance } from './testing';

describe('LocalDirectoryArtifactStore (ArtifactStore conformance)', () => {
  artifactStoreConformance({
    uriScheme: 'file:',
    open: async () => new LocalDirectoryArtifactStore(await mkdtemp(join(tmpdir(), 'artifacts-'))),
    dispose: (store) => rm((store as LocalDirectoryArtifactStore).root, { recursive: true, force: true }),
    plant: (store, key, bytes) => writeFile((store as LocalDirectoryArtifactStore).pathOf(key), bytes),
  });
});

describe('LocalDirectoryArtifactStore', () => {
  it('lays keys out as directories under its root, with no temporary file left', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'artifacts-'));
    try {
      const store = new LocalDirectoryArtifactStore(dir);
      const a = await store.put(new TextEncoder().encode('x'), { extension: '.onnx' });
      const [, prefix, file] = a.key.split('/');
      expect(await readdir(join(dir, 'sha256', prefix))).toEqual([file]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
