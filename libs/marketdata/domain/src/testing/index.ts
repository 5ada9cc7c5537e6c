export * from './bars-equivalence.cases';
