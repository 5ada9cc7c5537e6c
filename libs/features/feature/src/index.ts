export * from './feature-set.registry';
export * from './feature-refresh.service';
export * from './bars-ingested.handler';
export * from './features.service';
export * from './features.controller';
export * from './features.module';
export * from './training-dataset.builder';
export * from './features.definition';
