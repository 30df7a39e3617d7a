/**
 * The Node entry of @sign/data: the Fashion-MNIST subset shipped in the package's `assets/`
 * folder, idx and PNG files, scenes drawn from the subset without passing it, and the
 * fashion-scenes dataset plug-in reading from the file system. The rest is in the browser-safe
 * main entry `@sign/data`.
 */
export { assetsDir, subsetDir } from './node/assets';
export {
  readIdxFile,
  writeIdxFile,
  writePng,
  loadFashionMnist,
  makeFashionScenes,
  makeFashionScenesWithItems,
  fashionScenesDataset,
} from './node/files';
