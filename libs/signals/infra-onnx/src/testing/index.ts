/** Test helpers of the ONNX adapter (never imported by production code): random tree ensembles and rows. */
export * from './random-trees';
