export * from './tree-ensemble';
export * from './feature-binning';
export * from './gbdt.trainer';
export * from './tree-shap';
export * from './classification.metrics';
export * from './logistic-regression';
export * from './walk-forward';
export * from './compiled-ensemble';
