export * from './bars.repository';
export * from './corporate-actions.adjustment';
export * from './columnar.formats';
export * from './market-data.service';
export * from './market-data.controller';
export * from './market-data.module';
export * from './sample-data.loader';
