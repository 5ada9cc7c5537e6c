export * from './dataquality.contracts';
