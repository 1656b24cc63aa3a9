export * from './dist/cjs/compat/image-ssim';
