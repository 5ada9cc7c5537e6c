export * from './bars';
export * from './bars-csv.parser';
export * from './bar-batch';
export * from './calendar-gaps';
export * from './content-hash';
export * from './decimal';
export * from './iso-time';
export * from './trading-calendar';
