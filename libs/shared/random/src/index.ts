export * from './synthetic.prng';
