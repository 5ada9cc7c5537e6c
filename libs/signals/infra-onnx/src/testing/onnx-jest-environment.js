// Jest environment for specs that run onnxruntime-node: the native addon returns typed arrays of Node's own realm,
// and onnxruntime-common checks them with `instanceof` against the test sandbox's constructors, which differ.
// Sharing Node's typed-array constructors with the sandbox makes both sides agree. Use with the docblock
//   /** @jest-environment ./libs/signals/infra-onnx/src/testing/onnx-jest-environment.js */
const { TestEnvironment } = require('jest-environment-node');

const SHARED = [
  'ArrayBuffer',
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
];

class OnnxTestEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED) this.global[name] = globalThis[name];
  }
}

module.exports = OnnxTestEnvironment;
