/**
 * Class ids of fashion-scenes: 0 is background, 1..10 are the Fashion-MNIST classes in their
 * label order (Fashion-MNIST label l is class l + 1 here).
 */
export const FASHION_CLASSES: string[] = [
  'background',
  't-shirt/top',
  'trouser',
  'pullover',
  'dress',
  'coat',
  'sandal',
  'shirt',
  'sneaker',
  'bag',
  'ankle boot',
];

/** The ten item classes (FASHION_CLASSES without background); row i is class id i + 1. */
export const FASHION_ITEM_CLASSES: string[] = FASHION_CLASSES.slice(1);

/** Label value of pixels to ignore (unseen classes in training scenes). */
export const IGNORE_INDEX = 255;

/** Background class id. */
export const BACKGROUND = 0;

/**
 * The default unseen classes (3 of 10). Each has seen relatives that share its attributes and
 * its place in an outfit, so knowledge can transfer: pullover (shirt, coat, t-shirt/top are seen:
 * upper body, sleeves), dress (t-shirt/top above, trouser in the same middle band, coat for
 * length), sandal (sneaker and ankle boot: footwear, low in the scene). See the README.
 */
export const DEFAULT_UNSEEN: string[] = ['pullover', 'dress', 'sandal'];

/**
 * Resolves class names or ids (1..10) to sorted class ids, with a clear error for unknown names,
 * background, or duplicates.
 */
export function classIds(names: ReadonlyArray<string | number>, what = 'class'): number[] {
  const ids = new Set<number>();
  for (const n of names) {
    let id: number;
    if (typeof n === 'number') {
      if (!Number.isInteger(n) || n < 1 || n > 10) throw new Error(`${what} id ${n} is not an item class id (1..10)`);
      id = n;
    } else {
      id = FASHION_CLASSES.indexOf(n);
      if (id < 0) throw new Error(`unknown ${what} '${n}'; known: ${FASHION_ITEM_CLASSES.join(', ')}`);
      if (id === BACKGROUND) throw new Error(`background cannot be an unseen ${what}`);
    }
    if (ids.has(id)) throw new Error(`${what} '${FASHION_CLASSES[id]}' is listed twice`);
    ids.add(id);
  }
  return [...ids].sort((a, b) => a - b);
}
