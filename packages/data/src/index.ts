// The main entry: pure, browser-safe (no Node built-ins). Files (the shipped Fashion-MNIST
// subset, idx and PNG files) are in '@sign/data/node'.
export { FASHION_CLASSES, FASHION_ITEM_CLASSES, DEFAULT_UNSEEN, IGNORE_INDEX, BACKGROUND, classIds } from './classes';
export { parseIdx, encodeIdx, decodeIdx, gzipIdx, MAX_IDX_BYTES } from './idx';
export type { IdxArray, ReadIdxOptions } from './idx';
export { FASHION_MNIST_FILES, DEBIAN_FASHION_MNIST_DIR, fashionMnistSplit } from './fashion-mnist';
export type { FashionMnistSplit } from './fashion-mnist';
export { makeFashionScenes, makeFashionScenesWithItems, resizeBilinear } from './scenes';
export type { SceneBatch, SceneLayout, FashionScenesOptions, PlacedItem } from './scenes';
export { FASHION_ATTRIBUTES, FASHION_ATTRIBUTE_VALUES, attributeVector } from './attributes';
export type { AttributeInfo } from './attributes';
export { CLASS_WORDS } from './glove-words';
export { fashionEmbeddings, fashionGloveTable } from './embeddings';
export type { FashionEmbeddingSource, FashionEmbeddingOptions } from './embeddings';
export { FASHION_PALETTE, IGNORE_COLOR, UNKNOWN_COLOR, RgbaImage, colorizeLabels, greyToImage, drawLegend, encodePng } from './image';
export type { Rgb } from './image';
export { GLYPH_W, GLYPH_H, glyph, textWidth } from './font';
export { createFashionScenesDataset, fashionScenesSchema } from './dataset';
export type { FashionScenesConfig, FashionScenesDatasetOptions } from './dataset';
