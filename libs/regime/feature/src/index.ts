export * from './regime.repository';
export * from './regime.service';
export * from './regime.handlers';
export * from './regime.controller';
export * from './regime.module';
export * from './regime.definition';
export * from './regime-fit.worker';
