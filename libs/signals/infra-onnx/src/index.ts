export * from './onnx-ml.schema';
export * from './onnx-tree.export';
export * from './onnx-tree.import';
export * from './onnx-tree.scorer';
export * from './onnx-model.runtime';
