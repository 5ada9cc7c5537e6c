export * from './synthetic.types';
export * from './synthetic.prng';
export * from './synthetic.calendar';
export * from './regime.markov';
export * from './synthetic.generator';
export * from './synthetic.csv';
