export * from './dist/cjs/compat/ssimjs';
export { default } from './dist/cjs/compat/ssimjs';
