/**
 * The GloVe words that name each fashion-scenes class; a class vector is the mean of its words'
 * vectors (multi-word names averaged, as in the paper). Chosen by looking at each word's nearest
 * neighbours in GloVe 6B:
 * - 't-shirt/top': 'top' is left out: in GloVe it means rank/position (neighbours: leading,
 *   ranking, best), not a garment; 't-shirt' has the clothing neighbours (shirt, jeans, sweater).
 * - singular + plural where both are common (sandal/sandals, sneaker/sneakers); synonyms where the
 *   class covers them (pullover + sweater, trousers + pants, coat + jacket, bag + handbag).
 * - 'ankle boot' is the mean of 'ankle', 'boot' and 'boots' ('boot' alone is also a car boot).
 * - 'background' (the word, as ZS3Net embeds the background class) for the optional background row.
 */
export const CLASS_WORDS: Record<string, string[]> = {
  background: ['background'],
  't-shirt/top': ['t-shirt', 't-shirts'],
  trouser: ['trousers', 'trouser', 'pants'],
  pullover: ['pullover', 'sweater'],
  dress: ['dress', 'dresses'],
  coat: ['coat', 'jacket'],
  sandal: ['sandal', 'sandals'],
  shirt: ['shirt', 'shirts'],
  sneaker: ['sneaker', 'sneakers'],
  bag: ['bag', 'handbag'],
  'ankle boot': ['ankle', 'boot', 'boots'],
};
