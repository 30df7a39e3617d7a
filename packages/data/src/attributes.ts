/**
 * The hand-made visual attribute table of fashion-scenes (attribute-based zero-shot learning, as
 * in Lampert et al.'s "attribute-based classification"): one row per class, values 0 (no),
 * 0.5 (some items / partly) or 1 (yes). The last attribute, `background`, is set only in the
 * optional background row.
 */
export interface AttributeInfo {
  name: string;
  description: string;
}

export const FASHION_ATTRIBUTES: AttributeInfo[] = [
  { name: 'upper-body', description: 'worn on the torso' },
  { name: 'lower-body', description: 'worn on the hips and legs' },
  { name: 'footwear', description: 'worn on the feet' },
  { name: 'carried', description: 'carried, not worn' },
  { name: 'sleeves', description: 'has sleeves' },
  { name: 'long-sleeves', description: 'sleeves reach the wrist' },
  { name: 'collar', description: 'has a collar' },
  { name: 'front-opening', description: 'opens down the front (buttons or zip)' },
  { name: 'outerwear', description: 'worn over other clothes' },
  { name: 'warm-fabric', description: 'thick or knitted fabric' },
  { name: 'one-piece', description: 'one garment covering torso and legs' },
  { name: 'two-legs', description: 'separate tubes for the two legs' },
  { name: 'below-hip', description: 'reaches below the hips' },
  { name: 'open-toe', description: 'toes uncovered, held by straps' },
  { name: 'ankle-high', description: 'rises to or above the ankle' },
  { name: 'laces', description: 'fastened with laces' },
  { name: 'heel', description: 'raised heel' },
  { name: 'handle', description: 'has a handle or shoulder strap' },
  { name: 'background', description: 'not an item (only the background row)' },
];

/** Non-zero attribute values per class (every other attribute is 0). */
export const FASHION_ATTRIBUTE_VALUES: Record<string, Record<string, number>> = {
  background: { background: 1 },
  't-shirt/top': { 'upper-body': 1, sleeves: 0.5 },
  trouser: { 'lower-body': 1, 'two-legs': 1, 'below-hip': 1 },
  pullover: { 'upper-body': 1, sleeves: 1, 'long-sleeves': 1, outerwear: 0.5, 'warm-fabric': 1 },
  dress: { 'upper-body': 1, 'lower-body': 1, sleeves: 0.5, 'one-piece': 1, 'below-hip': 1 },
  coat: { 'upper-body': 1, sleeves: 1, 'long-sleeves': 1, collar: 1, 'front-opening': 1, outerwear: 1, 'warm-fabric': 1, 'below-hip': 0.5 },
  sandal: { footwear: 1, 'open-toe': 1, heel: 0.5 },
  shirt: { 'upper-body': 1, sleeves: 1, 'long-sleeves': 1, collar: 1, 'front-opening': 1 },
  sneaker: { footwear: 1, laces: 1 },
  bag: { carried: 1, handle: 1 },
  'ankle boot': { footwear: 1, 'ankle-high': 1, laces: 0.5, heel: 1 },
};

/** The attribute vector of a class (length FASHION_ATTRIBUTES.length, not normalised). */
export function attributeVector(className: string): number[] {
  const values = FASHION_ATTRIBUTE_VALUES[className];
  if (!values) throw new Error(`no attribute row for class '${className}'; known: ${Object.keys(FASHION_ATTRIBUTE_VALUES).join(', ')}`);
  const names = FASHION_ATTRIBUTES.map((a) => a.name);
  for (const k of Object.keys(values)) {
    if (!names.includes(k)) throw new Error(`class '${className}' sets unknown attribute '${k}'`);
  }
  return names.map((n) => values[n] ?? 0);
}
