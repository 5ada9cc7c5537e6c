export * from './local-directory-artifact.store';
export * from './object-store-artifact.store';
export * from './artifact-stores';
