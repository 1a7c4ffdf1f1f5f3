export { readIdx, type IdxArray } from './idx.ts';
export {
  inspectImage,
  grayToPng,
  MAX_IMAGE_BYTES,
  MAX_IMAGE_PIXELS,
  type ImageInfo,
} from './images.ts';
export {
  writeItems,
  type ImageCandidate,
  type ImportIssue,
  type WriteResult,
} from './item-writer.ts';
export {
  importFashionMnist,
  FASHION_MNIST_CLASSES,
  FASHION_MNIST_DIR,
  type FashionMnistOptions,
} from './fashion-mnist.ts';
export { importFolder, type FolderImportOptions } from './folder.ts';
export type { ImportProgress, ImportSummary, ProgressListener } from './progress.ts';
export { exportImages, type ExportImagesOptions, type ExportSummary } from './export-images.ts';
export { npyBytes, npzBytes, type NpyArray } from './npz.ts';
