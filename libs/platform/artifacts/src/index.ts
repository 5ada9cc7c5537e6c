export * from './local-directory-artifact.store';
