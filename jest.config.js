// Three jest projects: `unit` (*.spec.ts, no servers), `int` (*.int-spec.ts, real NATS / MongoDB-compatible servers) and
// `peer` (*.peer-spec.ts, parity with the Python peers).
const fs = require('node:fs');
const path = require('node:path');
const swc = JSON.parse(fs.readFileSync(path.join(__dirname, '.swcrc'), 'utf8'));
delete swc.$schema;

/** Packages under node_modules that ship ES modules ("type": "module"); Jest compiles these (and only these) to CJS. */
function esmPackages() {
  const root = path.join(__dirname, 'node_modules');
  const out = [];
  const visit = (dir, name) => {
    try {
      if (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).type === 'module')
        out.push(name.replace(/[.]/g, '\\.'));
    } catch {
      /* not a package */
    }
  };
  for (const e of fs.existsSync(root) ? fs.readdirSync(root) : []) {
    if (e.startsWith('@'))
      for (const s of fs.readdirSync(path.join(root, e))) visit(path.join(root, e, s), `${e}/${s}`);
    else if (!e.startsWith('.')) visit(path.join(root, e), e);
  }
  return out.length ? out : ['@nestjs'];
}
const common = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['@swc/jest', swc],
    // NestJS 12 ships ESM only; Node 20 runs it through require(esm) but Jest's runtime cannot, so compile it to CJS.
    '^.+/node_modules/.+\\.js$': [
      '@swc/jest',
      { ...swc, jsc: { ...swc.jsc, parser: { syntax: 'ecmascript' } }, sourceMaps: false },
    ],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esmPackages().join('|')})/)`],
  moduleNameMapper: {
    '^@strata/([a-z]+)-([a-z0-9-]+)/testing$': '<rootDir>/libs/$1/$2/src/testing/index.ts',
    '^@strata/([a-z]+)-([a-z0-9-]+)$': '<rootDir>/libs/$1/$2/src/index.ts',
  },
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  // The Python peers venv holds package.json files of Jupyter extensions; keep them out of Jest's module map.
  modulePathIgnorePatterns: ['<rootDir>/bench/peers/\\.venv/'],
  setupFiles: ['<rootDir>/test/jest.setup.ts'],
  // Validates every message the buses send against docs/asyncapi.json; a mismatch fails the running test.
  setupFilesAfterEnv: ['<rootDir>/test/jest.after-env.ts'],
};
module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,test,deploy}/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'int',
      testMatch: ['<rootDir>/{apps,libs,test}/**/*.int-spec.ts'],
      slowTestThreshold: 30,
    },
    // Parity with the Python peers (TA-Lib, LightGBM + onnxmltools) from bench/peers/setup.sh; REQUIRE_PEERS=1 (.ci/run)
    // turns a missing venv into a failure.
    {
      ...common,
      displayName: 'peer',
      testMatch: ['<rootDir>/{apps,libs,test}/**/*.peer-spec.ts'],
      slowTestThreshold: 30,
    },
  ],
};
