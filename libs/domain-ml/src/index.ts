export * from './tree-ensemble';
